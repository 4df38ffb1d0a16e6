"""Hazard exposure of citizens: the hazard zone each one is in, and the nearest suitable open shelter.

Pure functions on DataFrames (no database): the HQ dashboard reads citizens through the viewer
policy, shelters and zones through ``sql.imports.readback``, and calls
:func:`classify_citizens` with the warnings in force.

    result = classify_citizens(citizens, shelters, zones, active_warnings=["03", "04"])
    result.loc[result.zone_level >= 2, ["id", "zone_kind", "zone_rank", "shelter_id"]]

How it decides
--------------
- **Hazards of the warnings.** Each JMA warning kind concerns some of the eight shelter hazards
  (:data:`WARNING_HAZARDS`: 大雨 → landslide and inland flooding, 洪水 → flood, 高潮 → storm
  surge). With no warning given, every zone counts and any open shelter is suitable; with
  warnings none of which concerns a zone or shelter hazard (雷注意報 alone, say), no zone
  counts and any open shelter is suitable.
- **Zone.** A citizen is in a zone when the zone's polygon contains (or touches) the home point.
  Of several zones the worst one is reported, by :func:`zone_levels`: flood depth below 0.5 m is
  level 1, 0.5–3 m level 2 (above floor level), 3 m or more level 3 (the second floor floods:
  moving upstairs is no longer safe); a landslide (or other) 警戒区域 is level 2, a 特別警戒区域
  level 3. Ties go to the greater depth.
- **Shelter.** The nearest shelter that is open and suitable (its flag set) for *every* hazard
  of the warnings. Distances are great-circle metres from the home point (the straight line,
  not the walking route): the four nearest on a local metric projection of the city (which
  distorts distances by about 0.1 % across a city) are compared by great-circle distance.

Both steps are vectorised (a grid of the points with ``shapely.intersects_xy`` on prepared
polygons; scipy's cKDTree): 120,000 citizens against hundreds of shelters and over a thousand
zones take about 0.15 s (see benchmarks/bench_imports.py).
:func:`classify_citizens_naive` is the same rule written as a per-citizen loop: the reference
for tests and the benchmark baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

#: The eight hazard flags of shelter data (GSI / Digital Agency order).
HAZARD_KINDS = (
    "flood",
    "landslide",
    "storm_surge",
    "earthquake",
    "tsunami",
    "large_fire",
    "inland_flood",
    "volcano",
)
#: JMA warning/advisory kind code → the shelter hazards it is about.
WARNING_HAZARDS: dict[str, tuple[str, ...]] = {
    "03": ("landslide", "inland_flood"),  # 大雨警報
    "10": ("landslide", "inland_flood"),  # 大雨注意報
    "33": ("landslide", "inland_flood"),  # 大雨特別警報
    "04": ("flood",),  # 洪水警報
    "18": ("flood",),  # 洪水注意報
    "08": ("storm_surge",),  # 高潮警報
    "19": ("storm_surge",),  # 高潮注意報
    "38": ("storm_surge",),  # 高潮特別警報
}
#: Depth (m) from which a flood zone is level 2 and level 3.
FLOOD_LEVEL_DEPTHS = (0.5, 3.0)
#: Zone rank codes of 土砂災害特別警戒区域 (A33_002: 2 designated, 4 from the basic survey).
SPECIAL_ZONE_CODES = frozenset({"2", "4"})
EARTH_RADIUS_M = 6_371_008.8
#: Shelters nearest on the local projection that are compared by great-circle distance.
CANDIDATE_SHELTERS = 4

RESULT_COLUMNS = (
    "id",
    "zone_kind",
    "zone_rank",
    "depth_min_m",
    "depth_max_m",
    "zone_level",
    "shelter_id",
    "shelter_distance_m",
)


def hazards_for_warnings(codes: Iterable[str]) -> tuple[str, ...]:
    """The shelter hazards the given JMA warning kinds concern, in :data:`HAZARD_KINDS` order."""
    wanted = {hazard for code in codes for hazard in WARNING_HAZARDS.get(str(code), ())}
    return tuple(kind for kind in HAZARD_KINDS if kind in wanted)


def zone_levels(zones: pd.DataFrame) -> np.ndarray:
    """Danger level 1–3 of each zone (see the module docstring); a ``level`` column wins."""
    if "level" in zones.columns:
        return zones["level"].to_numpy(dtype=float)
    kind = zones["kind"].astype(str).to_numpy()
    depth = _column(zones, "depth_min_m")
    code = (
        zones["rank_code"].astype(str).to_numpy()
        if "rank_code" in zones.columns
        else np.full(len(zones), "")
    )
    flood_level = 1.0 + (depth >= FLOOD_LEVEL_DEPTHS[0]) + (depth >= FLOOD_LEVEL_DEPTHS[1])
    other_level = np.where(np.isin(code, list(SPECIAL_ZONE_CODES)), 3.0, 2.0)
    by_depth = (kind == "flood") | ((kind == "inland_flood") & ~np.isnan(depth))
    return np.where(by_depth, flood_level, other_level)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _relevant_zones(zones: pd.DataFrame, hazards: tuple[str, ...] | None) -> pd.DataFrame:
    zones = zones.reset_index(drop=True)
    if hazards is None:
        return zones
    return zones[zones["kind"].isin(hazards)].reset_index(drop=True)


def _suitable_shelters(shelters: pd.DataFrame, hazards: tuple[str, ...] | None) -> pd.DataFrame:
    mask = shelters["is_open"].fillna(False).astype(bool).to_numpy(copy=True)
    for hazard in hazards or ():
        mask &= shelters[f"hazard_{hazard}"].fillna(False).astype(bool).to_numpy()
    mask &= shelters["lat"].notna().to_numpy() & shelters["lon"].notna().to_numpy()
    return shelters[mask].reset_index(drop=True)


def _haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def _take(values: np.ndarray, index: np.ndarray, missing: float) -> np.ndarray:
    """``values[index]`` as floats, with ``missing`` where ``index`` is -1."""
    out = np.asarray(values, dtype=float)[np.maximum(index, 0)]
    out[index < 0] = missing
    return out


def _categories(values: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """``values[index]`` as a categorical (missing where ``index`` is -1 or the value is)."""
    series = pd.Series(values, dtype=object)
    codes, categories = pd.factorize(series, use_na_sentinel=True)
    taken = np.where(index >= 0, codes[np.maximum(index, 0)] if len(codes) else -1, -1)
    return pd.Categorical.from_codes(taken, categories=pd.Index(categories, dtype=object))


def _result(
    ids: pd.Series,
    zones: pd.DataFrame,
    zone_of: np.ndarray,
    shelters: pd.DataFrame,
    shelter_of: np.ndarray,
    distance: np.ndarray,
) -> pd.DataFrame:
    """The result frame from each citizen's zone and shelter row numbers (-1: none)."""
    n = len(ids)
    has_zone = zone_of >= 0
    levels = zone_levels(zones) if len(zones) else np.zeros(0)
    rank = (
        zones["rank_label"].to_numpy()
        if "rank_label" in zones.columns
        else np.full(len(zones), None)
    )
    shelter_ids = np.zeros(n, dtype=np.int64)
    has_shelter = shelter_of >= 0
    if len(shelters):
        shelter_ids[has_shelter] = shelters["id"].to_numpy(dtype=np.int64)[shelter_of[has_shelter]]
    frame = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "zone_kind": _categories(zones["kind"].to_numpy() if len(zones) else [], zone_of),
            "zone_rank": _categories(rank, zone_of),
            "depth_min_m": _take(
                _column(zones, "depth_min_m") if len(zones) else [np.nan], zone_of, np.nan
            ),
            "depth_max_m": _take(
                _column(zones, "depth_max_m") if len(zones) else [np.nan], zone_of, np.nan
            ),
            "zone_level": np.where(
                has_zone, levels[np.maximum(zone_of, 0)] if len(zones) else 0, 0
            ).astype(np.int8),
            "shelter_id": pd.arrays.IntegerArray(shelter_ids, ~has_shelter),
            "shelter_distance_m": np.where(has_shelter, distance, np.nan),
        }
    )
    if "elevation_m" in shelters.columns:
        elevation = _column(shelters, "elevation_m") if len(shelters) else np.array([np.nan])
        frame["shelter_elevation_m"] = _take(elevation, shelter_of, np.nan)
    return frame


