"""Which hazard zone a point lies in: vectorised point-in-polygon with shapely's STRtree.

Zones come as a DataFrame with ``geom_wkb`` (WGS84) and, for floods, ``depth_min_m`` /
``depth_max_m``; a point in several zones takes the deepest.

>>> import pandas as pd, shapely
>>> square = shapely.to_wkb(shapely.box(139.9, 37.4, 140.0, 37.5))
>>> zones = pd.DataFrame({"id": [7], "kind": ["flood"], "depth_min_m": [0.5],
...                       "depth_max_m": [3.0], "geom_wkb": [square]})
>>> index = ZoneIndex(zones)
>>> index.flood_depth([37.45, 37.6], [139.95, 139.95]).tolist()
[3.0, 0.0]
>>> index.zone_ids([37.45, 37.6], [139.95, 139.95]).tolist()
[7, -1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely


class ZoneIndex:
    """An STRtree over hazard-zone polygons, built once per set of zones."""

    def __init__(self, zones: pd.DataFrame):
        self.zones = zones.reset_index(drop=True)
        if len(self.zones):
            self.geoms = shapely.from_wkb(self.zones["geom_wkb"].to_numpy())
        else:
            self.geoms = np.empty(0, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        depth = self.zones.get("depth_max_m")
        if depth is None:
            depth = pd.Series(np.nan, index=self.zones.index)
        fallback = self.zones.get("depth_min_m", pd.Series(np.nan, index=self.zones.index))
        # An open-ended top rank (e.g. "20 m or more") has no maximum: use its minimum.
        self.depth = depth.fillna(fallback).fillna(0.0).to_numpy(dtype=float)
        self.kind = self.zones.get("kind", pd.Series("", index=self.zones.index)).to_numpy()
        self.ids = self.zones.get("id", pd.Series(self.zones.index)).to_numpy()

    def _hits(self, lat: Sequence[float], lon: Sequence[float], kind: str | None):
        points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
        if len(self.geoms) == 0 or len(points) == 0:
            return points, np.empty(0, int), np.empty(0, int)
        point_idx, zone_idx = self.tree.query(points, predicate="intersects")
        if kind is not None:
            keep = self.kind[zone_idx] == kind
            point_idx, zone_idx = point_idx[keep], zone_idx[keep]
        return points, point_idx, zone_idx

    def flood_depth(self, lat: Sequence[float], lon: Sequence[float]) -> np.ndarray:
        """Deepest expected flood depth (m) at each point; 0 outside every flood zone."""
        points, point_idx, zone_idx = self._hits(lat, lon, "flood")
        out = np.zeros(len(points))
        if len(point_idx):
            np.maximum.at(out, point_idx, self.depth[zone_idx])
        return out

    def zone_ids(
        self, lat: Sequence[float], lon: Sequence[float], kind: str | None = None
    ) -> np.ndarray:
        """Id of the (deepest) zone each point lies in, -1 where none."""
        points, point_idx, zone_idx = self._hits(lat, lon, kind)
        out = np.full(len(points), -1, dtype=np.int64)
        if len(point_idx):
            order = np.lexsort((self.depth[zone_idx], point_idx))
            # The last entry per point after sorting by depth is the deepest zone.
            point_sorted, zone_sorted = point_idx[order], zone_idx[order]
            last = np.r_[point_sorted[1:] != point_sorted[:-1], True]
            out[point_sorted[last]] = self.ids[zone_sorted[last]]
        return out

    def kinds_at(self, lat: Sequence[float], lon: Sequence[float]) -> list[set[str]]:
        """The set of zone kinds each point lies in."""
        points, point_idx, zone_idx = self._hits(lat, lon, None)
        out: list[set[str]] = [set() for _ in range(len(points))]
        for p, z in zip(point_idx.tolist(), zone_idx.tolist(), strict=True):
            out[p].add(str(self.kind[z]))
        return out

    def within_any(
        self, lat: Sequence[float], lon: Sequence[float], zone_ids: Sequence[int]
    ) -> np.ndarray:
        """True for each point inside at least one of the zones ``zone_ids``."""
        points, point_idx, zone_idx = self._hits(lat, lon, None)
        out = np.zeros(len(points), dtype=bool)
        if len(point_idx):
            keep = np.isin(self.ids[zone_idx], np.asarray(list(zone_ids)))
            out[point_idx[keep]] = True
        return out
