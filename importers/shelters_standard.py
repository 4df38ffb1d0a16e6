"""デジタル庁「自治体標準オープンデータセット」指定緊急避難場所一覧 → shelter records.

The full layout has 39 columns (全国地方公共団体コード, ID, 名称, 名称_カナ, 名称_英字,
所在地_全国地方公共団体コード, 町字ID, 所在地_連結表記, 所在地_都道府県 … 建物名等(方書), 緯度,
経度, 標高, 電話番号 … 地方公共団体名, 災害種別_洪水 … 災害種別_火山現象, 指定避難所との重複,
想定収容人数, 対象となる町会・自治会, URL, 画像, 画像_ライセンス, 備考). Cities publish subsets
and the older layout (住所, 方書, 都道府県名, 市区町村名); only ID, 名称, 緯度 and 経度 are
required. The ID is unique within its municipality only, so the stored ``standard_id`` is
``<municipality code>-<ID>`` (e.g. ``172022-CC0000000518``).
"""

from __future__ import annotations

import re

from .municipality_codes import normalise_municipality_code
from .problems import Problem, quoted, reason
from .row_fields import RowFields
from .shelter_record import HAZARD_FLAG_COLUMNS, RecordOrigin, ShelterRecord
from .shelters_gsi import GSI_HAZARD_COLUMNS
from .table_reader import SourceRow, SourceTable

#: The 39 columns of the full layout, in order.
STANDARD_COLUMNS_39 = (
    "全国地方公共団体コード",
    "ID",
    "名称",
    "名称_カナ",
    "名称_英字",
    "所在地_全国地方公共団体コード",
    "町字ID",
    "所在地_連結表記",
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
    "緯度",
    "経度",
    "標高",
    "電話番号",
    "内線番号",
    "連絡先メールアドレス",
    "連絡先FormURL",
    "連絡先備考(その他、SNSなど)",
    "郵便番号",
    "市区町村コード",
    "地方公共団体名",
    *(f"災害種別_{name}" for name in GSI_HAZARD_COLUMNS),
    "指定避難所との重複",
    "想定収容人数",
    "対象となる町会・自治会",
    "URL",
    "画像",
    "画像_ライセンス",
    "備考",
)
STANDARD_HAZARD_COLUMNS = tuple(f"災害種別_{name}" for name in GSI_HAZARD_COLUMNS)
ID_COLUMNS = ("ID",)
NAME_COLUMNS = ("名称",)
LAT_COLUMNS = ("緯度",)
LON_COLUMNS = ("経度",)
CODE_COLUMNS = (
    "全国地方公共団体コード",
    "所在地_全国地方公共団体コード",
    "市区町村コード",
    "都道府県コード又は市区町村コード",
)
ADDRESS_PART_COLUMNS = ("所在地_都道府県", "所在地_市区町村", "所在地_町字", "所在地_番地以下")
BUILDING_COLUMNS = ("建物名等(方書)", "方書")
PREFECTURE_COLUMNS = ("所在地_都道府県", "都道府県名")
MUNICIPALITY_COLUMNS = ("所在地_市区町村", "市区町村名", "地方公共団体名")

SIGNATURE = ("名称", "ID")
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")
_PREFECTURE = re.compile(r"^(北海道|東京都|大阪府|京都府|.{2,3}県)")


def looks_like_standard(columns: list[str]) -> bool:
    return all(c in columns for c in SIGNATURE) or any(
        c in columns for c in STANDARD_HAZARD_COLUMNS
    )


def required_column_problems(table: SourceTable) -> list[Problem]:
    needed = {"ID": ID_COLUMNS, "名称": NAME_COLUMNS}
    if table.kind == "csv":
        needed |= {"緯度": LAT_COLUMNS, "経度": LON_COLUMNS}
    return table.missing_columns(needed)


def standard_shelter_id(municipality_code: str | None, published_id: str) -> str:
    return f"{municipality_code}-{published_id}" if municipality_code else published_id