def classify_citizens(
    citizens: pd.DataFrame,
    shelters: pd.DataFrame,
    zones: pd.DataFrame,
    active_warnings: Iterable[str] = (),
) -> pd.DataFrame:
    """Each citizen's worst hazard zone and nearest suitable open shelter.

    Parameters
    ----------
    citizens
        ``id``, ``lat``, ``lon`` (WGS84 home positions); a missing position gets no zone and no
        shelter.
    shelters
        ``id``, ``lat``, ``lon``, ``is_open`` and the eight flags ``hazard_flood`` …
        ``hazard_volcano`` (as from ``sql.imports.readback.shelters_frame``); ``elevation_m``
        when present is passed through as ``shelter_elevation_m``.
    zones
        A (Geo)DataFrame with ``kind`` (flood, landslide, ...), ``geometry`` (shapely polygons
        in lon/lat), and ``depth_min_m``, ``depth_max_m``, ``rank_label``, ``rank_code`` where
        known (as from ``sql.imports.readback.hazard_zones_frame``); or a ``level`` column.
    active_warnings
        JMA warning kind codes in force (e.g. ``["03", "04"]``; see
        ``sql.imports.readback.warnings_in_force``). Empty: every zone counts and every open
        shelter is suitable.

    Returns
    -------
    pandas.DataFrame
        One row per citizen, in the input order: ``id``; ``zone_kind`` and ``zone_rank`` (the
        rank as people read it; categoricals, missing outside every zone), ``depth_min_m``,
        ``depth_max_m`` (NaN where unknown) of the worst zone; ``zone_level`` (0 outside,
        else 1–3); ``shelter_id`` (nullable Int64: NA when no open shelter suits the hazards)
        and ``shelter_distance_m`` (great-circle metres); plus
        ``shelter_elevation_m`` when the shelters have ``elevation_m``.
    """
    hazards, zones, shelters = _inputs(zones, shelters, active_warnings)
    lat, lon = _positions(citizens)
    located = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    zone_of = np.full(len(lat), -1, dtype=np.int64)
    shelter_of = np.full(len(lat), -1, dtype=np.int64)
    distance = np.full(len(lat), np.nan)
    if len(zones) and len(located):
        zone_of[located] = _worst_zones(zones, lat[located], lon[located])
    if len(shelters) and len(located):
        shelter_of[located], distance[located] = _nearest_shelters(
            shelters, lat[located], lon[located]
        )
    return _result(citizens["id"], zones, zone_of, shelters, shelter_of, distance)


