"""Circle targeting, pinned to pyproj's geodesic distance (WGS84 ellipsoid)."""

from __future__ import annotations

import doctest

import numpy as np
import pyproj

from analytics import notification_targets
from analytics.notification_targets import distance_m, in_circle


def test_distance_agrees_with_the_geodesic_within_half_a_percent():
    rng = np.random.default_rng(1)
    lat = 37.4 + rng.random(500) * 0.2
    lon = 139.8 + rng.random(500) * 0.3
    # Reference: pyproj.Geod(ellps="WGS84").inv(lon0, lat0, lon, lat) — the haversine uses a
    # sphere, so it may differ by up to ~0.5 % from the ellipsoid.
    _, _, geodesic = pyproj.Geod(ellps="WGS84").inv(
        np.full(500, 139.93), np.full(500, 37.495), lon, lat
    )
    np.testing.assert_allclose(distance_m(lat, lon, 37.495, 139.93), geodesic, rtol=5e-3)


def test_in_circle_is_inclusive_at_the_radius():
    lat = np.array([37.495, 37.495 + 1000 / 111_195])
    lon = np.array([139.93, 139.93])
    d = distance_m(lat, lon, 37.495, 139.93)
    assert in_circle(lat, lon, 37.495, 139.93, float(d[1])).tolist() == [True, True]
    assert in_circle(lat, lon, 37.495, 139.93, float(d[1]) - 0.01).tolist() == [True, False]


def test_docstring_examples():
    assert doctest.testmod(notification_targets).failed == 0
