"""国土地理院「指定緊急避難場所データ」「指定避難所データ」 (GeoJSON and CSV) → shelter records.

Columns as GSI publishes them: 共通ID, 施設・場所名, 住所, the eight hazard flags 洪水 … 火山現象
(emergency sites only), 指定避難所との住所同一 / 指定緊急避難場所との住所同一, 受入対象者,
その他市町村長が必要と認める事項, 備考; CSV files add 市町村コード, 緯度, 経度. GSI's data has no
capacity. Which of the two lists a file is follows from its columns.
"""

from __future__ import annotations

import re

from .municipality_codes import municipality_code_from_gsi_id, normalise_municipality_code
from .problems import Problem, quoted, reason
from .row_fields import RowFields
from .shelter_record import HAZARD_FLAG_COLUMNS, RecordOrigin, ShelterRecord
from .table_reader import SourceRow, SourceTable

#: GSI's hazard columns, in the order of :data:`HAZARD_FLAG_COLUMNS`.
GSI_HAZARD_COLUMNS = (
    "洪水",
    "崖崩れ、土石流及び地滑り",
    "高潮",
    "地震",
    "津波",
    "大規模な火事",
    "内水氾濫",
    "火山現象",
)
ID_COLUMNS = ("共通ID",)
NAME_COLUMNS = ("施設・場所名", "施設･場所名", "施設名", "名称")
ADDRESS_COLUMNS = ("住所",)
LAT_COLUMNS = ("緯度",)
LON_COLUMNS = ("経度",)
CODE_COLUMNS = ("市町村コード", "市区町村コード")
EMERGENCY_MARKERS = (*GSI_HAZARD_COLUMNS, "指定避難所との住所同一")
SHELTER_MARKERS = ("受入対象者", "指定緊急避難場所との住所同一", "その他市町村長が必要と認める事項")

#: Signature columns: a file with 共通ID and 施設・場所名 is GSI data.
SIGNATURE = ("共通ID", "施設・場所名")

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def looks_like_gsi(columns: list[str]) -> bool:
    return any(c in columns for c in SIGNATURE)


def gsi_list_kind(table: SourceTable) -> str | None:
    """``gsi_emergency_site`` or ``gsi_shelter`` from the columns (None when it cannot tell)."""
    if table.has(*EMERGENCY_MARKERS):
        return "gsi_emergency_site"
    if table.has(*SHELTER_MARKERS):
        return "gsi_shelter"
    return None


def required_column_problems(table: SourceTable) -> list[Problem]:
    problems = table.missing_columns({"共通ID": ID_COLUMNS, "施設・場所名": NAME_COLUMNS})
    if table.kind == "csv" and not (table.has(*LAT_COLUMNS) and table.has(*LON_COLUMNS)):
        problems.append(
            Problem(
                table.label,
                1,
                "緯度",
                reason("importers.problem.missing_column", field="緯度・経度"),
            )
        )
    if gsi_list_kind(table) is None:
        problems.append(Problem(table.label, 1, "-", reason("importers.problem.gsi_kind_unknown")))
    return problems


def gsi_record(row: SourceRow, dataset: str) -> tuple[ShelterRecord | None, list[Problem]]:
    fields = RowFields(row)
    gsi_id = fields.text(*ID_COLUMNS, max_length=64, required=True)
    if gsi_id and not _ID_PATTERN.match(gsi_id):
        fields.problem(ID_COLUMNS[0], reason("importers.problem.bad_id", value=quoted(gsi_id)))
    name = fields.text(*NAME_COLUMNS, max_length=200, required=True)
    address = fields.text(*ADDRESS_COLUMNS, max_length=300)
    coordinates = fields.coordinates(LAT_COLUMNS, LON_COLUMNS)
    code_raw = fields.raw(*CODE_COLUMNS)
    code = (
        normalise_municipality_code(code_raw)
        if code_raw
        else municipality_code_from_gsi_id(gsi_id or "")
    )
    if code_raw and code is None:
        fields.problem(
            fields.column(*CODE_COLUMNS),
            reason("importers.problem.bad_municipality_code", value=quoted(code_raw)),
        )
    notes = fields.notes(("備考", None), ("その他市町村長が必要と認める事項", "その他"))
    target_groups = fields.text("受入対象者", max_length=200)
    flags = {
        col: fields.flag(src)
        for col, src in zip(HAZARD_FLAG_COLUMNS, GSI_HAZARD_COLUMNS, strict=True)
    }
    if dataset == "gsi_emergency_site":
        also_shelter = fields.flag("指定避難所との住所同一")
        kinds = {"is_emergency_site": True, "is_designated_shelter": True if also_shelter else None}
    else:
        also_site = fields.flag("指定緊急避難場所との住所同一")
        kinds = {"is_designated_shelter": True, "is_emergency_site": True if also_site else None}
    welfare = bool(target_groups) or "福祉避難所" in (name or "")
    if fields.problems or gsi_id is None or name is None or coordinates is None:
        return None, fields.problems
    lat, lon = coordinates
    record = ShelterRecord(
        name=name,
        lat=lat,
        lon=lon,
        source="gsi",
        dataset=dataset,
        gsi_id=gsi_id,
        municipality_code=code,
        address=address,
        target_groups=target_groups,
        notes=notes,
        is_welfare_shelter=welfare if dataset == "gsi_shelter" else (True if welfare else None),
        origin=RecordOrigin(row.file, row.row, row.raw),
        **{k: v for k, v in flags.items() if v is not None},
        **kinds,
    )
    return record, []
