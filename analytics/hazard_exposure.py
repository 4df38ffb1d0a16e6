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
  surge). With no warning given, every zone counts and any open shelter is suitable.
- **Zone.** A citizen is in a zone when the zone's polygon contains (or touches) the home point.
  Of several zones the worst one is reported, by :func:`zone_levels`: flood depth below 0.5 m is
  level 1, 0.5–3 m level 2, 3 m or more level 3 (the ground floor is under water: evacuating
  upstairs is no longer enough); a landslide (or other) 警戒区域 is level 2, a 特別警戒区域
  level 3. Ties go to the greater depth.
- **Shelter.** The nearest shelter that is open and suitable (its flag set) for *every* hazard
  of the warnings. Distances are great-circle metres from the home point (the straight line,
  not the walking route); the nearest is found on a local metric projection of the city, which
  within a city's extent picks the same shelter as great-circle distance except for ties
  within centimetres.

Both steps are vectorised (shapely STRtree, scipy cKDTree): 120,000 citizens against hundreds
of shelters and thousands of zones take well under a second (see benchmarks/bench_imports.py).
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
    mask = shelters["is_open"].fillna(False).astype(bool).to_numpy()
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


def _empty_result(ids: pd.Series) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "zone_kind": pd.Series([None] * n, dtype=object),
            "zone_rank": pd.Series([None] * n, dtype=object),
            "depth_min_m": np.full(n, np.nan),
            "depth_max_m": np.full(n, np.nan),
            "zone_level": np.zeros(n, dtype=np.int8),
            "shelter_id": pd.array([pd.NA] * n, dtype="Int64"),
            "shelter_distance_m": np.full(n, np.nan),
        }
    )


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
        JMA warning kind codes in force (e.g. ``["03", "04"]``). Empty: every zone counts and
        every open shelter is suitable.

    Returns
    -------
    pandas.DataFrame
        One row per citizen, in the input order: ``id``; ``zone_kind``, ``zone_rank`` (the
        rank as people read it), ``depth_min_m``, ``depth_max_m`` of the worst zone (None/NaN
        outside every zone); ``zone_level`` (0 outside, else 1–3); ``shelter_id`` (nullable
        Int64: NA when no open shelter suits the hazards) and ``shelter_distance_m``; plus
        ``shelter_elevation_m`` when the shelters have ``elevation_m``.
    """
    warnings = list(active_warnings)
    hazards = hazards_for_warnings(warnings) if warnings else None
    result = _empty_result(citizens["id"])
    lat = pd.to_numeric(citizens["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(citizens["lon"], errors="coerce").to_numpy(dtype=float)
    located = ~(np.isnan(lat) | np.isnan(lon))

    relevant = _relevant_zones(zones, hazards)
    if len(relevant) and located.any():
        _assign_zones(result, relevant, lat, lon, located)

    suitable = _suitable_shelters(shelters, hazards)
    if len(suitable) and located.any():
        _assign_shelters(result, suitable, lat, lon, located)
    if "elevation_m" in shelters.columns:
        elevation = pd.Series(
            pd.to_numeric(shelters["elevation_m"], errors="coerce").to_numpy(dtype=float),
            index=shelters["id"].to_numpy(),
        )
        chosen = result["shelter_id"]
        result["shelter_elevation_m"] = np.where(
            chosen.notna(), elevation.reindex(chosen.fillna(-1).to_numpy()).to_numpy(), np.nan
        )
    return result


def _assign_zones(
    result: pd.DataFrame, zones: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, located
) -> None:
    rows = np.flatnonzero(located)
    points = shapely.points(lon[rows], lat[rows])
    tree = shapely.STRtree(np.asarray(zones.geometry))
    point_index, zone_index = tree.query(points, predicate="intersects")
    if not len(point_index):
        return
    levels = zone_levels(zones)
    depth = np.nan_to_num(_column(zones, "depth_min_m"), nan=-1.0)
    # Sort each citizen's zones by (level, depth, first zone first); the last one is the worst.
    order = np.lexsort((-zone_index, depth[zone_index], levels[zone_index], point_index))
    point_index, zone_index = point_index[order], zone_index[order]
    last = np.r_[point_index[1:] != point_index[:-1], True]
    target, zone = rows[point_index[last]], zone_index[last]
    result.loc[target, "zone_kind"] = zones["kind"].to_numpy()[zone]
    if "rank_label" in zones.columns:
        result.loc[target, "zone_rank"] = zones["rank_label"].to_numpy()[zone]
    result.loc[target, "depth_min_m"] = _column(zones, "depth_min_m")[zone]
    result.loc[target, "depth_max_m"] = _column(zones, "depth_max_m")[zone]
    result.loc[target, "zone_level"] = levels[zone].astype(np.int8)


def _assign_shelters(
    result: pd.DataFrame, shelters: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, located
) -> None:
    rows = np.flatnonzero(located)
    s_lat = shelters["lat"].to_numpy(dtype=float)
    s_lon = shelters["lon"].to_numpy(dtype=float)
    scale = math.cos(math.radians(float(np.mean(s_lat))))  # metres per degree east vs north

    def xy(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return np.column_stack((np.radians(lo) * scale, np.radians(la))) * EARTH_RADIUS_M

    _, nearest = cKDTree(xy(s_lat, s_lon)).query(xy(lat[rows], lon[rows]), k=1)
    result.loc[rows, "shelter_id"] = shelters["id"].to_numpy()[nearest]
    result.loc[rows, "shelter_distance_m"] = _haversine_m(
        lat[rows], lon[rows], s_lat[nearest], s_lon[nearest]
    )


def classify_citizens_naive(
    citizens: pd.DataFrame,
    shelters: pd.DataFrame,
    zones: pd.DataFrame,
    active_warnings: Iterable[str] = (),
) -> pd.DataFrame:
    """:func:`classify_citizens` as a plain per-citizen loop over every zone and shelter.

    The reference the tests compare against, and the benchmark's baseline; too slow for use.
    """
    warnings = list(active_warnings)
    hazards = hazards_for_warnings(warnings) if warnings else None
    relevant = _relevant_zones(zones, hazards)
    levels = zone_levels(relevant) if len(relevant) else np.array([])
    depths = _column(relevant, "depth_min_m")
    suitable = _suitable_shelters(shelters, hazards)
    result = _empty_result(citizens["id"])
    records = []
    for lat, lon in zip(citizens["lat"], citizens["lon"], strict=True):
        record: dict = {}
        if pd.isna(lat) or pd.isna(lon):
            records.append(record)
            continue
        point = shapely.Point(float(lon), float(lat))
        worst = None
        for number, geometry in enumerate(relevant.geometry):
            if geometry.intersects(point):
                key = (levels[number], -1.0 if math.isnan(depths[number]) else depths[number])
                if worst is None or key > worst[0]:
                    worst = (key, number)
        if worst is not None:
            zone = relevant.iloc[worst[1]]
            record.update(
                zone_kind=zone["kind"],
                zone_rank=zone.get("rank_label"),
                depth_min_m=_column(relevant, "depth_min_m")[worst[1]],
                depth_max_m=_column(relevant, "depth_max_m")[worst[1]],
                zone_level=int(levels[worst[1]]),
            )
        best = None
        for shelter_id, s_lat, s_lon in zip(
            suitable["id"], suitable["lat"], suitable["lon"], strict=True
        ):
            distance = float(_haversine_m(float(lat), float(lon), s_lat, s_lon))
            if best is None or distance < best[0]:
                best = (distance, shelter_id)
        if best is not None:
            record.update(shelter_id=best[1], shelter_distance_m=best[0])
        records.append(record)
    for position, record in enumerate(records):
        for column, value in record.items():
            result.at[position, column] = value
    return result
