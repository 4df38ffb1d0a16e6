"""Point-in-zone lookups, pinned to a per-point loop over shapely's ``Polygon.intersects``."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import shapely

from analytics import zone_lookup
from analytics.zone_lookup import ZoneIndex


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
    expected_depth, expected_ids, expected_any = [], [], []
    for a, b in zip(lat, lon, strict=True):
        p = shapely.Point(b, a)
        hits = [i for i, poly in enumerate(polygons) if poly.intersects(p)]
        floods = [depth_of[i] for i in hits if frame["kind"][i] == "flood"]
        expected_depth.append(max(floods, default=0.0))
        expected_ids.append(frame["id"][max(hits, key=lambda i: depth_of[i])] if hits else -1)
        expected_any.append(any(frame["id"][i] in (12, 14) for i in hits))
    np.testing.assert_allclose(index.flood_depth(lat, lon), expected_depth)
    np.testing.assert_array_equal(index.zone_ids(lat, lon), expected_ids)
    np.testing.assert_array_equal(index.within_any(lat, lon, [12, 14]), expected_any)
    assert sum(expected_any) > 0 and max(expected_depth) == 20.0


def test_no_zones_means_no_hits():
    index = ZoneIndex(zones().iloc[0:0])
    assert index.flood_depth([37.5], [139.9]).tolist() == [0.0]
    assert index.kinds_at([37.5], [139.9]) == [set()]


def test_docstring_examples():
    assert doctest.testmod(zone_lookup).failed == 0
