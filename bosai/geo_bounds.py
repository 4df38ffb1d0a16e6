"""Japan's extent, for telling a coordinate in Japan from a swapped or foreign one.

A leaf module: importers check positions with it, without loading the database layer.

>>> in_japan(37.49, 139.93), in_japan(139.93, 37.49)
(True, False)
"""

from __future__ import annotations

#: Japan's extent in degrees (WGS84), remote islands included: 沖ノ鳥島 (20.4° N) to
#: 択捉島 (45.6° N), 与那国島 (122.9° E) to 南鳥島 (153.9° E).
JAPAN_BOUNDS = {"south": 20.0, "north": 46.0, "west": 122.0, "east": 154.0}


def in_japan(lat: float, lon: float) -> bool:
    """True when (``lat``, ``lon``) lies within :data:`JAPAN_BOUNDS` (edges included)."""
    b = JAPAN_BOUNDS
    return b["south"] <= lat <= b["north"] and b["west"] <= lon <= b["east"]
