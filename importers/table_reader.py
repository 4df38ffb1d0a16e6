"""Read a CSV or a GeoJSON point file as rows of named text cells.

Shelter lists come as CSV or as GeoJSON whose properties carry the same columns. Both become
:class:`SourceRow` s: cells keyed by the NFKC-normalised column name, plus the point geometry
(longitude, latitude in WGS84) when the file has one. GeoJSON in another CRS (the Nanao file
is in JGD2011 plane rectangular zone VII, EPSG:6675) is transformed with pyproj.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

from .csv_table import normalise_header, parse_csv_text
from .problems import FileRejected, Problem, quoted, reason
from .text_encoding import read_text

#: CRS names that already are longitude/latitude on the GRS80/WGS84 ellipsoid.
_GEOGRAPHIC = {"4326", "6668", "4612", "CRS84", "OGC:1.3:CRS84"}


@dataclasses.dataclass
class SourceRow:
    file: str
    row: int
    cells: dict[str, str]
    raw: dict[str, str]
    point: tuple[float, float] | None = None  # (lon, lat) from the geometry
    point_problem: str | None = None

    def get(self, *names: str) -> str:
        for name in names:
            value = self.cells.get(name)
            if value is not None and value.strip():
                return value
        return ""


@dataclasses.dataclass
class SourceTable:
    label: str
    kind: str  # csv, geojson
    columns: list[str]  # normalised
    raw_columns: list[str]
    rows: list[SourceRow]
    problems: list[Problem]

    def has(self, *names: str) -> bool:
        return any(name in self.columns for name in names)


def is_geojson_path(path: Path) -> bool:
    if path.suffix.lower() in (".geojson", ".json"):
        return True
    if path.suffix.lower() in (".csv", ".txt"):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"{")


def read_table(path: Path) -> SourceTable:
    """CSV or GeoJSON; whole-file problems raise :class:`FileRejected`."""
    label = str(path)
    text, encoding = read_text(path, label)
    if is_geojson_path(path):
        return _geojson_table(text, label)
    table = parse_csv_text(text, label, encoding)
    rows = [
        SourceRow(label, r.line, r.cells, dict(zip(table.raw_header, r.raw, strict=False)))
        for r in table.rows
    ]
    return SourceTable(label, "csv", table.header, table.raw_header, rows, table.problems)


def _geojson_table(text: str, label: str) -> SourceTable:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            Problem(label, exc.lineno, "-", reason("importers.problem.json_syntax", detail=exc.msg))
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise FileRejected(
            Problem(label, "-", "-", reason("importers.problem.not_feature_collection"))
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise FileRejected(
            Problem(label, "-", "-", reason("importers.problem.not_feature_collection"))
        )
    if not features:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.header_only")))
    transform = _transformer(data.get("crs"), label)
    columns: dict[str, str] = {}
    rows: list[SourceRow] = []
    problems: list[Problem] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            problems.append(Problem(label, number, "-", reason("importers.problem.not_a_feature")))
            rows.append(SourceRow(label, number, {}, {}))
            continue
        props = feature.get("properties") or {}
        raw = {str(k): _cell(v) for k, v in props.items()}
        cells = {}
        for key, value in raw.items():
            name = normalise_header(key)
            columns.setdefault(name, key)
            cells[name] = value
        point, problem = _point(feature.get("geometry"), transform)
        rows.append(SourceRow(label, number, cells, raw, point, problem))
    return SourceTable(label, "geojson", list(columns), list(columns.values()), rows, problems)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _transformer(crs: Any, label: str):
    if not crs:
        return None
    name = str(((crs or {}).get("properties") or {}).get("name", ""))
    match = re.search(r"(?:EPSG:+|EPSG::)(\d+)$", name) or re.search(r"(CRS84)$", name)
    code = match.group(1) if match else name
    if code in _GEOGRAPHIC:
        return None
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(f"EPSG:{code}" if code.isdigit() else name)
    except CRSError as exc:
        raise FileRejected(
            Problem(label, "-", "crs", reason("importers.problem.unknown_crs", crs=quoted(name)))
        ) from exc
    return Transformer.from_crs(source, "EPSG:4326", always_xy=True)


def _point(geometry: Any, transform) -> tuple[tuple[float, float] | None, str | None]:
    if geometry is None:
        return None, None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return None, reason("importers.problem.not_a_point", kind=quoted(kind))
    coords = geometry.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in coords[:2])
    ):
        return None, reason("importers.problem.bad_point", value=quoted(json.dumps(coords)))
    x, y = float(coords[0]), float(coords[1])
    if transform is not None:
        x, y = transform.transform(x, y)
    return (x, y), None
