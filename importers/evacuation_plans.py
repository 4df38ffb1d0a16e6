"""Read individual evacuation plans (個別避難計画) from a CSV file, as the municipality keeps them.

One row per register person, Japanese headers (English alternatives accepted):

=====================  =====================  =============================================
column                 English                value
=====================  =====================  =============================================
利用者ID               subject                the person's city-OS subject (required)
避難先種別             destination_kind       避難所 / 福祉避難所 / その他 (required)
避難先                 destination            a shelter's name or ID (required unless その他)
避難先の補足           destination_note       where, for その他 (a relative's home ...)
支援者1氏名 … 支援者3続柄  supporter1_name …      name, phone, relation of up to three supporters
移動手段               transport              徒歩 / 介助歩行 / 車いす / 自家用車 / 福祉車両 /
                                              ストレッチャー (required)
移動の補足             transport_note         free text
備考                   notes                  free text
=====================  =====================  =============================================

Every problem names ``FILE:ROW:COLUMN``; :mod:`sql.imports.evacuation_plans` checks the rows
against the database (the person on the register, the shelter known) and writes all or nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .field_values import nfkc
from .problems import FileRejected, Problem, quoted, reason
from .row_fields import RowFields
from .table_reader import SourceTable, parse_csv_text
from .text_encoding import read_text

SUBJECT = ("利用者ID", "subject")
KIND = ("避難先種別", "destination_kind")
DESTINATION = ("避難先", "destination")
DESTINATION_NOTE = ("避難先の補足", "destination_note")
TRANSPORT = ("移動手段", "transport")
TRANSPORT_NOTE = ("移動の補足", "transport_note")
NOTES = ("備考", "notes")
SUPPORTERS = 3

KINDS = {
    "避難所": "shelter",
    "指定避難所": "shelter",
    "shelter": "shelter",
    "福祉避難所": "welfare_shelter",
    "welfare_shelter": "welfare_shelter",
    "その他": "other",
    "other": "other",
}
TRANSPORTS = {
    "徒歩": "walk",
    "walk": "walk",
    "介助歩行": "walk_with_help",
    "付き添い歩行": "walk_with_help",
    "walk_with_help": "walk_with_help",
    "車いす": "wheelchair",
    "車椅子": "wheelchair",
    "wheelchair": "wheelchair",
    "自家用車": "car",
    "車": "car",
    "car": "car",
    "福祉車両": "welfare_vehicle",
    "welfare_vehicle": "welfare_vehicle",
    "ストレッチャー": "stretcher",
    "stretcher": "stretcher",
}


@dataclasses.dataclass(frozen=True)
class PlanRecord:
    file: str
    row: int
    subject: str
    destination_kind: str
    #: The shelter as written (name or ID), None for その他.
    destination: str | None
    destination_column: str
    destination_note: str | None
    supporters: list[dict[str, Any]]
    transport: str
    transport_note: str | None
    notes: str | None


@dataclasses.dataclass
class PlanBatch:
    records: list[PlanRecord]
    problems: list[Problem]


def read_plans(path: Path, label: str | None = None) -> PlanBatch:
    """The plans of a CSV file on disk (UTF-8, with or without BOM, or CP932)."""
    try:
        name = label or path.name
        text, encoding = read_text(path, name)
        table = parse_csv_text(text, name, encoding)
    except FileRejected as exc:
        return PlanBatch([], [exc.problem])
    return _records(table)


def parse_plans(text: str, label: str) -> PlanBatch:
    """The plans of CSV text (an upload)."""
    try:
        table = parse_csv_text(text, label)
    except FileRejected as exc:
        return PlanBatch([], [exc.problem])
    return _records(table)


def _records(table: SourceTable) -> PlanBatch:
    problems = list(table.problems)
    problems += table.missing_columns(
        {"利用者ID": SUBJECT, "避難先種別": KIND, "移動手段": TRANSPORT}
    )
    if problems:
        return PlanBatch([], problems)
    records: list[PlanRecord] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        if not row.cells:  # a row whose cells did not line up (already reported)
            continue
        fields = RowFields(row)
        record = _record(fields)
        problems += fields.problems
        if record is None:
            continue
        if record.subject in seen:
            problems.append(
                Problem(
                    table.label,
                    row.row,
                    fields.column(*SUBJECT),
                    reason("importers.problem.plan_duplicate", row=seen[record.subject]),
                )
            )
            continue
        seen[record.subject] = row.row
        records.append(record)
    return PlanBatch(records, problems)


def _choice(
    fields: RowFields, names: tuple[str, ...], table: dict[str, str], key: str
) -> str | None:
    column, value = fields.pick(names)
    text = nfkc(value)
    if not text:
        fields.problem(column, reason("importers.problem.required_value"))
        return None
    found = table.get(text) or table.get(text.lower())
    if found is None:
        choices = "、".join(k for k in table if not k.isascii())
        fields.problem(column, reason(key, value=quoted(value), choices=choices))
    return found


def _record(fields: RowFields) -> PlanRecord | None:
    before = len(fields.problems)
    subject = fields.text(*SUBJECT, max_length=64, required=True)
    kind = _choice(fields, KIND, KINDS, "importers.problem.plan_kind")
    destination = fields.text(*DESTINATION, max_length=200)
    destination_note = fields.text(*DESTINATION_NOTE, max_length=200)
    transport = _choice(fields, TRANSPORT, TRANSPORTS, "importers.problem.plan_transport")
    if kind in ("shelter", "welfare_shelter") and not destination:
        fields.problem(
            fields.column(*DESTINATION), reason("importers.problem.plan_destination_required")
        )
    if kind == "other" and not (destination_note or destination):
        fields.problem(
            fields.column(*DESTINATION_NOTE), reason("importers.problem.plan_note_required")
        )
    supporters = []
    for k in range(1, SUPPORTERS + 1):
        name = fields.text(f"支援者{k}氏名", f"supporter{k}_name", max_length=100)
        phone = fields.text(f"支援者{k}電話", f"supporter{k}_phone", max_length=32)
        relation = fields.text(f"支援者{k}続柄", f"supporter{k}_relation", max_length=32)
        if (phone or relation) and not name:
            fields.problem(
                fields.column(f"支援者{k}氏名", f"supporter{k}_name"),
                reason("importers.problem.plan_supporter_name"),
            )
        if name:
            supporters.append({"name": name, "phone": phone, "relation": relation})
    transport_note = fields.text(*TRANSPORT_NOTE, max_length=200)
    notes = fields.text(*NOTES, max_length=1000)
    if len(fields.problems) > before or subject is None or kind is None or transport is None:
        return None
    return PlanRecord(
        file=fields.row.file,
        row=fields.row.row,
        subject=subject,
        destination_kind=kind,
        destination=destination if kind != "other" else None,
        destination_column=fields.column(*DESTINATION),
        destination_note=destination_note or (destination if kind == "other" else None),
        supporters=supporters,
        transport=transport,
        transport_note=transport_note,
        notes=notes,
    )
