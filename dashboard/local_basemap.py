"""The HQ map's own base map, drawn from the city's geography when map tiles cannot load.

An HQ without internet (the GSI tiles unreachable) still needs to see where things are: the
districts' areas and names, the rivers, the main roads, from the city's geography file
(``drills/cities/<municipality code>.yaml``: residential centres per district, river courses,
roads; see :mod:`drills.city_geography`). A city without such a file gets no local base map —
the page says so. Shelter names are drawn by :mod:`dashboard.map_deck` with the shelters.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from bosai.errors import BosaiError
from sql.city_config import CityConfig

COORD_DECIMALS = 5


@dataclasses.dataclass(frozen=True)
class LocalBase:
    """Records for deck.gl layers: district areas, their labels, rivers and roads."""

    districts: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    rivers: list[dict[str, Any]]
    roads: list[dict[str, Any]]


def _path(line) -> list[list[float]]:
    return np.round(np.asarray(line.coords)[:, :2], COORD_DECIMALS).tolist()


def _rings(area) -> list[list[list[float]]]:
    polygons = list(area.geoms) if hasattr(area, "geoms") else [area]
    return [_path(p.exterior) for p in polygons if not p.is_empty]


@lru_cache(maxsize=8)
def _build(code: str, lat: float, lon: float, bounds: tuple[float, ...]) -> LocalBase | None:
    from drills.city_geography import CityGeography

    try:
        geography = CityGeography.load(code, lat, lon)
    except BosaiError:
        return None
    areas = geography.district_areas(bounds)  # type: ignore[arg-type]
    districts = [
        {"polygon": ring, "name": name} for name, area in areas.items() for ring in _rings(area)
    ]
    labels = []
    for cluster in geography.clusters:
        if any(label["name"] == cluster["district"] for label in labels):
            continue
        inside = areas[cluster["district"]].contains(shapely.Point(cluster["lon"], cluster["lat"]))
        point = (
            (cluster["lon"], cluster["lat"])
            if inside
            else areas[cluster["district"]].representative_point().coords[0]
        )
        labels.append(
            {
                "p": [round(point[0], COORD_DECIMALS), round(point[1], COORD_DECIMALS)],
                "name": cluster["district"],
                # Larger districts (more households) keep their label when labels collide.
                "r": round(1000 * float(cluster.get("weight", 0.0)), 1),
            }
        )
    rivers = [
        {"path": _path(line), "name": name} for name, line in geography.rivers_lonlat().items()
    ]
    roads = [
        {"path": _path(line), "name": name, "kind": kind}
        for name, kind, line in geography.roads_lonlat()
    ]
    return LocalBase(districts, labels, rivers, roads)


def local_base(city: CityConfig) -> LocalBase | None:
    """The city's local base map (None when the city has no geography file)."""
    bounds = (city.bbox_west, city.bbox_south, city.bbox_east, city.bbox_north)
    return _build(city.municipality_code, city.center_lat, city.center_lon, bounds)
