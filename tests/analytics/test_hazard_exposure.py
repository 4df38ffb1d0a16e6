"""Hazard exposure: worst zone and nearest suitable open shelter per citizen."""

from __future__ import annotations

import math

import geopandas
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from analytics.hazard_exposure import classify_citizens, classify_citizens_naive
from analytics.hazards import hazards_for_warnings, zone_levels
from bosai.vocab import HAZARD_KINDS

# Two overlapping flood zones (0.5–3 m and 3–5 m) and a landslide zone with a special zone inside.
ZONES = geopandas.GeoDataFrame(
    {
        "kind": ["flood", "flood", "landslide", "landslide"],
        "rank_code": ["2", "3", "1", "2"],
        "rank_label": [
            "0.5m以上3.0m未満",
            "3.0m以上5.0m未満",
            "土砂災害警戒区域",
            "土砂災害特別警戒区域",
        ],
        "depth_min_m": [0.5, 3.0, None, None],
        "depth_max_m": [3.0, 5.0, None, None],
    },
    geometry=[
        box(139.90, 37.48, 139.92, 37.50),
        box(139.91, 37.48, 139.92, 37.49),
        box(139.95, 37.50, 139.96, 37.51),
        box(139.952, 37.502, 139.954, 37.504),
    ],
    crs="EPSG:4326",
)


def shelter(id_: int, lat: float, lon: float, *, is_open=True, hazards=(), elevation=200.0):
    return {
        "id": id_,
        "lat": lat,
        "lon": lon,
        "is_open": is_open,
        "elevation_m": elevation,
        **{f"hazard_{kind}": kind in hazards for kind in HAZARD_KINDS},
    }


SHELTERS = pd.DataFrame(
    [
        shelter(1, 37.4850, 139.9150, hazards=("landslide", "inland_flood")),  # in deep water
        shelter(2, 37.4850, 139.9160, is_open=False, hazards=("flood",)),  # closed
        shelter(3, 37.4950, 139.9300, hazards=("flood", "earthquake"), elevation=230.5),
        shelter(4, 37.5100, 139.9700, hazards=("landslide", "inland_flood", "flood")),
    ]
)
CITIZENS = pd.DataFrame(
    {
        "id": [101, 102, 103, 104, 105, 106],
        "lat": [37.485, 37.495, 37.503, 37.5055, 37.470, None],
        "lon": [139.915, 139.905, 139.953, 139.9555, 139.915, 139.915],
    }
)


def test_worst_zone_and_nearest_suitable_open_shelter_under_a_flood_warning():
    result = classify_citizens(CITIZENS, SHELTERS, ZONES, ["04"])  # 洪水警報
    assert list(result["id"]) == [101, 102, 103, 104, 105, 106]
    # 101 is in both flood zones: the deeper one wins. Landslide zones do not count for 洪水.
    assert result.loc[0, ["zone_kind", "zone_rank", "depth_min_m", "zone_level"]].tolist() == [
        "flood",
        "3.0m以上5.0m未満",
        3.0,
        3,
    ]
    assert result.loc[1, ["zone_rank", "zone_level"]].tolist() == ["0.5m以上3.0m未満", 2]
    assert result.loc[2, "zone_level"] == 0 and pd.isna(result.loc[2, "zone_kind"])
    # Shelter 1 is nearest to 101 but not for floods, shelter 2 is closed: shelter 3 it is.
    assert result.loc[0, "shelter_id"] == 3
    expected = (
        6_371_008.8
        * 2
        * math.asin(
            math.sqrt(
                math.sin(math.radians(0.01) / 2) ** 2
                + math.cos(math.radians(37.485))
                * math.cos(math.radians(37.495))
                * math.sin(math.radians(0.015) / 2) ** 2
            )
        )
    )
    assert result.loc[0, "shelter_distance_m"] == pytest.approx(expected, rel=1e-9)
    assert result.loc[0, "shelter_elevation_m"] == 230.5
    assert pd.isna(result.loc[5, "shelter_id"]) and np.isnan(result.loc[5, "shelter_distance_m"])
    assert result.loc[5, "zone_level"] == 0  # no position: nothing known


def test_heavy_rain_counts_landslide_zones_and_needs_both_flags():
    result = classify_citizens(CITIZENS, SHELTERS, ZONES, ["03"])  # 大雨警報
    assert result.loc[0, "zone_level"] == 0  # flood zones do not count for 大雨
    assert result.loc[2, ["zone_kind", "zone_rank", "zone_level"]].tolist() == [
        "landslide",
        "土砂災害特別警戒区域",
        3,
    ]
    assert result.loc[3, ["zone_rank", "zone_level"]].tolist() == ["土砂災害警戒区域", 2]
    # Suitable for landslide and inland flooding: shelters 1 and 4.
    assert set(result["shelter_id"].dropna()) <= {1, 4}
    assert result.loc[0, "shelter_id"] == 1 and result.loc[2, "shelter_id"] == 4


def test_several_warnings_need_every_hazard_and_count_every_zone_kind():
    result = classify_citizens(CITIZENS, SHELTERS, ZONES, ["03", "04", "14"])
    assert set(result["shelter_id"].dropna()) == {4}  # the only one for all three hazards
    assert result["zone_kind"].tolist()[:4] == ["flood", "flood", "landslide", "landslide"]


