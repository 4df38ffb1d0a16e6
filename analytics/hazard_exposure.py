"""Hazard exposure of citizens: the hazard zone each one is in, and the nearest suitable open shelter.

Pure functions on DataFrames (no database): the HQ map calls :func:`classify_citizens` with
its home points, the shelter board, its zone index and the warnings in force.

How it decides
--------------
- **Hazards of the warnings**, **zone levels** and **the worst zone** as
  :mod:`analytics.hazards` defines them (大雨 → landslide and inland flooding, 洪水 → flood,
  高潮 → storm surge). With no warning given, every zone counts and any open shelter is
  suitable; with warnings none of which concerns a zone or shelter hazard (雷注意報 alone, say),
  no zone counts and any open shelter is suitable.
- **Zone.** The worst zone of the warnings' hazards containing (or touching) the home point.
- **Shelter.** The nearest shelter that is open and suitable (its flag set) for *every* hazard
  of the warnings. Distances are great-circle metres from the home point (the straight line,
  not the walking route): the four nearest on a local metric projection of the city (which
  distorts distances by about 0.1 % across a city) are compared by great-circle distance.

Both steps are vectorised (:class:`analytics.hazards.ZoneIndex`; scipy's cKDTree): 120,000
citizens against hundreds of shelters and over a thousand zones take about 0.15 s (see
benchmarks/bench_imports.py). :func:`classify_citizens_naive` is the same rule written as a
per-citizen loop: the reference for tests and the benchmark baseline.

>>> import pandas as pd, shapely
>>> from bosai.vocab import HAZARD_KINDS
>>> zones = pd.DataFrame({"kind": ["flood"], "depth_min_m": [0.5], "depth_max_m": [3.0],
...     "rank_label": ["0.5m以上3.0m未満"], "geometry": [shapely.box(139.90, 37.48, 139.92, 37.50)]})
>>> shelters = pd.DataFrame({"id": [1, 2], "lat": [37.49, 37.51], "lon": [139.93, 139.91],
...     "is_open": [True, True], **{f"hazard_{k}": [k != "flood", True] for k in HAZARD_KINDS}})
>>> citizens = pd.DataFrame({"id": [10, 11], "lat": [37.49, 37.45], "lon": [139.91, 139.91]})
>>> result = classify_citizens(citizens, shelters, zones, active_warnings=["04"])  # 洪水警報
>>> result[["id", "zone_rank", "zone_level", "shelter_id"]].to_dict("records")
[{'id': 10, 'zone_rank': '0.5m以上3.0m未満', 'zone_level': 2, 'shelter_id': 2}, {'id': 11, 'zone_rank': nan, 'zone_level': 0, 'shelter_id': 2}]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .hazards import ZoneIndex, hazards_for_warnings, zone_levels

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
    levels: np.ndarray,
    zone_of: np.ndarray,
    shelters: pd.DataFrame,
    shelter_of: np.ndarray,
    distance: np.ndarray,
) -> pd.DataFrame:
    """The result frame from each citizen's zone and shelter row numbers (-1: none)."""
    n = len(ids)
    has_zone = zone_of >= 0
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
    zones: pd.DataFrame | ZoneIndex,
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
        known (as from ``sql.imports.readback.hazard_zones_frame``); or a ``level`` column —
        or a :class:`~analytics.hazards.ZoneIndex` of them, built once for many calls.
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
    index = zones if isinstance(zones, ZoneIndex) else ZoneIndex(zones)
    hazards = _hazards(active_warnings)
    shelters = _suitable_shelters(shelters, hazards)
    lat, lon = _positions(citizens)
    relevant = _relevant_rows(index, hazards)
    zone_of = _worst_zones(index, relevant, lat, lon)
    shelter_of, distance = _nearest_located(shelters, lat, lon)
    zones = index.zones.iloc[relevant].reset_index(drop=True)
    return _result(
        citizens["id"], zones, index.levels[relevant], zone_of, shelters, shelter_of, distance
    )


def _relevant_rows(index: ZoneIndex, hazards: tuple[str, ...] | None) -> np.ndarray:
    """Row numbers of the zones of the warnings' hazards (every zone without warnings)."""
    if hazards is None:
        return np.arange(len(index))
    return np.flatnonzero(np.isin(index.kind, hazards))


def _worst_zones(
    index: ZoneIndex, relevant: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> np.ndarray:
    """Each point's worst relevant zone, numbered 0… among ``relevant`` (-1: none)."""
    number = np.full(len(index) + 1, -1, dtype=np.int64)  # number[-1] stays -1: no zone
    number[relevant] = np.arange(len(relevant))
    kinds = np.unique(index.kind[relevant])
    return number[index.worst_zone(lat, lon, kinds)]


def _nearest_located(
    shelters: pd.DataFrame, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_nearest_shelters` of the points with a position (-1 and NaN for the others)."""
    located = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    shelter_of = np.full(len(lat), -1, dtype=np.int64)
    distance = np.full(len(lat), np.nan)
    if len(shelters) and len(located):
        shelter_of[located], distance[located] = _nearest_shelters(
            shelters, lat[located], lon[located]
        )
    return shelter_of, distance


def _hazards(active_warnings: Iterable[str]) -> tuple[str, ...] | None:
    """The hazards of the warnings; None (every zone, any open shelter) when there are none."""
    warnings = list(active_warnings)
    return hazards_for_warnings(warnings) if warnings else None


def _positions(citizens: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lat = pd.to_numeric(citizens["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(citizens["lon"], errors="coerce").to_numpy(dtype=float)
    return lat, lon


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
    hazards = _hazards(active_warnings)
    zones = _relevant_zones(zones, hazards)
    shelters = _suitable_shelters(shelters, hazards)
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
    return _result(citizens["id"], zones, levels, zone_of, shelters, shelter_of, distance)
