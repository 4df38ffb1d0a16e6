"""``bosai import shelters|occupancy|hazards|warnings``: public data into the database.

Every command reads and validates the whole input first (``importers``), then writes it in one
transaction (``sql.imports``). Any invalid row stops the import: each problem is printed as
``FILE:ROW:COLUMN: reason``, the exit code is 2 and nothing is written. ``--skip-invalid``
imports the valid rows instead and writes the invalid ones, with their reasons, to a rejects
CSV beside the input. ``--dry-run`` shows what would be added, changed and left alone.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from bosai.errors import BosaiError, InvalidInputError

from .options import SHOW_CHANGES_OPTION

#: Inputs at least this large (rows, features or files) get a progress bar on stderr.
PROGRESS_MIN_ROWS = 2_000
PROGRESS_MIN_FILES = 20
#: Dry-run lines printed before the rest is summarised as a count.
DRY_RUN_LINES = 500


def register(cli: click.Group) -> None:
    cli.add_command(import_group)


def _both(key: str, **values: Any) -> str:
    from importers.problems import reason

    return reason(key, **values)


def _engine(obj: dict):
    from sql.engine import get_engine
    from sql.migrate import current_revision, head_revision

    engine = get_engine(obj["database_url"])
    if current_revision(engine) != head_revision():
        raise BosaiError("the database schema is not up to date: run `bosai db upgrade` first")
    return engine


class _ProgressBar:
    """A ``progress(done, total)`` callback that shows a bar on stderr once the input is large."""

    def __init__(self, minimum: int):
        self.minimum = minimum
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < self.minimum:
                return
            self.bar = click.progressbar(
                length=total,
                label=_both("importers.progress.reading"),
                file=sys.stderr,
            )
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _check_problems(
    problems: Sequence[Any],
    rejected: Mapping[tuple[str, Any], Mapping[str, str]],
    *,
    skip_invalid: bool,
    error_key: str,
    inputs: Sequence[Path],
    what: str,
    columns: Iterable[str] = (),
    whole_files_skippable: bool = False,
) -> int:
    """Stop on problems (exit 2), or with ``--skip-invalid`` write the rejects file.

    Returns the number of rejected rows. Problems that belong to no row (a missing column, an
    unreadable file) cannot be skipped, except where the unit of import is the whole file
    (JMA telegrams: ``whole_files_skippable``).
    """
    from importers.rejects import rejects_path, write_rejects

    if not problems:
        return 0
    lines = [str(p) for p in problems]
    skippable = whole_files_skippable or all((p.file, p.row) in rejected for p in problems)
    if not skip_invalid or not skippable:
        raise InvalidInputError(_both(error_key), lines)
    target = rejects_path(inputs, what)
    count = write_rejects(target, problems, rejected, columns)
    click.echo(_both("importers.rejects_written", n=count, path=str(target)), err=True)
    return count


def _check_table_batch(
    batch: Any, skip_invalid: bool, error_key: str, inputs: Sequence[Path], what: str
) -> int:
    """:func:`_check_problems` for a batch read from tables (shelters, occupancy): its rejected
    rows as read, and every column its files had."""
    return _check_problems(
        batch.problems,
        {key: origin.raw for key, origin in batch.rejected.items()},
        skip_invalid=skip_invalid,
        error_key=error_key,
        inputs=inputs,
        what=what,
        columns=[c for cols in batch.raw_columns.values() for c in cols],
    )


@dataclasses.dataclass(frozen=True)
class _TableInput:
    """What differs between the imports of table files (shelters, occupancy snapshots)."""

    #: Names the rejects file.
    what: str
    #: Catalog key of the message that refuses the input.
    error_key: str
    #: Inputs at least this large (rows or files) get a progress bar.
    progress_min: int
    #: The batch attribute holding the valid records.
    records: str


SHELTERS = _TableInput("shelters", "importers.error.invalid_shelters", PROGRESS_MIN_ROWS, "records")
OCCUPANCY = _TableInput(
    "occupancy", "importers.error.invalid_occupancy", PROGRESS_MIN_FILES, "observations"
)


def _import_table_batch(
    obj: dict,
    table: _TableInput,
    read: Callable[..., Any],
    store: Callable[..., Any],
    inputs: Sequence[Path],
    dry_run: bool,
    skip_invalid: bool,
) -> None:
    """Read the table input (``read(progress=…)``), stop on its problems or reject the invalid
    rows, store the valid records in one transaction (``store``) and report."""
    started = time.perf_counter()
    engine = _engine(obj)
    with _ProgressBar(table.progress_min) as bar:
        batch = read(progress=bar)
    rejected = _check_table_batch(batch, skip_invalid, table.error_key, inputs, table.what)
    records = getattr(batch, table.records)
    if not records:
        raise InvalidInputError(_both("importers.error.nothing_valid"))
    summary = store(engine, records, dry_run=dry_run)
    summary.rejected = rejected
    _report(summary, dry_run, started)


def _report(summary: Any, dry_run: bool, started: float) -> None:
    """The dry run's per-item lines (capped), then the one-line summary."""
    if dry_run:
        for line in summary.diff[:DRY_RUN_LINES]:
            click.echo(line)
        if len(summary.diff) > DRY_RUN_LINES:
            click.echo(_both("importers.more_lines", n=len(summary.diff) - DRY_RUN_LINES))
    for note in summary.notes:
        click.echo(note, err=True)
    elapsed = time.perf_counter() - started
    click.echo(f"{summary.line('ja')} / {summary.line('en')} ({elapsed:.1f} s)")


def _common(function):
    function = click.option(
        "--skip-invalid",
        is_flag=True,
        help="Import the valid rows; write the invalid ones to a rejects CSV beside the input.",
    )(function)
    function = SHOW_CHANGES_OPTION(function)
    return click.pass_obj(function)


