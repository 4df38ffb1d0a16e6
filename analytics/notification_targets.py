"""Choosing the citizens a push notification is for, from their home points (pure functions).

The result is only ever a set of ids handed to :func:`sql.policy.notification_recipients`,
which applies consent and audits; pages show only the count.

>>> import numpy as np
>>> lat, lon = np.array([37.495, 37.50, 37.60]), np.array([139.93, 139.93, 139.93])
>>> in_circle(lat, lon, 37.495, 139.93, 1_000).tolist()
[True, True, False]
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance (haversine) from each point to (lat0, lon0), in metres."""
    p1, p2 = np.radians(lat), np.radians(lat0)
    dlat = p2 - p1
    dlon = np.radians(lon0) - np.radians(lon)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def in_circle(
    lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float, radius_m: float
) -> np.ndarray:
    """True for the points within ``radius_m`` of the centre."""
    return distance_m(np.asarray(lat, float), np.asarray(lon, float), lat0, lon0) <= radius_m
