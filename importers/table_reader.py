"""Read a CSV or a GeoJSON point file as rows of named text cells — the one table reader.

Shelter lists come as CSV or as GeoJSON whose properties carry the same columns. Both become
:class:`SourceRow` s: cells keyed by the NFKC-normalised column name (full-width brackets and
letters become ASCII, so 「建物名等（方書）」 and 「建物名等(方書)」 are the same column), plus
the point geometry (longitude, latitude in WGS84) when the file has one. GeoJSON in another CRS
(the Nanao file is in JGD2011 plane rectangular zone VII, EPSG:6675) is transformed with
pyproj. CSV rows whose cells do not line up with the header are reported, never silently
padded or cut. :func:`csv_records` is the CSV parse itself, shared with the questionnaire
reader (:mod:`surveys.reader`); files are decoded by :mod:`importers.text_encoding`.

>>> table = parse_csv_text("ID,名称（方書）\\n1,鶴ヶ城\\n2\\n", "a.csv")
>>> table.columns, table.rows[0].get("名称(方書)"), [str(p) for p in table.problems]
(['ID', '名称(方書)'], '鶴ヶ城', ['a.csv:3:-: 列の数が見出しと合いません（1 列、見出しは 2 列） / 1 cells but the header has 2 columns'])
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

from .problems import FileRejected, Problem, quoted, reason
from .text_encoding import read_text

#: The largest single cell accepted (bytes of junk without line breaks end here).
MAX_CELL_CHARS = 100_000


def normalise_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


@dataclasses.dataclass
class SourceRow:
    file: str
    row: int  # CSV: the line where the record starts (header = 1); GeoJSON: the feature number
    cells: dict[str, str]  # normalised column name -> cell text
    raw: dict[str, str]  # the cells under their published names, for the rejects file
    point: tuple[float, float] | None = None  # (lon, lat) from the geometry
    point_problem: str | None = None

    def get(self, *names: str) -> str:
        """The first non-empty cell among ``names`` ("" when none)."""
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
    encoding: str = "utf-8"

    def has(self, *names: str) -> bool:
        return any(name in self.columns for name in names)

    def missing_columns(self, required: dict[str, tuple[str, ...]]) -> list[Problem]:
        """One problem per required field none of whose accepted column names is present
        (reported at the header, under the field's first name)."""
        return [
            Problem(
                self.label, 1, names[0], reason("importers.problem.missing_column", field=field)
            )
            for field, names in required.items()
            if not self.has(*names)
        ]


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
    return parse_csv_text(text, label, encoding)


def csv_records(
    text: str, label: str, delimiter: str = ",", strict: bool = True
) -> list[tuple[int, list[str]]]:
    """Every CSV record of ``text`` (blank ones too) with the line where it starts.

    A malformed file (with ``strict``: a stray quote; always: a cell over
    :data:`MAX_CELL_CHARS`) raises :class:`FileRejected` naming the line.

    >>> csv_records('a,b\\n"x\\ny",2\\n\\n3,4\\n', "f.csv")
    [(1, ['a', 'b']), (2, ['x\\ny', '2']), (4, []), (5, ['3', '4'])]
    """
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records: list[tuple[int, list[str]]] = []
    seen_line = 0
    try:
        for cells in reader:
            records.append((seen_line + 1, cells))
            seen_line = reader.line_num
    except csv.Error as exc:
        raise FileRejected(
            Problem(
                label,
                reader.line_num or 1,
                "-",
                reason("importers.problem.csv_syntax", detail=quoted(str(exc))),
            )
        ) from exc
    return records


def parse_csv_text(text: str, label: str, encoding: str = "utf-8") -> SourceTable:
    """A CSV text as a :class:`SourceTable`; whole-file failures raise :class:`FileRejected`."""
    problems: list[Problem] = []
    header: list[str] | None = None
    raw_header: list[str] = []
    rows: list[SourceRow] = []
    for start, cells in csv_records(text, label):
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            raw_header = cells
            header = [normalise_header(c) for c in cells]
            problems += _header_problems(label, header)
            continue
        if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
            cells = cells[: len(header)]
        raw = dict(zip(raw_header, cells, strict=False))
        if len(cells) != len(header):
            problems.append(
                Problem(
                    label,
                    start,
                    "-",
                    reason("importers.problem.cell_count", cells=len(cells), columns=len(header)),
                )
            )
            rows.append(SourceRow(label, start, {}, raw))
            continue
        rows.append(SourceRow(label, start, dict(zip(header, cells, strict=True)), raw))
    if header is None:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.empty_file")))
    if not rows:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.header_only")))
    return SourceTable(label, "csv", header, raw_header, rows, problems, encoding)


def _header_problems(label: str, header: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(Problem(label, 1, name, reason("importers.problem.duplicate_column")))
        seen.add(name)
    return problems


#: CRS names that already are longitude/latitude on the GRS80/WGS84 ellipsoid.
_GEOGRAPHIC = {"4326", "6668", "4612", "CRS84", "OGC:1.3:CRS84"}


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