def _inputs(
    zones: pd.DataFrame, shelters: pd.DataFrame, active_warnings: Iterable[str]
) -> tuple[tuple[str, ...] | None, pd.DataFrame, pd.DataFrame]:
    warnings = list(active_warnings)
    hazards = hazards_for_warnings(warnings) if warnings else None
    return hazards, _relevant_zones(zones, hazards), _suitable_shelters(shelters, hazards)


def _positions(citizens: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lat = pd.to_numeric(citizens["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(citizens["lon"], errors="coerce").to_numpy(dtype=float)
    return lat, lon


def _worst_zones(zones: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Row number of each point's worst zone (-1: none)."""
    point_index, zone_index = _points_in_zones(np.asarray(zones["geometry"]), lon, lat)
    worst = np.full(len(lat), -1, dtype=np.int64)
    if not len(point_index):
        return worst
    levels = zone_levels(zones)
    depth = np.nan_to_num(_column(zones, "depth_min_m"), nan=-1.0)
    # Sort each point's zones by (level, depth, first zone first); the last one is the worst.
    order = np.lexsort((-zone_index, depth[zone_index], levels[zone_index], point_index))
    point_index, zone_index = point_index[order], zone_index[order]
    last = np.r_[point_index[1:] != point_index[:-1], True]
    worst[point_index[last]] = zone_index[last]
    return worst


def _points_in_zones(
    geometries: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All (point, zone) pairs where the zone contains or touches the point.

    Points are bucketed in a grid of about the zones' size; each zone's bounding box picks the
    buckets it covers (one contiguous run of sorted points per grid row), and only those
    candidates are tested, with ``shapely.intersects_xy`` on prepared polygons — no point
    objects are made, which for 100,000+ points costs more than the test itself.
    """
    empty = np.zeros(0, dtype=np.int64)
    bounds = shapely.bounds(geometries)
    valid = ~np.isnan(bounds).any(axis=1)
    if not valid.any():
        return empty, empty
    x0, y0 = min(x.min(), bounds[valid, 0].min()), min(y.min(), bounds[valid, 1].min())
    x1, y1 = max(x.max(), bounds[valid, 2].max()), max(y.max(), bounds[valid, 3].max())
    sizes = np.r_[bounds[valid, 2] - bounds[valid, 0], bounds[valid, 3] - bounds[valid, 1]]
    cell = max(float(np.median(sizes)), (x1 - x0) / 2000, (y1 - y0) / 2000, 1e-9)
    columns = int((x1 - x0) / cell) + 1
    rows = int((y1 - y0) / cell) + 1
    point_cell = ((y - y0) // cell).astype(np.int64) * columns + ((x - x0) // cell).astype(np.int64)
    order = np.argsort(point_cell, kind="stable")
    starts = np.searchsorted(point_cell[order], np.arange(rows * columns + 1))
    zone = np.flatnonzero(valid)
    cx0 = ((bounds[zone, 0] - x0) // cell).astype(np.int64)
    cx1 = ((bounds[zone, 2] - x0) // cell).astype(np.int64)
    cy0 = ((bounds[zone, 1] - y0) // cell).astype(np.int64)
    cy1 = ((bounds[zone, 3] - y0) // cell).astype(np.int64)
    # One segment per (zone, grid row): the sorted points of cells cx0..cx1 in that row.
    row_count = cy1 - cy0 + 1
    seg_zone = np.repeat(zone, row_count)
    seg_row = np.repeat(cy0, row_count) + _ranges(row_count)
    seg_first = starts[seg_row * columns + np.repeat(cx0, row_count)]
    seg_end = starts[seg_row * columns + np.repeat(cx1, row_count) + 1]
    length = seg_end - seg_first
    pair_zone = np.repeat(seg_zone, length)
    pair_point = order[np.repeat(seg_first, length) + _ranges(length)]
    px, py, b = x[pair_point], y[pair_point], bounds[pair_zone]
    inside_box = (px >= b[:, 0]) & (px <= b[:, 2]) & (py >= b[:, 1]) & (py <= b[:, 3])
    pair_point, pair_zone = pair_point[inside_box], pair_zone[inside_box]
    shapely.prepare(geometries)
    hit = shapely.intersects_xy(geometries[pair_zone], x[pair_point], y[pair_point])
    return pair_point[hit], pair_zone[hit]


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """``[0..n0-1, 0..n1-1, ...]`` for ``lengths`` ``[n0, n1, ...]``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total, dtype=np.int64) - offsets


def _nearest_shelters(
    shelters: pd.DataFrame, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row number of each point's nearest shelter and the great-circle distance in metres."""
    s_lat = shelters["lat"].to_numpy(dtype=float)
    s_lon = shelters["lon"].to_numpy(dtype=float)
    scale = math.cos(math.radians(float(np.mean(s_lat))))  # metres per degree east vs north

    def xy(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return np.column_stack((np.radians(lo) * scale, np.radians(la))) * EARTH_RADIUS_M

    k = min(CANDIDATE_SHELTERS, len(s_lat))
    _, candidates = cKDTree(xy(s_lat, s_lon)).query(xy(lat, lon), k=k)
    candidates = candidates.reshape(len(lat), k)
    metres = _haversine_m(lat[:, None], lon[:, None], s_lat[candidates], s_lon[candidates])
    # The first of equal distances, as the loop finds it: lowest row number.
    best = np.lexsort((candidates.T, metres.T), axis=0)[0]
    rows = np.arange(len(lat))
    return candidates[rows, best], metres[rows, best]


def classify_citizens_naive(
    citizens: pd.DataFrame,
    shelters: pd.DataFrame,
    zones: pd.DataFrame,
    active_warnings: Iterable[str] = (),
) -> pd.DataFrame:
    """:func:`classify_citizens` as a plain per-citizen loop over every zone and shelter.

    The reference the tests compare against, and the benchmark's baseline; too slow for use.
    """
    hazards, zones, shelters = _inputs(zones, shelters, active_warnings)
    levels = zone_levels(zones) if len(zones) else np.zeros(0)
    depths = np.nan_to_num(_column(zones, "depth_min_m"), nan=-1.0)
    geometries = list(zones["geometry"]) if len(zones) else []
    s_rows = list(zip(shelters["lat"], shelters["lon"], strict=True)) if len(shelters) else []
    lat, lon = _positions(citizens)
    zone_of = np.full(len(lat), -1, dtype=np.int64)
    shelter_of = np.full(len(lat), -1, dtype=np.int64)
    distance = np.full(len(lat), np.nan)
    for number in range(len(lat)):
        if math.isnan(lat[number]) or math.isnan(lon[number]):
            continue
        point = shapely.Point(lon[number], lat[number])
        worst = None
        for zone, geometry in enumerate(geometries):
            if geometry.intersects(point):
                key = (levels[zone], depths[zone])
                if worst is None or key > worst[0]:
                    worst = (key, zone)
        if worst is not None:
            zone_of[number] = worst[1]
        for row, (s_lat, s_lon) in enumerate(s_rows):
            metres = float(_haversine_m(lat[number], lon[number], s_lat, s_lon))
            if shelter_of[number] < 0 or metres < distance[number]:
                shelter_of[number], distance[number] = row, metres
    return _result(citizens["id"], zones, zone_of, shelters, shelter_of, distance)