@click.group("import")
def import_group() -> None:
    """Import public data: shelters, occupancy snapshots, hazard zones, JMA warnings; and the
    city's individual evacuation plans."""


@import_group.command("shelters")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "gsi", "standard"]),
    default="auto",
    show_default=True,
    help="gsi: GSI 指定緊急避難場所/指定避難所 (GeoJSON, CSV); standard: デジタル庁 標準データセット.",
)
@_common
def import_shelters(
    obj: dict, file: Path, file_format: str, dry_run: bool, skip_invalid: bool
) -> None:
    """Shelters and evacuation sites, upserted by ID; the same site from GSI and the standard list
    becomes one shelter with both IDs."""
    from importers.shelters import read_shelters
    from sql.imports.shelters import upsert_shelters

    read = functools.partial(read_shelters, file, file_format)
    _import_table_batch(obj, SHELTERS, read, upsert_shelters, [file], dry_run, skip_invalid)


@import_group.command("occupancy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_common
def import_occupancy(obj: dict, paths: tuple[Path, ...], dry_run: bool, skip_invalid: bool) -> None:
    """Open-shelter snapshots (head counts per shelter): files, or folders of CSV files.

    The city is taken from the data and must be configured (bosai city load). Unknown shelters
    are created from the snapshot rows; counts go to the city's open real incident, or to a new
    one.
    """
    from importers.occupancy import read_occupancy
    from sql.imports.occupancy import import_occupancy as write_occupancy

    read = functools.partial(read_occupancy, paths)
    _import_table_batch(obj, OCCUPANCY, read, write_occupancy, list(paths), dry_run, skip_invalid)


@import_group.command("hazards")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["flood", "landslide"]),
    required=True,
    help="flood: 国土数値情報 A31 (depth ranks); landslide: A33 (土砂災害警戒区域).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Also remove stored zones of the same dataset that the file no longer has.",
)
@_common
def import_hazards(
    obj: dict, file: Path, kind: str, replace: bool, dry_run: bool, skip_invalid: bool
) -> None:
    """Flood or landslide zones (GeoJSON or zipped shapefile), reprojected to WGS84."""
    from importers.hazard_zones import read_hazard_zones
    from sql.imports.hazard_zones import upsert_hazard_zones

    started = time.perf_counter()
    engine = _engine(obj)
    with _ProgressBar(PROGRESS_MIN_ROWS) as bar:
        batch = read_hazard_zones(file, kind, progress=bar)
    rejected = _check_problems(
        batch.problems,
        batch.rejected,
        skip_invalid=skip_invalid,
        error_key="importers.error.invalid_hazards",
        inputs=[file],
        what="hazards",
        columns=[c for attributes in batch.rejected.values() for c in attributes],
    )
    if not batch.records:
        raise InvalidInputError(_both("importers.error.nothing_valid"))
    summary = upsert_hazard_zones(engine, batch.records, dry_run=dry_run, replace=replace)
    summary.rejected = rejected
    summary.skipped += batch.skipped
    summary.notes += batch.notes
    _report(summary, dry_run, started)


@import_group.command("warnings")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_common
def import_warnings(obj: dict, paths: tuple[Path, ...], dry_run: bool, skip_invalid: bool) -> None:
    """JMA 気象警報・注意報 telegrams (VPWW54) for the configured city, replayed in report-time
    order; VPWW53 is recognised and skipped."""
    from importers.jma_warnings import read_telegrams
    from sql.imports.jma_warnings import import_telegrams

    started = time.perf_counter()
    engine = _engine(obj)
    with _ProgressBar(PROGRESS_MIN_FILES) as bar:
        batch = read_telegrams(paths, progress=bar)
    if not batch.files:
        raise InvalidInputError(
            _both("importers.error.invalid_warnings"),
            [f"{', '.join(map(str, paths))}:-:-: {_both('importers.problem.no_xml_files')}"],
        )
    rejected = _check_problems(
        batch.problems,
        {},
        skip_invalid=skip_invalid,
        error_key="importers.error.invalid_warnings",
        inputs=list(paths),
        what="warnings",
        whole_files_skippable=True,
    )
    if not batch.telegrams and not batch.skipped:
        raise InvalidInputError(_both("importers.error.nothing_valid"))
    summary = import_telegrams(engine, batch.telegrams, dry_run=dry_run)
    summary.rejected = len({p.file for p in batch.problems}) if rejected else 0
    summary.skipped += len(batch.skipped)
    summary.notes = [f"{file}: {why}" for file, why in batch.skipped] + summary.notes
    _report(summary, dry_run, started)


@import_group.command("plans")
@click.argument("file", type=click.Path(path_type=Path))
@SHOW_CHANGES_OPTION
@click.pass_obj
def import_plans_command(obj: dict, file: Path, dry_run: bool) -> None:
    """Individual evacuation plans (個別避難計画) of register people, from a CSV file
    (利用者ID, 避難先種別, 避難先, 支援者1氏名…, 移動手段, …); all or nothing, upserted by person."""
    from importers.evacuation_plans import read_plans
    from sql.imports.evacuation_plans import import_plans
    from sql.viewer import SYSTEM

    started = time.perf_counter()
    engine = _engine(obj)
    batch = read_plans(file)
    if batch.problems and not batch.records:
        raise InvalidInputError(
            _both("importers.error.invalid_plans"), [str(p) for p in batch.problems]
        )
    summary = import_plans(
        engine, SYSTEM, batch.records, file.name, dry_run=dry_run, problems=batch.problems
    )
    _report(summary, dry_run, started)
