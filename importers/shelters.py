"""Read shelter files of any supported format: the entry point for commands and the demo.

    batch = read_shelters(Path("gsi_designated_shelters_072028.geojson"))
    batch.records[0].gsi_id, batch.problems

``format`` is ``auto`` (decided by the columns), ``gsi`` or ``standard``. Records come back
valid or not at all: every invalid row is a problem instead, so a caller can refuse the file
(the default) or go on with the valid rows (``--skip-invalid``).
"""

from __future__ import annotations

from pathlib import Path

from . import shelters_gsi, shelters_standard
from .problems import FileRejected, Problem, reason
from .progress import Progress, tick
from .shelter_record import RecordOrigin, ShelterBatch, ShelterRecord
from .table_reader import SourceTable, read_table

FORMATS = ("auto", "gsi", "standard")


def detect_format(table: SourceTable) -> str:
    if shelters_gsi.looks_like_gsi(table.columns):
        return "gsi"
    if shelters_standard.looks_like_standard(table.columns):
        return "standard"
    raise FileRejected(
        Problem(table.label, 1, "-", reason("importers.problem.unknown_shelter_format"))
    )


def read_shelters(
    path: Path | str,
    format: str = "auto",
    *,
    municipality_code: str | None = None,
    progress: Progress | None = None,
) -> ShelterBatch:
    """Valid shelter records of one file, plus a problem for every invalid row or column.

    Parameters
    ----------
    path
        A GSI GeoJSON or CSV file, or a Digital Agency standard-dataset CSV.
    format
        ``auto`` (decided by the columns), ``gsi`` or ``standard``.
    municipality_code
        The code for rows of a standard list that do not say (rarely needed).
    progress
        Called as ``progress(rows_done, rows_total)`` while rows are validated.
    """
    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    try:
        table = read_table(path)
        chosen = detect_format(table) if format == "auto" else format
    except FileRejected as exc:
        return ShelterBatch(format, [path], [], [exc.problem])
    batch = ShelterBatch(
        chosen, [path], [], list(table.problems), raw_columns={table.label: table.raw_columns}
    )
    bad_rows = {p.row for p in table.problems}
    if chosen == "gsi":
        column_problems = shelters_gsi.required_column_problems(table)
        dataset = shelters_gsi.gsi_list_kind(table) or ""
    else:
        column_problems = shelters_standard.required_column_problems(table)
        dataset = "standard_emergency_site"
    if column_problems:
        # Wrong columns make every row's problems noise: report the header alone.
        batch.problems = [p for p in table.problems if p.row == 1] + column_problems
        return batch
    total = len(table.rows)
    for done, row in enumerate(table.rows, start=1):
        tick(progress, done, total)
        if row.row in bad_rows:
            batch.rejected[(row.file, row.row)] = RecordOrigin(row.file, row.row, row.raw)
            continue
        if chosen == "gsi":
            record, problems = shelters_gsi.gsi_record(row, dataset)
        else:
            record, problems = shelters_standard.standard_record(
                row, dataset=dataset, municipality_code=municipality_code
            )
        if record is None:
            batch.problems += problems
            batch.rejected[(row.file, row.row)] = RecordOrigin(row.file, row.row, row.raw)
        else:
            batch.records.append(record)
    if chosen == "standard":
        shelters_standard.finish_standard_ids(batch.records)
    _reject_duplicate_ids(batch)
    return batch


def _reject_duplicate_ids(batch: ShelterBatch) -> None:
    seen: dict[str, ShelterRecord] = {}
    kept: list[ShelterRecord] = []
    for record in batch.records:
        key = _id_key(record)
        first = seen.get(key) if key else None
        if first is None:
            if key:
                seen[key] = record
            kept.append(record)
            continue
        origin = record.origin or RecordOrigin("-", 0)
        where = f"{first.origin.file}:{first.origin.row}" if first.origin else "-"
        column = "共通ID" if record.gsi_id else "ID"
        batch.problems.append(
            Problem(
                origin.file,
                origin.row,
                column,
                reason(
                    "importers.problem.duplicate_id",
                    value=record.gsi_id or record.standard_id or record.published_id,
                    first=where,
                ),
            )
        )
        batch.rejected[(origin.file, origin.row)] = origin
    batch.records = kept


def _id_key(record: ShelterRecord) -> str | None:
    if record.gsi_id:
        return f"gsi={record.gsi_id}"
    if record.standard_id:
        return f"standard={record.standard_id}"
    if record.published_id:
        return f"published={record.municipality_code or ''}/{record.published_id}"
    return None