def test_no_warning_counts_every_zone_and_any_open_shelter():
    result = classify_citizens(CITIZENS, SHELTERS, ZONES)
    assert result["zone_level"].tolist() == [3, 2, 3, 2, 0, 0]
    assert result.loc[0, "shelter_id"] == 1  # the closed shelter 2 is never chosen
    assert result.loc[4, "zone_level"] == 0


def test_warnings_about_no_hazard_count_no_zone():
    result = classify_citizens(CITIZENS, SHELTERS, ZONES, ["14"])  # 雷注意報
    assert result["zone_level"].tolist() == [0] * 6
    assert result.loc[0, "shelter_id"] == 1


def test_no_suitable_shelter_is_na_not_a_guess():
    closed = SHELTERS.assign(is_open=False)
    result = classify_citizens(CITIZENS, closed, ZONES, ["04"])
    assert result["shelter_id"].isna().all() and result["shelter_distance_m"].isna().all()
    assert result["zone_level"].tolist()[:2] == [3, 2]


def test_a_home_on_the_boundary_is_in_the_zone():
    on_edge = pd.DataFrame({"id": [1], "lat": [37.49], "lon": [139.90]})
    assert classify_citizens(on_edge, SHELTERS, ZONES, ["04"])["zone_level"].tolist() == [2]


def test_empty_inputs():
    none = pd.DataFrame({"id": [], "lat": [], "lon": []})
    assert classify_citizens(none, SHELTERS, ZONES, ["04"]).empty
    no_zones = ZONES.iloc[0:0]
    result = classify_citizens(CITIZENS, SHELTERS.iloc[0:0], no_zones, ["04"])
    assert result["zone_level"].tolist() == [0] * 6 and result["shelter_id"].isna().all()


def test_hazards_and_levels():
    assert hazards_for_warnings(["04", "03"]) == ("flood", "landslide", "inland_flood")
    assert hazards_for_warnings(["14", "15"]) == ()
    assert zone_levels(ZONES).tolist() == [2.0, 3.0, 2.0, 3.0]
    shallow = pd.DataFrame({"kind": ["flood", "flood"], "depth_min_m": [0.0, 20.0]})
    assert zone_levels(shallow).tolist() == [1.0, 3.0]


def _random_case(seed: int, citizens: int = 1_500):
    rng = np.random.default_rng(seed)
    zones = []
    for number in range(60):
        x, y = rng.uniform(139.85, 140.0), rng.uniform(37.40, 37.55)
        radius = rng.uniform(0.002, 0.02)
        kind = ("flood", "landslide", "inland_flood", "storm_surge")[number % 4]
        depth = rng.choice([0.0, 0.5, 3.0, 5.0]) if kind != "landslide" else None
        zones.append(
            {
                "kind": kind,
                "rank_code": str(rng.choice(["1", "2"])),
                "rank_label": f"zone {number}",
                "depth_min_m": depth,
                "depth_max_m": None,
                "geometry": Point(x, y).buffer(radius, 12),
            }
        )
    shelters = pd.DataFrame(
        [
            shelter(
                number,
                rng.uniform(37.40, 37.55),
                rng.uniform(139.85, 140.0),
                is_open=bool(rng.random() < 0.7),
                hazards=tuple(k for k in HAZARD_KINDS if rng.random() < 0.6),
                elevation=float(rng.uniform(150, 600)),
            )
            for number in range(1, 81)
        ]
    )
    people = pd.DataFrame(
        {
            "id": np.arange(citizens) + 1000,
            "lat": rng.uniform(37.39, 37.56, citizens),
            "lon": rng.uniform(139.84, 140.01, citizens),
        }
    )
    people.loc[::97, "lat"] = np.nan
    return people, shelters, geopandas.GeoDataFrame(zones, crs="EPSG:4326")


@pytest.mark.parametrize("warnings", [(), ("04",), ("03",), ("03", "04"), ("08",)])
@pytest.mark.parametrize("seed", [1, 2])
def test_vectorised_equals_the_per_citizen_loop(seed, warnings):
    people, shelters, zones = _random_case(seed)
    fast = classify_citizens(people, shelters, zones, warnings)
    slow = classify_citizens_naive(people, shelters, zones, warnings)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["zone_level"].gt(0).sum() > 100  # the case exercises zones …
    if warnings != ("08",):
        assert fast["shelter_id"].notna().sum() > 1_000  # … and shelters


def test_citizens_with_any_index_come_back_in_input_order():
    people, shelters, zones = _random_case(3, citizens=200)
    shuffled = people.sample(frac=1.0, random_state=1).set_index("id", drop=False)
    result = classify_citizens(shuffled, shelters, zones, ["04"])
    assert result["id"].tolist() == shuffled["id"].tolist()
    by_id = classify_citizens(people, shelters, zones, ["04"]).set_index("id")
    pd.testing.assert_frame_equal(result.set_index("id"), by_id.loc[shuffled["id"]])


def test_zones_may_be_a_plain_dataframe_with_a_geometry_column():
    plain = pd.DataFrame(ZONES.drop(columns="geometry")).assign(geometry=list(ZONES.geometry))
    assert not isinstance(plain, geopandas.GeoDataFrame)
    pd.testing.assert_frame_equal(
        classify_citizens(CITIZENS, SHELTERS, plain, ["03", "04"]),
        classify_citizens(CITIZENS, SHELTERS, ZONES, ["03", "04"]),
    )
