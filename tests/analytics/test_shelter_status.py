"""Shelter congestion (the issue's thresholds), suitability and expected arrivals."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
import shapely

from analytics import shelter_status
from analytics.hazards import ZoneIndex
from analytics.shelter_status import board, congestion_level, expected_arrivals, suitability


@pytest.mark.parametrize(
    ("heads", "capacity", "level"),
    [
        (0, 100, "vacant"),
        (29, 100, "vacant"),
        (30, 100, "somewhat"),  # 30 % is やや混雑
        (59, 100, "somewhat"),
        (60, 100, "crowded"),
        (79, 100, "crowded"),
        (80, 100, "full"),  # 満 from 80 %
        (150, 100, "full"),
        (None, 100, "vacant"),
        (10, None, "unknown"),
        (10, 0, "unknown"),
    ],
)
def test_congestion_levels(heads, capacity, level):
    assert congestion_level(heads, capacity) == level


def test_thresholds_are_configurable():
    assert congestion_level(50, 100, (0.1, 0.2, 0.5)) == "full"


def shelters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "lat": [37.475, 37.60, 37.60],
            "lon": [139.925, 139.90, 139.91],
            "elevation_m": [180.0, 230.0, 240.0],
            "hazard_flood": [True, True, False],
            "hazard_landslide": [True, False, True],
            "capacity": [100, 200, None],
            "head_count": [85, 10, 5],
            "is_open": [True, True, False],
        }
    )


def test_suitability_names_every_reason():
    zone = pd.DataFrame(
        {
            "id": [1],
            "kind": ["flood"],
            "depth_min_m": [0.5],
            "depth_max_m": [3.0],
            "geom_wkb": [shapely.to_wkb(shapely.box(139.90, 37.45, 139.95, 37.50))],
        }
    )
    reasons = suitability(shelters(), ("flood",), ZoneIndex(zone), low_elevation_m=200.0)
    assert reasons.tolist() == [
        ["in_zone:flood", "low_for_flood"],
        [],
        ["no_flag:flood"],
    ]
    assert suitability(shelters(), ()).map(len).sum() == 0  # no warning: nothing is unsuitable


def test_board_adds_occupancy_congestion_and_suitability():
    out = board(shelters(), ("landslide",))
    assert out["congestion"].tolist() == ["full", "vacant", "unknown"]
    assert out["suitable"].tolist() == [True, False, True]
    assert out["occupancy"].iloc[0] == pytest.approx(0.85)


def test_expected_arrivals_prefers_the_named_shelter():
    got = expected_arrivals([1, 2, 3], [2, None, None, 3], [1, 1, 2, 2])
    assert got.to_dict() == {1: 1, 2: 2, 3: 1}


def test_docstring_examples():
    assert doctest.testmod(shelter_status).failed == 0
