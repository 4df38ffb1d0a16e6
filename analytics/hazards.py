"""Hazards: what the JMA warnings in force are about, and which hazard zone a place lies in.

One table, one zone index and one rule for every part that asks — the HQ map's hazard exposure
(:mod:`analytics.hazard_exposure`), the shelter board (:mod:`analytics.shelter_status`), the
people per zone rank (:mod:`analytics.zone_exposure`), the rescue triage (flood depth at a
request) and the notification targets (homes in chosen zones) — so that they agree on one city.

Warnings → hazards
    :data:`HAZARDS_FOR_WARNING` maps the JMA 気象警報・注意報 kind code (as stored from VPWW54,
    :data:`importers.jma_codes.WARNING_KINDS`) to the shelter hazard flags it is about: 大雨 →
    landslide and inland flooding, 洪水 → flood, 高潮 → storm surge — for 注意報, 警報 and
    特別警報 alike. :func:`hazards_for_warnings` collects them for the warnings in force.
Zone level
    :func:`zone_levels`: a zone with a known depth is level 1 below 0.5 m, level 2 from 0.5 m
    (above floor level) and level 3 from 3 m (the second floor floods: moving upstairs is no
    longer safe) — the thresholds of 国土交通省「水害ハザードマップ作成の手引き」. A zone
    without a depth is level 2, or 3 for a 土砂災害特別警戒区域 (rank code 2, or 4 from the basic
    survey).
The worst zone
    Of several zones containing a point, the worst is the one of the highest level; of equal
    levels the one with the greater minimum depth; of equal ones the first (row order). A point
    on a zone's boundary is in the zone.
:class:`ZoneIndex`
    Built once per set of zones; answers for many points at once: :meth:`~ZoneIndex.pairs`
    and :meth:`~ZoneIndex.members` (every zone each point lies in), :meth:`~ZoneIndex.worst_zone`,
    :meth:`~ZoneIndex.worst_zone_by_kind`, :meth:`~ZoneIndex.zone_ids`,
    :meth:`~ZoneIndex.flood_depth`, :meth:`~ZoneIndex.kinds_at` and
    :meth:`~ZoneIndex.within_any`.

Examples
--------
>>> hazards_for_warnings(["04", "03", "14"])  # 洪水警報, 大雨警報, 雷注意報
('flood', 'landslide', 'inland_flood')
>>> import pandas as pd, shapely
>>> zones = pd.DataFrame({"id": [7, 8, 9], "kind": ["flood", "flood", "landslide"],
...     "rank_code": ["2", "3", "2"], "depth_min_m": [0.5, 3.0, None],
...     "depth_max_m": [3.0, 5.0, None],
...     "geometry": [shapely.box(0, 0, 2, 2), shapely.box(0, 0, 1, 1), shapely.box(1.5, 1.5, 3, 3)]})
>>> zone_levels(zones).tolist()
[2.0, 3.0, 3.0]
>>> index = ZoneIndex(zones)
>>> lat, lon = [0.5, 1.8, 5.0], [0.5, 1.8, 5.0]
>>> index.worst_zone(lat, lon).tolist()  # row numbers; -1 outside every zone
[1, 2, -1]
>>> index.worst_zone(lat, lon, kinds=["flood"]).tolist()
[1, 0, -1]
>>> index.zone_ids(lat, lon).tolist(), index.flood_depth(lat, lon).tolist()
([8, 9, -1], [5.0, 3.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely

from bosai.vocab import HAZARD_KINDS

#: JMA 気象警報・注意報 kind code → the shelter hazards it is about. Only the codes of
#: ``importers.jma_codes.WARNING_KINDS`` can be in force (the importer refuses others);
#: 津波警報 come in another telegram (VTSE41) with codes of their own and are not read.
HAZARDS_FOR_WARNING: dict[str, tuple[str, ...]] = {
    "03": ("landslide", "inland_flood"),  # 大雨警報
    "10": ("landslide", "inland_flood"),  # 大雨注意報
    "33": ("landslide", "inland_flood"),  # 大雨特別警報
    "04": ("flood",),  # 洪水警報
    "18": ("flood",),  # 洪水注意報
    "08": ("storm_surge",),  # 高潮警報
    "19": ("storm_surge",),  # 高潮注意報
    "38": ("storm_surge",),  # 高潮特別警報
}
#: Depth (m) from which a zone is level 2 and level 3.
LEVEL_DEPTHS_M = (0.5, 3.0)
#: Rank codes of 土砂災害特別警戒区域 (A33_002: 2 designated, 4 from the basic survey).
SPECIAL_ZONE_CODES = frozenset({"2", "4"})


def hazards_for_warnings(codes: Iterable[str | int]) -> tuple[str, ...]:
    """The shelter hazards the warnings in force are about.

    Parameters
    ----------
    codes
        JMA 気象警報・注意報 kind codes (``"03"``; an integer or unpadded ``"3"`` is read as
        ``"03"``). Codes about no shelter hazard (雷, 強風, 解除 …) add nothing.

    Returns
    -------
    tuple of str
        Hazard flag names in :data:`bosai.vocab.HAZARD_KINDS` order, each once.

    Examples
    --------
    >>> hazards_for_warnings([3, "18"]), hazards_for_warnings(["14", "15"])
    (('flood', 'landslide', 'inland_flood'), ())
    """
    wanted = {h for code in codes for h in HAZARDS_FOR_WARNING.get(str(code).zfill(2), ())}
    return tuple(kind for kind in HAZARD_KINDS if kind in wanted)


def zone_levels(zones: pd.DataFrame) -> np.ndarray:
    """Danger level 1–3 of each zone (see the module docstring); a ``level`` column wins.

    Parameters
    ----------
    zones
        ``kind``, and where known ``depth_min_m`` and ``rank_code``.

    Returns
    -------
    numpy.ndarray
        One float per zone, in row order.

    Examples
    --------
    >>> import pandas as pd
    >>> zone_levels(pd.DataFrame({"kind": ["flood", "flood", "landslide", "landslide"],
    ...     "depth_min_m": [0.0, 20.0, None, None], "rank_code": ["1", "6", "1", "2"]})).tolist()
    [1.0, 3.0, 2.0, 3.0]
    """
    if "level" in zones.columns:
        return zones["level"].to_numpy(dtype=float)
    depth = _column(zones, "depth_min_m")
    kind = (
        zones["kind"].astype(str).to_numpy() if "kind" in zones.columns else np.full(len(zones), "")
    )
    code = (
        zones["rank_code"].astype(str).to_numpy()
        if "rank_code" in zones.columns
        else np.full(len(zones), "")
    )
    by_depth = 1.0 + (depth >= LEVEL_DEPTHS_M[0]) + (depth >= LEVEL_DEPTHS_M[1])
    special = (kind == "landslide") & np.isin(code, list(SPECIAL_ZONE_CODES))
    return np.where(np.isnan(depth), np.where(special, 3.0, 2.0), by_depth)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


class ZoneIndex:
    """Hazard-zone polygons indexed once, asked about many points at once.

    Point-in-polygon is vectorised: the points are bucketed on a grid of about the zones'
    size, each zone's bounding box picks the buckets it covers, and only those candidates are
    tested with ``shapely.intersects_xy`` on prepared polygons — no point objects are made,
    which for 100,000 homes costs more than the test itself: the 120,000 homes of the demo city
    against its zones take 66 ms, against 371 ms for an ``STRtree`` query of point geometries.

    Parameters
    ----------
    zones
        One row per zone: ``geometry`` (shapely polygons in lon/lat, as a GeoDataFrame has) or
        ``geom_wkb`` (WKB, as ``sql.queries.hazards.hazard_zones`` returns), ``kind``, and where
        known ``id``, ``depth_min_m``, ``depth_max_m``, ``rank_code``, ``rank_label``.

    Attributes
    ----------
    zones : pandas.DataFrame
        The zones, numbered 0… in row order (the row numbers the methods return).
    geoms : numpy.ndarray
        The polygons (prepared).
    levels : numpy.ndarray
        :func:`zone_levels` of each zone.

    Examples
    --------
    >>> import pandas as pd, shapely
    >>> square = shapely.to_wkb(shapely.box(139.9, 37.4, 140.0, 37.5))
    >>> index = ZoneIndex(pd.DataFrame({"id": [7], "kind": ["flood"], "depth_min_m": [0.5],
    ...                                 "depth_max_m": [3.0], "geom_wkb": [square]}))
    >>> index.flood_depth([37.45, 37.6], [139.95, 139.95]).tolist()
    [3.0, 0.0]
    >>> index.zone_ids([37.45, 37.6], [139.95, 139.95]).tolist()
    [7, -1]
    >>> index.kinds_at([37.5], [140.0]), index.within_any([37.45], [139.95], [8]).tolist()
    ([{'flood'}], [False])
    """

    def __init__(self, zones: pd.DataFrame):
        self.zones = zones.reset_index(drop=True)
        n = len(self.zones)
        self.geoms = _geometries(self.zones)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms).reshape(n, 4)
        self.kind = self.zones["kind"].astype(str).to_numpy() if n else np.empty(0, dtype=object)
        self.ids = self.zones["id"].to_numpy() if "id" in self.zones else np.arange(n)
        self.levels = zone_levels(self.zones) if n else np.zeros(0)
        depth_min = _column(self.zones, "depth_min_m")
        # An open-ended top rank ("20 m or more") has no maximum: its minimum is its depth.
        depth_max = _column(self.zones, "depth_max_m")
        self.depth_top = np.nan_to_num(np.where(np.isnan(depth_max), depth_min, depth_max))
        # The worst-zone rule as one number per zone: higher is worse.
        order = np.lexsort((-np.arange(n), np.nan_to_num(depth_min, nan=-1.0), self.levels))
        self._badness = np.empty(n, dtype=np.int64)
        self._badness[order] = np.arange(n)

    def __len__(self) -> int:
        return len(self.zones)

    def pairs(
        self, lat: Sequence[float], lon: Sequence[float], kinds: Iterable[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every (point, zone) pair where the zone contains or touches the point.

        Parameters
        ----------
        lat, lon
            Points (WGS84 degrees); a NaN coordinate lies in no zone.
        kinds
            Only zones of these kinds (None: every zone).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Point numbers and zone row numbers, one entry per pair, in no particular order.
        """
        rows = np.flatnonzero(~np.isnan(self.bounds).any(axis=1))
        if kinds is not None:
            rows = rows[np.isin(self.kind[rows], list(kinds))]
        return self._pairs(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), rows)

    def _pairs(self, x: np.ndarray, y: np.ndarray, rows: np.ndarray):
        empty = np.zeros(0, dtype=np.int64)
        if not len(rows) or not len(x):
            return empty, empty
        b = self.bounds[rows]
        x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        near = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if not len(near):
            return empty, empty
        px, py = x[near], y[near]
        sizes = np.r_[b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]]
        cell = max(float(np.median(sizes)), (x1 - x0) / 2000, (y1 - y0) / 2000, 1e-9)
        columns = int((x1 - x0) / cell) + 1
        point_cell = ((py - y0) // cell).astype(np.int64) * columns + ((px - x0) // cell).astype(
            np.int64
        )
        order = np.argsort(point_cell, kind="stable")
        starts = np.searchsorted(
            point_cell[order], np.arange((int((y1 - y0) / cell) + 1) * columns + 1)
        )
        cx0 = ((b[:, 0] - x0) // cell).astype(np.int64)
        cx1 = ((b[:, 2] - x0) // cell).astype(np.int64)
        cy0 = ((b[:, 1] - y0) // cell).astype(np.int64)
        cy1 = ((b[:, 3] - y0) // cell).astype(np.int64)
        # One segment per (zone, grid row): the sorted points of cells cx0..cx1 in that row.
        row_count = cy1 - cy0 + 1
        seg_zone = np.repeat(np.arange(len(rows)), row_count)
        seg_row = np.repeat(cy0, row_count) + _ranges(row_count)
        seg_first = starts[seg_row * columns + np.repeat(cx0, row_count)]
        length = starts[seg_row * columns + np.repeat(cx1, row_count) + 1] - seg_first
        pair_zone = np.repeat(seg_zone, length)
        pair_point = order[np.repeat(seg_first, length) + _ranges(length)]
        zb = b[pair_zone]
        qx, qy = px[pair_point], py[pair_point]
        inside = (qx >= zb[:, 0]) & (qx <= zb[:, 2]) & (qy >= zb[:, 1]) & (qy <= zb[:, 3])
        pair_point, pair_zone = pair_point[inside], rows[pair_zone[inside]]
        hit = shapely.intersects_xy(self.geoms[pair_zone], px[pair_point], py[pair_point])
        return near[pair_point[hit]], pair_zone[hit]

    def members(
        self, lat: Sequence[float], lon: Sequence[float], kinds: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Which points lie in which zones, as a tidy frame (one row per point and zone).

        Returns
        -------
        pandas.DataFrame
            ``point`` (the point's number), ``zone`` (row number), ``zone_id``, ``kind`` and
            ``level``, ordered by zone and point.

        Examples
        --------
        >>> import pandas as pd, shapely
        >>> index = ZoneIndex(pd.DataFrame({"id": [5, 6], "kind": ["flood", "landslide"],
        ...     "geometry": [shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)]}))
        >>> index.members([0.5, 1.5, 9.0], [0.5, 1.5, 9.0]).to_dict("list")
        {'point': [0, 1, 1], 'zone': [0, 0, 1], 'zone_id': [5, 5, 6], 'kind': ['flood', 'flood', 'landslide'], 'level': [2.0, 2.0, 2.0]}
        """
        point, zone = self.pairs(lat, lon, kinds)
        order = np.lexsort((point, zone))
        point, zone = point[order], zone[order]
        return pd.DataFrame(
            {
                "point": point,
                "zone": zone,
                "zone_id": self.ids[zone],
                "kind": self.kind[zone],
                "level": self.levels[zone],
            }
        )

    def worst_zone(
        self, lat: Sequence[float], lon: Sequence[float], kinds: Iterable[str] | None = None
    ) -> np.ndarray:
        """Row number of each point's worst zone (of ``kinds``; None: any), -1 where none."""
        point, zone = self.pairs(lat, lon, kinds)
        return self._worst(len(np.asarray(lat)), point, zone)

    def worst_zone_by_kind(
        self, lat: Sequence[float], lon: Sequence[float]
    ) -> dict[str, np.ndarray]:
        """For each zone kind present, the row number of each point's worst zone of that kind
        (-1 where the point is in no zone of the kind)."""
        n = len(np.asarray(lat))
        point, zone = self.pairs(lat, lon)
        out = {}
        for kind in dict.fromkeys(self.kind.tolist()):
            keep = self.kind[zone] == kind
            out[kind] = self._worst(n, point[keep], zone[keep])
        return out

    def _worst(self, n: int, point: np.ndarray, zone: np.ndarray) -> np.ndarray:
        worst = np.full(n, -1, dtype=np.int64)
        if len(point):
            order = np.lexsort((self._badness[zone], point))
            point, zone = point[order], zone[order]
            last = np.r_[point[1:] != point[:-1], True]
            worst[point[last]] = zone[last]
        return worst

    def zone_ids(
        self, lat: Sequence[float], lon: Sequence[float], kind: str | None = None
    ) -> np.ndarray:
        """Id of each point's worst zone (of ``kind``; None: any), -1 where none."""
        rows = self.worst_zone(lat, lon, None if kind is None else [kind])
        return np.where(rows >= 0, self.ids[np.maximum(rows, 0)] if len(self) else -1, -1)

    def flood_depth(self, lat: Sequence[float], lon: Sequence[float]) -> np.ndarray:
        """Expected flood depth (m) at each point: the upper depth of its worst flood zone (the
        minimum of an open-ended top rank); 0 outside every flood zone."""
        rows = self.worst_zone(lat, lon, ["flood"])
        return np.where(rows >= 0, self.depth_top[np.maximum(rows, 0)] if len(self) else 0, 0.0)

    def kinds_at(self, lat: Sequence[float], lon: Sequence[float]) -> list[set[str]]:
        """The set of zone kinds each point lies in."""
        out: list[set[str]] = [set() for _ in range(len(np.asarray(lat)))]
        point, zone = self.pairs(lat, lon)
        for p, kind in zip(point.tolist(), self.kind[zone].tolist(), strict=True):
            out[p].add(kind)
        return out

    def within_any(
        self, lat: Sequence[float], lon: Sequence[float], zone_ids: Iterable[int]
    ) -> np.ndarray:
        """True for each point inside at least one of the zones with id in ``zone_ids``."""
        inside = np.zeros(len(np.asarray(lat)), dtype=bool)
        rows = np.flatnonzero(np.isin(self.ids, np.asarray(list(zone_ids))))
        rows = rows[~np.isnan(self.bounds[rows]).any(axis=1)]
        point, _ = self._pairs(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), rows)
        inside[point] = True
        return inside


def _geometries(zones: pd.DataFrame) -> np.ndarray:
    if not len(zones):
        return np.empty(0, dtype=object)
    if "geometry" in zones.columns:
        return np.asarray(zones["geometry"], dtype=object)
    return shapely.from_wkb(zones["geom_wkb"].to_numpy())


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """``[0..n0-1, 0..n1-1, ...]`` for ``lengths`` ``[n0, n1, ...]``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total, dtype=np.int64) - offsets
