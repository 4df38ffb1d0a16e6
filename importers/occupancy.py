"""Open-shelter snapshots: a head count per shelter per moment (e.g. 七尾市, 2024 Noto earthquake).

Each file lists the shelters open at one moment in the standard-dataset columns (ID, 名称,
所在地_…, 緯度, 経度, 災害種別_…, 想定収容人数) plus 地区 and the head count. The count column
changes name between files: 「人数_令和6年1月9日午後6時時点」 in the earliest (the moment is in
the header), then 「人数」 with the moment in a 「時点」 column. When neither says when, the file
name's ``YYYY-MM-DD-HHMM`` (Japan time) is used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

from bosai.jpdate import TOKYO

from . import shelters_standard
from .japanese_datetime import parse_japanese_datetime
from .problems import FieldError, FileRejected, Problem, reason
from .progress import Progress, tick
from .row_fields import RowFields
from .shelter_record import RecordOrigin, ShelterRecord
from .table_reader import SourceTable, read_table
from .text_encoding import files_to_read

COUNT_COLUMN = "人数"
TIME_COLUMN = "時点"
_FILE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[-_T]?(\d{2})(\d{2})")


@dataclasses.dataclass
class OccupancyObservation:
    record: ShelterRecord  # the shelter as the snapshot describes it
    observed_at: dt.datetime  # UTC
    head_count: int
    file: str
    row: int


@dataclasses.dataclass
class OccupancyBatch:
    files: list[Path]
    observations: list[OccupancyObservation]
    problems: list[Problem]
    rejected: dict[tuple[str, int], RecordOrigin] = dataclasses.field(default_factory=dict)
    raw_columns: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def snapshot_times(self) -> list[dt.datetime]:
        return sorted({o.observed_at for o in self.observations})


def count_column(table: SourceTable) -> str | None:
    if COUNT_COLUMN in table.columns:
        return COUNT_COLUMN
    return next((c for c in table.columns if c.startswith(COUNT_COLUMN + "_")), None)


def _file_time(path: Path) -> dt.datetime | None:
    match = _FILE_TIME.search(path.name)
    if not match:
        return None
    year, month, day, hour, minute = map(int, match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO).astimezone(dt.UTC)
    except ValueError:
        return None


def read_snapshot(path: Path) -> OccupancyBatch:
    batch = OccupancyBatch([path], [], [])
    try:
        table = read_table(path)
    except FileRejected as exc:
        batch.problems.append(exc.problem)
        return batch
    batch.raw_columns[table.label] = table.raw_columns
    column_problems = shelters_standard.required_column_problems(table)
    counts = count_column(table)
    if counts is None:
        column_problems.append(
            Problem(table.label, 1, COUNT_COLUMN, reason("importers.problem.no_count_column"))
        )
    header_time = None
    if counts and counts != COUNT_COLUMN:
        try:
            header_time = parse_japanese_datetime(counts[len(COUNT_COLUMN) + 1 :])
        except FieldError as exc:
            column_problems.append(Problem(table.label, 1, counts, exc.reason))
    file_time = _file_time(path)
    if TIME_COLUMN not in table.columns and header_time is None and file_time is None:
        column_problems.append(
            Problem(table.label, 1, TIME_COLUMN, reason("importers.problem.no_time"))
        )
    if column_problems:
        # Wrong columns make every row's problems noise: report the header alone.
        batch.problems += [p for p in table.problems if p.row == 1] + column_problems
        return batch
    batch.problems += table.problems
    bad_rows = {p.row for p in table.problems}
    for row in table.rows:
        origin = RecordOrigin(row.file, row.row, row.raw)
        if row.row in bad_rows:
            batch.rejected[(row.file, row.row)] = origin
            continue
        record, problems = shelters_standard.standard_record(
            row, source="occupancy", dataset="occupancy"
        )
        fields = RowFields(row)
        head_count = fields.count(counts)
        observed_at = header_time or file_time
        if row.get(TIME_COLUMN):
            observed_at = _row_time(fields)
        problems += fields.problems
        if problems or record is None or head_count is None or observed_at is None:
            batch.problems += problems
            batch.rejected[(row.file, row.row)] = origin
            continue
        batch.observations.append(
            OccupancyObservation(record, observed_at, head_count, row.file, row.row)
        )
    return batch


def _row_time(fields: RowFields) -> dt.datetime | None:
    try:
        return parse_japanese_datetime(fields.raw(TIME_COLUMN))
    except FieldError as exc:
        fields.problem(TIME_COLUMN, exc.reason)
        return None


def read_occupancy(
    paths: Iterable[Path | str], *, progress: Progress | None = None
) -> OccupancyBatch:
    """All snapshots of the given files and folders, with duplicates across files removed.

    ``progress(files_done, files_total)`` is called after each file.
    """
    paths = list(paths)
    files = files_to_read(paths, ".csv")
    batch = OccupancyBatch(files, [], [])
    if not files:
        batch.problems.append(
            Problem(
                ", ".join(map(str, paths)), "-", "-", reason("importers.problem.no_snapshot_files")
            )
        )
        return batch
    for done, path in enumerate(files, start=1):
        one = read_snapshot(path)
        tick(progress, done, len(files), step=1)
        batch.observations += one.observations
        batch.problems += one.problems
        batch.rejected.update(one.rejected)
        batch.raw_columns.update(one.raw_columns)
    _drop_repeats(batch)
    return batch


def _drop_repeats(batch: OccupancyBatch) -> None:
    """The same snapshot in two files is read once; differing counts for it are a problem."""
    seen: dict[tuple[str, str, dt.datetime], OccupancyObservation] = {}
    kept = []
    for obs in batch.observations:
        key = (obs.record.municipality_name or "", obs.record.published_id or "", obs.observed_at)
        first = seen.get(key)
        if first is None:
            seen[key] = obs
            kept.append(obs)
        elif first.head_count != obs.head_count:
            batch.problems.append(
                Problem(
                    obs.file,
                    obs.row,
                    COUNT_COLUMN,
                    reason(
                        "importers.problem.conflicting_count",
                        first=f"{first.file}:{first.row}",
                        other=first.head_count,
                    ),
                )
            )
            batch.rejected[(obs.file, obs.row)] = RecordOrigin(
                obs.file, obs.row, obs.record.origin.raw if obs.record.origin else {}
            )
    batch.observations = kept
