"""Read evacuation-information inputs: issuance areas, river stations, water-level observations.

Plain records, no database (:mod:`sql.imports.evacuation` checks them against it and writes all
or nothing). Every problem names ``FILE:ROW:COLUMN``.

*Areas* (避難情報の発令区域) come as GeoJSON (Polygon/MultiPolygon features, WGS84) or CSV with
the geometry as WKT:

=============  ===========  ====================================================
column         English      value
=============  ===========  ====================================================
区域コード     code         the city's code for the area (required, unique)
区域名         name         名称 (required)
区域名英語     name_en      optional
種別           kind         地区 / 町字 / ハザード (district / chocho / hazard)
WKT            geometry     CSV only: POLYGON/MULTIPOLYGON in lon lat order
人口           residents    optional: all residents by the city's counts (also the
                            e-Stat 小地域 boundary property JINKO)
世帯数         households   optional: households (also e-Stat SETAI)
集計の出典     counts_source  optional: where the counts come from (令和2年国勢調査)
=============  ===========  ====================================================

Counts are whole numbers ≥ 0 (「1,234」 accepted); an empty cell means the city gave none.

*Stations* (水位観測所, CSV): 観測所コード, 観測所名, 河川名, 緯度, 経度, 水防団待機水位,
氾濫注意水位, 避難判断水位, 氾濫危険水位 (metres, strictly increasing), and optionally
観測下限/観測上限 (the readings the gauge can give; default 5 m below 水防団待機水位 and 10 m
above 氾濫危険水位).

*Observations* (水位, CSV): 観測所コード, 観測日時 (ISO 8601 or Japanese; Japan time when no
zone is written), 水位 (m). A station, a time in the future, or a value out of the station's
range is checked against the database by :mod:`sql.imports.evacuation`; a repeated station and
time within the file is refused here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bosai.geo_bounds import in_japan

from .field_values import nfkc
from .japanese_datetime import parse_japanese_datetime
from .problems import FieldError, FileRejected, Problem, quoted, reason
from .row_fields import RowFields
from .table_reader import SourceRow, is_geojson_path, parse_csv_text
from .text_encoding import read_text

AREA_CODE = ("区域コード", "code")
AREA_NAME = ("区域名", "name")
AREA_NAME_EN = ("区域名英語", "name_en")
AREA_KIND = ("種別", "kind")
AREA_WKT = ("WKT", "geometry", "wkt")
AREA_RESIDENTS = ("人口", "residents", "JINKO")
AREA_HOUSEHOLDS = ("世帯数", "households", "SETAI")
AREA_COUNTS_SOURCE = ("集計の出典", "counts_source")
AREA_KINDS = {
    "地区": "district",
    "district": "district",
    "町字": "chocho",
    "町丁目": "chocho",
    "chocho": "chocho",
    "ハザード": "hazard",
    "浸水想定区域": "hazard",
    "土砂災害警戒区域": "hazard",
    "hazard": "hazard",
}

STATION_CODE = ("観測所コード", "station", "code")
STATION_NAME = ("観測所名", "name")
STATION_NAME_EN = ("観測所名英語", "name_en")
RIVER = ("河川名", "river")
LAT = ("緯度", "lat")
LON = ("経度", "lon")
THRESHOLDS = (
    ("standby_m", ("水防団待機水位", "standby_m")),
    ("caution_m", ("氾濫注意水位", "caution_m")),
    ("judgement_m", ("避難判断水位", "judgement_m")),
    ("danger_m", ("氾濫危険水位", "danger_m")),
)
RANGE_MIN = ("観測下限", "range_min_m")
RANGE_MAX = ("観測上限", "range_max_m")
OBSERVED_AT = ("観測日時", "observed_at")
LEVEL = ("水位", "level_m")


@dataclasses.dataclass(frozen=True)
class AreaRecord:
    file: str
    row: int
    code: str
    kind: str
    name_ja: str
    name_en: str | None
    geometry: BaseGeometry
    #: All residents and households by the city's counts (None when not given).
    residents: int | None = None
    households: int | None = None
    counts_source: str | None = None

    @property
    def wkb(self) -> bytes:
        return shapely.to_wkb(self.geometry, output_dimension=2)


@dataclasses.dataclass(frozen=True)
class StationRecord:
    file: str
    row: int
    code: str
    name_ja: str
    name_en: str | None
    river_ja: str | None
    lat: float | None
    lon: float | None
    standby_m: float
    caution_m: float
    judgement_m: float
    danger_m: float
    range_min_m: float
    range_max_m: float


@dataclasses.dataclass(frozen=True)
class ObservationRecord:
    file: str
    row: int
    station_code: str
    observed_at: dt.datetime
    level_m: float


@dataclasses.dataclass
class Parsed:
    """What a file gave: records and problems (any problem refuses the file)."""

    records: list[Any]
    problems: list[Problem]


# ------------------------------------------------------------------ areas


def _area_geometry(geometry: BaseGeometry | None) -> str | None:
    """The reason an area geometry is unusable, or None."""
    if geometry is None or geometry.is_empty:
        return reason("importers.problem.area_geometry_empty")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return reason("importers.problem.area_geometry_type", value=quoted(geometry.geom_type))
    if not geometry.is_valid:
        return reason(
            "importers.problem.area_geometry_invalid",
            detail=quoted(shapely.is_valid_reason(geometry)),
        )
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (in_japan(min_lat, min_lon) and in_japan(max_lat, max_lon)):
        return reason("importers.problem.area_outside_japan")
    return None


def _area_fields(fields: RowFields) -> tuple[str | None, str | None, str | None, str | None]:
    code = fields.text(*AREA_CODE, max_length=64, required=True)
    name = fields.text(*AREA_NAME, max_length=200, required=True)
    name_en = fields.text(*AREA_NAME_EN, max_length=200)
    kind_column, kind_raw = fields.pick(AREA_KIND)
    kind = AREA_KINDS.get(nfkc(kind_raw).strip()) if kind_raw.strip() else "district"
    if kind is None:
        fields.problem(
            kind_column,
            reason(
                "importers.problem.area_kind",
                value=quoted(kind_raw),
                choices="地区・町字・ハザード",
            ),
        )
    return code, name, name_en, kind


def _optional_count(fields: RowFields, names: tuple[str, ...]) -> int | None:
    """A whole number ≥ 0 from the first of ``names`` with a value; None when all are empty."""
    return fields.count(*names) if fields.raw(*names).strip() else None


def _area_counts(fields: RowFields) -> dict[str, Any]:
    """The city's residents, households and their source (each None when not given)."""
    return {
        "residents": _optional_count(fields, AREA_RESIDENTS),
        "households": _optional_count(fields, AREA_HOUSEHOLDS),
        "counts_source": fields.text(*AREA_COUNTS_SOURCE, max_length=200),
    }


