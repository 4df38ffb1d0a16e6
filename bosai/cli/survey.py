"""``bosai survey``: import questionnaire exports and UI/UX timing sheets (validated, atomic).

A file with any error is refused whole: the problems are printed as ``FILE:ROW:COLUMN: reason``
lines on stderr, the exit code is 2 and nothing is written. Warnings (unknown columns, items
missing from the export, straight-lining, empty rows) are printed and the import proceeds.
Importing the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from bosai.errors import BosaiError, InvalidInputError

from .options import CHECK_ONLY_OPTION, INSTRUMENT_OPTION, JSON_REPORT_OPTION, MAPPING_OPTION


def register(cli: click.Group) -> None:
    cli.add_command(survey)


@click.group()
def survey() -> None:
    """Questionnaire exports and UI/UX timing sheets."""


def _ready_engine(database_url: str):
    from sql.engine import get_engine
    from sql.migrate import current_revision, head_revision

    engine = get_engine(database_url)
    if current_revision(engine) != head_revision():
        raise BosaiError("the database schema is not up to date: run `bosai db upgrade` first")
    return engine


def _print_report(report, counts: dict, as_json: bool, extra: dict) -> None:
    if as_json:
        click.echo(json.dumps({**extra, **counts, "report": report.as_dict()}, ensure_ascii=False))
        return
    click.echo(
        f"{report.file}: {report.source_format}, {report.encoding}, {report.rows} rows; "
        f"{len(report.matched_columns)} columns matched"
    )
    for line in report.lines("warning"):
        click.echo(f"warning: {line}")
    verb = "would be" if counts.get("dry_run") else ""
    click.echo(
        " ".join(
            f"{counts[k]} {verb} {k}".replace("  ", " ")
            for k in ("inserted", "updated", "unchanged")
        )
        + (" (dry run: nothing written)" if counts.get("dry_run") else "")
    )


@survey.command("instruments")
def survey_instruments() -> None:
    """List the shipped instruments (surveys/instruments/*.yaml)."""
    from surveys.instrument import available, load_instrument

    for ref in available():
        inst = load_instrument(ref)
        click.echo(f"{inst.id}\t{inst.version}\t{len(inst.items)} items\t{inst.title_ja}")


@survey.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@INSTRUMENT_OPTION
@MAPPING_OPTION
@click.option("--drill", default=None, help="Link the responses to this drill (id or external id).")
@CHECK_ONLY_OPTION
@JSON_REPORT_OPTION
@click.pass_obj
def survey_import(
    obj: dict,
    file: Path,
    instrument_id: str,
    mapping: Path | None,
    drill: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Validate a Google Forms / Microsoft Forms / Kobo export and import it (all or nothing)."""
    from sql.imports.surveys import import_survey

    engine = _ready_engine(obj["database_url"])
    result = import_survey(engine, file, instrument_id, mapping, drill=drill, dry_run=dry_run)
    _print_report(
        result.report,
        result.counts.as_dict(),
        as_json,
        {"instrument": result.instrument, "file": result.file},
    )


@survey.command("import-timings")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--session", "session_key", default=None, help="Session key (default: file name).")
@click.option("--name", default=None, help="Session name (default: the session key).")
@click.option("--held-on", default=None, help="Date of the session, YYYY-MM-DD.")
@click.option("--location", default=None, help="Where the session was held.")
@CHECK_ONLY_OPTION
@JSON_REPORT_OPTION
@click.pass_obj
def survey_import_timings(
    obj: dict,
    file: Path,
    session_key: str | None,
    name: str | None,
    held_on: str | None,
    location: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import a UI/UX task-timing sheet (参加者, 区分, タスク, 方法, 時間, 成功 …; all or nothing)."""
    from sql.imports.surveys import timing_records
    from sql.research_store import store_uiux
    from surveys.timing_sheet import read_timing_sheet

    held = None
    if held_on:
        try:
            held = dt.date.fromisoformat(held_on)
        except ValueError as exc:
            raise InvalidInputError(f"--held-on: not a date (YYYY-MM-DD): {held_on!r}") from exc
    sheet = read_timing_sheet(file)  # raises with FILE:ROW:COLUMN lines on any error
    engine = _ready_engine(obj["database_url"])
    key = (session_key or file.stem)[:64]
    counts = store_uiux(
        engine,
        session_key=key,
        name=name or key,
        held_on=held,
        location=location,
        source_file=file.name,
        records=timing_records(sheet),
        dry_run=dry_run,
    )
    _print_report(sheet.report, counts.as_dict(), as_json, {"session": key, "file": file.name})