def standard_record(
    row: SourceRow,
    *,
    source: str = "standard",
    dataset: str = "standard_emergency_site",
    municipality_code: str | None = None,
) -> tuple[ShelterRecord | None, list[Problem]]:
    """One row of the standard list. ``standard_id`` is finished later when the code is known."""
    fields = RowFields(row)
    published_id = fields.text(*ID_COLUMNS, max_length=48, required=True)
    if published_id and not _ID_PATTERN.match(published_id):
        fields.problem("ID", reason("importers.problem.bad_id", value=quoted(published_id)))
    name = fields.text(*NAME_COLUMNS, max_length=200, required=True)
    kana = fields.text("名称_カナ", max_length=200)
    coordinates = fields.coordinates(LAT_COLUMNS, LON_COLUMNS)
    elevation = fields.number("標高")
    phone = fields.text("電話番号", max_length=32)
    capacity, capacity_text = fields.capacity("想定収容人数")
    district = fields.text("地区", max_length=64)
    address = fields.text("所在地_連結表記", "住所", max_length=300)
    if address is None and any(fields.raw(c) for c in ADDRESS_PART_COLUMNS):
        parts = [fields.text(c, max_length=100) or "" for c in ADDRESS_PART_COLUMNS]
        address = "".join(parts) or None
    building = fields.text(*BUILDING_COLUMNS, max_length=200)
    if address and building and building not in address:
        address = f"{address} {building}"
    prefecture, municipality = _place_names(fields, address)
    code = municipality_code
    code_raw = fields.raw(*CODE_COLUMNS)
    if code_raw:
        code = normalise_municipality_code(code_raw)
        if code is None:
            fields.problem(
                fields.column(*CODE_COLUMNS),
                reason("importers.problem.bad_municipality_code", value=quoted(code_raw)),
            )
    flags = {
        col: fields.flag(src)
        for col, src in zip(HAZARD_FLAG_COLUMNS, STANDARD_HAZARD_COLUMNS, strict=True)
    }
    also_shelter = fields.flag("指定避難所との重複")
    notes = fields.notes(("備考", None), ("対象となる町会・自治会", "対象となる町会・自治会"))
    welfare = "福祉避難所" in (name or "")
    if fields.problems or published_id is None or name is None or coordinates is None:
        return None, fields.problems
    lat, lon = coordinates
    if address is not None and len(address) > 300:
        return None, [
            Problem(
                row.file,
                row.row,
                "所在地_連結表記",
                reason("importers.problem.too_long", limit=300),
            )
        ]
    record = ShelterRecord(
        name=name,
        lat=lat,
        lon=lon,
        source=source,
        dataset=dataset,
        published_id=published_id,  # standard_id follows once the municipality is known
        municipality_code=code,
        kana=kana,
        address=address,
        district=district,
        elevation_m=elevation,
        capacity=capacity,
        capacity_text=capacity_text,
        phone=phone,
        notes=notes,
        is_emergency_site=True if dataset == "standard_emergency_site" else None,
        is_designated_shelter=True if also_shelter else None,
        is_welfare_shelter=True if welfare else None,
        prefecture_name=prefecture,
        municipality_name=municipality,
        origin=RecordOrigin(row.file, row.row, row.raw),
        **{k: v for k, v in flags.items() if v is not None},
    )
    if dataset != "standard_emergency_site" and not any(flags.values()):
        record.is_emergency_site = None
    return record, []


def finish_standard_ids(records: list[ShelterRecord]) -> None:
    """Set ``standard_id`` = municipality code + published ID once the code is known."""
    for record in records:
        if record.published_id and record.municipality_code:
            record.standard_id = standard_shelter_id(record.municipality_code, record.published_id)


def _place_names(fields: RowFields, address: str | None) -> tuple[str | None, str | None]:
    prefecture = fields.text(*PREFECTURE_COLUMNS, max_length=10)
    municipality = fields.text(*MUNICIPALITY_COLUMNS, max_length=64)
    if municipality and prefecture and municipality.startswith(prefecture):
        municipality = municipality[len(prefecture) :]
    if prefecture is None and address:
        match = _PREFECTURE.match(address)
        prefecture = match.group(1) if match else None
    return prefecture, municipality
