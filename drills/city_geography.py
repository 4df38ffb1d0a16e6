"""The synthetic geography of a city (residential clusters, rivers, hills) from its YAML file.

Geometry is computed in a local metric plane (equirectangular around the city centre), which is
accurate to well under 1% across a city and keeps buffers in metres simple.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from shapely import LineString, Polygon, unary_union
from shapely.geometry.base import BaseGeometry

GEOGRAPHY_DIR = Path(__file__).with_name("cities")


@dataclasses.dataclass(frozen=True)
class LocalPlane:
    """Metres east/north of a reference point, and back."""

    lat0: float
    lon0: float

    @property
    def mx(self) -> float:
        return 111_320.0 * math.cos(math.radians(self.lat0))

    my: float = 110_574.0

    def to_xy(self, lat: Any, lon: Any) -> tuple[Any, Any]:
        return (np.asarray(lon) - self.lon0) * self.mx, (np.asarray(lat) - self.lat0) * self.my

    def to_latlon(self, x: Any, y: Any) -> tuple[Any, Any]:
        return self.lat0 + np.asarray(y) / self.my, self.lon0 + np.asarray(x) / self.mx

    def geometry_to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        def fn(coords: np.ndarray) -> np.ndarray:
            lat, lon = self.to_latlon(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, fn)

    def line(self, latlon: list[list[float]]) -> LineString:
        lat = [p[0] for p in latlon]
        lon = [p[1] for p in latlon]
        x, y = self.to_xy(lat, lon)
        return LineString(list(zip(x.tolist(), y.tolist(), strict=True)))

    def polygon(self, latlon: list[list[float]]) -> Polygon:
        lat = [p[0] for p in latlon]
        lon = [p[1] for p in latlon]
        x, y = self.to_xy(lat, lon)
        return Polygon(list(zip(x.tolist(), y.tolist(), strict=True)))


@dataclasses.dataclass(frozen=True)
class FloodBand:
    river: str
    rank: str
    label: str
    depth_min_m: float
    depth_max_m: float
    geometry_xy: BaseGeometry


class CityGeography:
    def __init__(self, data: dict[str, Any], center_lat: float, center_lon: float):
        self.data = data
        self.plane = LocalPlane(center_lat, center_lon)

    @classmethod
    def load(cls, municipality_code: str, center_lat: float, center_lon: float) -> CityGeography:
        path = GEOGRAPHY_DIR / f"{municipality_code}.yaml"
        if not path.exists():
            from bosai.errors import BosaiError

            raise BosaiError(
                f"no demo geography for municipality {municipality_code}: add {path.name} to {GEOGRAPHY_DIR}"
            )
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")), center_lat, center_lon)

    @property
    def clusters(self) -> list[dict[str, Any]]:
        return self.data["clusters"]

    @cached_property
    def rivers_xy(self) -> dict[str, LineString]:
        return {r["name"]: self.plane.line(r["line"]) for r in self.data["rivers"]}

    @cached_property
    def flood_bands(self) -> list[FloodBand]:
        """Non-overlapping depth bands: the deepest next to the river, shallower further out.

        Where two rivers' bands overlap, the deeper rank wins.
        """
        ranks = self.data["flood_ranks"]
        by_rank: dict[str, list[BaseGeometry]] = {}
        for river in self.data["rivers"]:
            line = self.rivers_xy[river["name"]]
            inner = None
            for dist, rank in river["flood_bands_m"]:
                ring = line.buffer(dist, quad_segs=6)
                band = ring if inner is None else ring.difference(inner)
                by_rank.setdefault(str(rank), []).append(band)
                inner = ring
        out: list[FloodBand] = []
        covered: BaseGeometry | None = None
        for rank in sorted(by_rank, reverse=True):  # deepest first
            geom = unary_union(by_rank[rank])
            if covered is not None:
                geom = geom.difference(covered)
            covered = geom if covered is None else unary_union([covered, geom])
            meaning = ranks[rank]
            out.append(
                FloodBand(
                    "・".join(r["name"] for r in self.data["rivers"]),
                    rank,
                    meaning["label"],
                    float(meaning["min_m"]),
                    float(meaning["max_m"]),
                    geom.simplify(5.0),
                )
            )
        return out

    def rivers_lonlat(self) -> dict[str, LineString]:
        """Each river's course in longitude/latitude."""
        return {name: self.plane.geometry_to_lonlat(line) for name, line in self.rivers_xy.items()}

    def roads_lonlat(self) -> list[tuple[str, str, LineString]]:
        """(name, kind, course in longitude/latitude) of the main roads (``expressway`` or
        ``national``); none when the file lists no roads."""
        return [
            (
                r["name"],
                r.get("kind", "national"),
                self.plane.geometry_to_lonlat(self.plane.line(r["line"])),
            )
            for r in self.data.get("roads", [])
        ]

    def district_areas(self, bounds: tuple[float, float, float, float]) -> dict[str, Polygon]:
        """Each district's area in longitude/latitude: the part of ``bounds`` (west, south, east,
        north) nearer its residential centre than any other's (a Voronoi partition), unless the
        file gives the district's own ``polygon`` ([lat, lon] pairs) under ``districts``."""
        west, south, east, north = bounds
        frame = shapely.box(west, south, east, north)
        given = {d["name"]: d["polygon"] for d in self.data.get("districts", [])}
        centres = {}
        for cluster in self.clusters:
            centres.setdefault(cluster["district"], (cluster["lon"], cluster["lat"]))
        cells = shapely.voronoi_polygons(
            shapely.MultiPoint(list(centres.values())), extend_to=frame
        )
        areas: dict[str, Polygon] = {}
        for name, (lon, lat) in centres.items():
            if name in given:
                areas[name] = Polygon([(p[1], p[0]) for p in given[name]])
                continue
            point = shapely.Point(lon, lat)
            cell = next(c for c in cells.geoms if c.contains(point))
            areas[name] = cell.intersection(frame)
        return areas

    @cached_property
    def hills_xy(self) -> Polygon:
        return self.plane.polygon(self.data["hills"]["polygon"])

    def distance_to_rivers_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        import shapely

        points = shapely.points(x, y)
        dists = [shapely.distance(points, line) for line in self.rivers_xy.values()]
        return np.min(np.vstack(dists), axis=0)

    def elevation_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A plausible elevation: the basin floor rising away from rivers and into the hills."""
        import shapely

        base = float(self.data["hills"].get("basin_elevation_m", 200))
        dist = self.distance_to_rivers_m(x, y)
        hill_depth = shapely.distance(shapely.points(x, y), self.hills_xy.exterior)
        inside = shapely.contains_xy(self.hills_xy, x, y)
        return (
            base + 6.0 * np.minimum(dist / 1000.0, 4.0) + np.where(inside, hill_depth * 0.12, 0.0)
        )