def _geojson_rows(text: str, label: str) -> list[tuple[SourceRow, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            Problem(label, exc.lineno, "-", reason("importers.problem.not_geojson"))
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.not_geojson")))
    rows = []
    for number, feature in enumerate(data.get("features") or [], start=1):
        props = (feature or {}).get("properties") or {}
        cells = {nfkc(str(k)).strip(): "" if v is None else str(v) for k, v in props.items()}
        rows.append((SourceRow(label, number, cells, dict(cells)), (feature or {}).get("geometry")))
    return rows


def read_areas(path: Path, label: str | None = None) -> Parsed:
    """Areas from a GeoJSON or CSV (WKT) file."""
    label = label or str(path)
    text, encoding = read_text(path, label)
    problems: list[Problem] = []
    if is_geojson_path(path):
        pairs = _geojson_rows(text, label)
    else:
        table = parse_csv_text(text, label, encoding)
        problems += table.problems
        problems += table.missing_columns({"区域コード": AREA_CODE, "区域名": AREA_NAME})
        problems += table.missing_columns({"WKT": AREA_WKT})
        if problems:
            return Parsed([], problems)
        pairs = [(row, None) for row in table.rows]
    records: list[AreaRecord] = []
    seen: dict[str, int] = {}
    for row, raw_geometry in pairs:
        fields = RowFields(row)
        code, name, name_en, kind = _area_fields(fields)
        counts = _area_counts(fields)
        geometry, geometry_column = None, "geometry"
        try:
            if raw_geometry is not None:
                geometry = shape(raw_geometry)
            elif not is_geojson_path(path):
                geometry_column, wkt = fields.pick(AREA_WKT)
                geometry = shapely.from_wkt(wkt) if wkt.strip() else None
        except (shapely.errors.GEOSException, ValueError, TypeError, AttributeError) as exc:
            fields.problem(
                geometry_column,
                reason("importers.problem.area_geometry_unreadable", detail=quoted(str(exc))),
            )
        else:
            why = _area_geometry(geometry)
            if why:
                fields.problem(geometry_column, why)
        _first_row_of(fields, seen, code, AREA_CODE, "importers.problem.area_duplicate")
        problems += fields.problems
        if not fields.problems and code and name and kind and geometry is not None:
            records.append(
                AreaRecord(label, row.row, code, kind, name, name_en, geometry, **counts)
            )
    if not records and not problems:
        problems.append(Problem(label, "-", "-", reason("importers.error.nothing_valid")))
    return Parsed(records, problems)


def _first_row_of(
    fields: RowFields, seen: dict[str, int], code: str | None, columns: tuple[str, ...], key: str
) -> None:
    """Remember the row that first gives ``code``; a later row giving it again is a problem
    (catalog ``key``) in the code's column that names the first row."""
    if code and code in seen:
        fields.problem(fields.column(*columns), reason(key, value=quoted(code), row=seen[code]))
    elif code:
        seen[code] = fields.row.row


# ------------------------------------------------------------------ stations


def read_stations(path: Path, label: str | None = None) -> Parsed:
    label = label or str(path)
    text, encoding = read_text(path, label)
    table = parse_csv_text(text, label, encoding)
    required = {"観測所コード": STATION_CODE, "観測所名": STATION_NAME}
    required.update({names[0]: names for _, names in THRESHOLDS})
    problems = [*table.problems, *table.missing_columns(required)]
    if problems:
        return Parsed([], problems)
    records: list[StationRecord] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        fields = RowFields(row)
        code = fields.text(*STATION_CODE, max_length=32, required=True)
        name = fields.text(*STATION_NAME, max_length=100, required=True)
        name_en = fields.text(*STATION_NAME_EN, max_length=100)
        river = fields.text(*RIVER, max_length=100)
        lat = lon = None
        if row.get(*LAT) or row.get(*LON):
            position = fields.coordinates(LAT, LON)
            if position:
                lat, lon = position
        values = {key: fields.number(*names, required=True) for key, names in THRESHOLDS}
        if all(v is not None for v in values.values()):
            ordered = [values[key] for key, _ in THRESHOLDS]
            for (_key, names), low, high in zip(THRESHOLDS[1:], ordered, ordered[1:], strict=False):
                if not high > low:
                    fields.problem(
                        fields.column(*names),
                        reason("importers.problem.threshold_order", value=high, below=low),
                    )
        range_min = fields.number(*RANGE_MIN)
        range_max = fields.number(*RANGE_MAX)
        if not fields.problems:
            range_min = values["standby_m"] - 5.0 if range_min is None else range_min
            range_max = values["danger_m"] + 10.0 if range_max is None else range_max
            if not range_min < values["standby_m"] or not range_max > values["danger_m"]:
                fields.problem(fields.column(*RANGE_MAX), reason("importers.problem.station_range"))
        _first_row_of(fields, seen, code, STATION_CODE, "importers.problem.station_duplicate")
        problems += fields.problems
        if not fields.problems and code and name:
            records.append(
                StationRecord(
                    label,
                    row.row,
                    code,
                    name,
                    name_en,
                    river,
                    lat,
                    lon,
                    range_min_m=float(range_min),
                    range_max_m=float(range_max),
                    **{k: float(v) for k, v in values.items()},
                )
            )
    if not records and not problems:
        problems.append(Problem(label, "-", "-", reason("importers.error.nothing_valid")))
    return Parsed(records, problems)


# ------------------------------------------------------------------ observations


def _observed_at(raw: str) -> dt.datetime:
    return parse_japanese_datetime(raw)


def read_observations(path: Path, label: str | None = None) -> Parsed:
    label = label or str(path)
    text, encoding = read_text(path, label)
    return parse_observations(text, label, encoding)


def parse_observations(text: str, label: str, encoding: str = "utf-8") -> Parsed:
    table = parse_csv_text(text, label, encoding)
    problems = [
        *table.problems,
        *table.missing_columns(
            {"観測所コード": STATION_CODE, "観測日時": OBSERVED_AT, "水位": LEVEL}
        ),
    ]
    if problems:
        return Parsed([], problems)
    records: list[ObservationRecord] = []
    seen: dict[tuple[str, dt.datetime], int] = {}
    for row in table.rows:
        fields = RowFields(row)
        code = fields.text(*STATION_CODE, max_length=32, required=True)
        at_column, at_raw = fields.pick(OBSERVED_AT)
        observed_at = None
        try:
            observed_at = _observed_at(at_raw)
        except FieldError as exc:
            fields.problem(at_column, exc.reason)
        level = fields.number(*LEVEL, required=True)
        if code and observed_at is not None:
            key = (code, observed_at)
            if key in seen:
                fields.problem(
                    at_column,
                    reason("importers.problem.observation_duplicate", row=seen[key]),
                )
            else:
                seen[key] = row.row
        problems += fields.problems
        if not fields.problems and code and observed_at is not None and level is not None:
            records.append(ObservationRecord(label, row.row, code, observed_at, float(level)))
    if not records and not problems:
        problems.append(Problem(label, "-", "-", reason("importers.error.nothing_valid")))
    return Parsed(records, problems)
