"""Options several ``bosai`` commands share, declared once, and the reading of their values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bosai.errors import BosaiError, InvalidInputError

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
#: An import's result and its validation report as JSON.
JSON_REPORT_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print the result and report as JSON."
)
INSTRUMENT_OPTION = click.option(
    "--instrument", "instrument_id", required=True, help="Instrument id or YAML file."
)
MAPPING_OPTION = click.option(
    "--mapping", type=click.Path(path_type=Path), help="Mapping file (YAML)."
)
#: An import that validates and counts only.
CHECK_ONLY_OPTION = click.option(
    "--dry-run", is_flag=True, help="Validate and count; write nothing."
)
#: An upsert that shows what it would change.
SHOW_CHANGES_OPTION = click.option(
    "--dry-run", is_flag=True, help="Show what would be added, changed and left alone."
)
#: An append-only import that shows what it would add.
SHOW_ADDED_OPTION = click.option("--dry-run", is_flag=True, help="Show what would be added.")

#: The language of a report or file written.
LANG_OPTION = click.option(
    "--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True
)


def out_file_option(help: str | None = None):
    """``--out FILE``, required: the file to write (not a folder)."""
    return click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def aware_datetime(
    value: str, option: str, example: str, error: type[BosaiError] = InvalidInputError
) -> dt.datetime:
    """``value`` read as an ISO 8601 date-time with its UTC offset; else ``error`` naming
    ``option`` (with an ``example`` of a date-time with an offset)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise error(f"{option}: not an ISO 8601 date-time: {value!r}") from exc
    if moment.tzinfo is None:
        raise error(f"{option}: give a UTC offset, e.g. {example}")
    return moment
