"""``bosai report``: the council report and the situation report as files.

* ``bosai report council (--incident ID | --drill ID) --format pdf|html|xlsx --out FILE``
* ``bosai report situation --incident ID [--at ISO] [--since ISO] --format pdf|html --out FILE``

IDs are database ids or external ids. ``--format`` defaults to the suffix of ``--out``. The file
is written only when the whole report was built (a temporary file renamed into place).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import click

from bosai.errors import InvalidInputError

from .options import LANG_OPTION, aware_datetime, out_file_option


def register(cli: click.Group) -> None:
    cli.add_command(report)


@click.group()
def report() -> None:
    """Reports for the council and the headquarters (PDF, HTML, Excel)."""


def _format(fmt: str | None, out: Path, allowed: tuple[str, ...]) -> str:
    chosen = (fmt or out.suffix.lstrip(".")).lower()
    if chosen not in allowed:
        raise InvalidInputError(
            f"--format: one of {', '.join(allowed)} (or an --out file ending in one), "
            f"not {chosen or 'nothing'!r}"
        )
    return chosen


def _moment(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    return aware_datetime(value, option, "2026-07-10T06:00+09:00")


def _write(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, out)


@report.command("council")
@click.option("--incident", "incident", default=None, help="Incident id or external id.")
@click.option("--drill", "drill", default=None, help="Drill id or external id.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "xlsx"]), default=None)
@out_file_option()
@LANG_OPTION
@click.pass_obj
def report_council(
    obj: dict, incident: str | None, drill: str | None, fmt: str | None, out: Path, lang: str
) -> None:
    """The council report of an incident or a drill: cover, summary, charts, maps, appendix."""
    from bosai.cli.survey import _ready_engine
    from reports import charts, council

    if (incident is None) == (drill is None):
        raise InvalidInputError("give exactly one of --incident ID or --drill ID")
    chosen = _format(fmt, out, council.FORMATS)
    engine = _ready_engine(obj["database_url"])
    began = time.perf_counter()
    try:
        built = council.build(
            engine, incident=incident, drill=drill, lang=lang, draw_charts=chosen != "xlsx"
        )
        data = council.render(built, chosen)
    finally:
        charts.stop_renderer()  # close chromium now, not at interpreter teardown
    _write(out, data)
    click.echo(
        f"wrote {out} ({chosen}, {len(data):,} bytes, {len(built.charts)} charts, "
        f"{len(built.appendix)} tables) in {time.perf_counter() - began:.1f} s"
    )


@report.command("situation")
@click.option("--incident", "incident", required=True, help="Incident id or external id.")
@click.option("--at", "at", default=None, help="Moment of the report (ISO 8601 with offset).")
@click.option("--since", "since", default=None, help="Moment of the previous report.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default=None)
@out_file_option()
@LANG_OPTION
@click.pass_obj
def report_situation(
    obj: dict,
    incident: str,
    at: str | None,
    since: str | None,
    fmt: str | None,
    out: Path,
    lang: str,
) -> None:
    """One page: the state of an incident at a moment and what changed since the previous one."""
    from bosai.cli.survey import _ready_engine
    from reports import situation

    chosen = _format(fmt, out, situation.FORMATS)
    engine = _ready_engine(obj["database_url"])
    built = situation.build(
        engine, incident, at=_moment(at, "--at"), since=_moment(since, "--since"), lang=lang
    )
    data = situation.render(built, chosen)
    _write(out, data)
    empty = ", ".join(built.empty) or "none"
    click.echo(
        f"wrote {out} ({chosen}, {len(data):,} bytes): {len(built.changed)} figures changed "
        f"since {built.since.isoformat()}; sections without data: {empty}"
    )
