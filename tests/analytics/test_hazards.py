"""The hazards module: the warning table checked against JMA's code list, and the zone index
pinned to a per-point loop over shapely's ``Polygon.intersects``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from analytics import hazards
from analytics.hazards import HAZARDS_FOR_WARNING, ZoneIndex, hazards_for_warnings
from importers.jma_codes import WARNING_KINDS


def zones() -> pd.DataFrame:
    shapes = [
        ("flood", 0.5, 3.0, shapely.box(139.90, 37.45, 139.95, 37.50)),
        ("flood", 3.0, 5.0, shapely.box(139.92, 37.47, 139.93, 37.48)),  # deeper, inside
        ("flood", 20.0, None, shapely.box(139.80, 37.40, 139.81, 37.41)),  # open-ended top rank
        ("landslide", None, None, shapely.Point(140.0, 37.5).buffer(0.01)),
    ]
    return pd.DataFrame(
        {
            "id": [11, 12, 13, 14],
            "kind": [s[0] for s in shapes],
            "depth_min_m": [s[1] for s in shapes],
            "depth_max_m": [s[2] for s in shapes],
            "geom_wkb": [shapely.to_wkb(s[3]) for s in shapes],
        }
    )


def test_depth_and_zone_ids_equal_a_plain_loop():
    rng = np.random.default_rng(3)
    lat = 37.38 + rng.random(2_000) * 0.15
    lon = 139.78 + rng.random(2_000) * 0.25
    frame = zones()
    index = ZoneIndex(frame)
    polygons = [shapely.from_wkb(w) for w in frame["geom_wkb"]]
    depth_of = [3.0, 5.0, 20.0, 0.0]
    expected_depth, expected_ids, expected_any, expected_members = [], [], [], set()
    for number, (a, b) in enumerate(zip(lat, lon, strict=True)):
        p = shapely.Point(b, a)
        hits = [i for i, poly in enumerate(polygons) if poly.intersects(p)]
        expected_members |= {(number, int(frame["id"][i])) for i in hits}
        floods = [depth_of[i] for i in hits if frame["kind"][i] == "flood"]
        expected_depth.append(max(floods, default=0.0))
        expected_ids.append(frame["id"][max(hits, key=lambda i: depth_of[i])] if hits else -1)
        expected_any.append(any(frame["id"][i] in (12, 14) for i in hits))
    np.testing.assert_allclose(index.flood_depth(lat, lon), expected_depth)
    np.testing.assert_array_equal(index.zone_ids(lat, lon), expected_ids)
    np.testing.assert_array_equal(index.within_any(lat, lon, [12, 14]), expected_any)
    members = index.members(lat, lon)
    assert set(zip(members["point"], members["zone_id"], strict=True)) == expected_members
    assert sum(expected_any) > 0 and max(expected_depth) == 20.0


def test_no_zones_means_no_hits():
    index = ZoneIndex(zones().iloc[0:0])
    assert index.flood_depth([37.5], [139.9]).tolist() == [0.0]
    assert index.kinds_at([37.5], [139.9]) == [set()]


def test_every_heavy_rain_flood_and_storm_surge_code_of_jma_is_in_the_table_and_nothing_else():
    """The table's keys are the importer's 気象警報・注意報 codes, named as JMA names them."""
    by_word = {"大雨": ("landslide", "inland_flood"), "洪水": ("flood",), "高潮": ("storm_surge",)}
    expected = {
        code: hazards_
        for code, name in WARNING_KINDS.items()
        for word, hazards_ in by_word.items()
        if word in name
    }
    assert HAZARDS_FOR_WARNING == expected
    assert {WARNING_KINDS[c] for c in ("33", "38")} == {"大雨特別警報", "高潮特別警報"}


def test_warning_codes_map_to_hazards_in_the_published_order():
    assert hazards_for_warnings(["03", "04", "99"]) == ("flood", "landslide", "inland_flood")
    assert hazards_for_warnings([4, "3"]) == ("flood", "landslide", "inland_flood")  # padded
    assert hazards_for_warnings(["08"]) == ("storm_surge",)
    assert hazards_for_warnings([]) == ()


def test_the_worst_zone_is_the_highest_level_then_the_deepest_then_the_first():
    boxes = {"big": (0, 0, 10, 10), "small": (0, 0, 2, 2)}
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "kind": ["landslide", "flood", "flood", "landslide", "storm_surge"],
            "rank_code": ["1", "2", "3", "2", "2"],
            "depth_min_m": [None, 0.5, 3.0, None, 0.5],
            "geometry": [
                shapely.box(*boxes["big"]),  # level 2
                shapely.box(*boxes["big"]),  # level 2, 0.5 m: deeper than the landslide zone
                shapely.box(*boxes["small"]),  # level 3, 3 m
                shapely.box(*boxes["small"]),  # level 3, special zone: no depth
                shapely.box(*boxes["big"]),  # level 2, 0.5 m, after zone 2: zone 2 wins ties
            ],
        }
    )
    index = ZoneIndex(frame)
    lat = lon = np.array([1.0, 5.0, 20.0, np.nan])
    assert index.zone_ids(lat, lon).tolist() == [3, 2, -1, -1]
    assert index.zone_ids(lat, lon, "landslide").tolist() == [4, 1, -1, -1]
    by_kind = index.worst_zone_by_kind(lat, lon)
    assert {k: v.tolist() for k, v in by_kind.items()} == {
        "landslide": [3, 0, -1, -1],
        "flood": [2, 1, -1, -1],
        "storm_surge": [4, 4, -1, -1],
    }
    # A storm-surge zone with a depth is ranked by its depth, not by its rank code.
    assert hazards.zone_levels(frame).tolist() == [2.0, 2.0, 3.0, 3.0, 2.0]


def test_points_far_from_every_zone_and_hidden_points_cost_nothing_and_hit_nothing():
    index = ZoneIndex(zones())
    far = index.pairs([0.0, 37.45, np.nan], [0.0, 139.91, 139.91])
    assert far[0].tolist() == [1] and sorted(index.zones["id"][far[1]]) == [11]
