"""``bosai retention apply [--days N]``: delete location fixes and safety messages N days after
their incident ended, keep per-day counts, log it in the audit chain (see :mod:`sql.retention`)."""

from __future__ import annotations

import json

import click

from .options import JSON_OPTION


def register(cli: click.Group) -> None:
    cli.add_command(retention)


@click.group()
def retention() -> None:
    """Retention of personal data after an incident."""


@retention.command("apply")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=90,
    show_default=True,
    help="Keep data this many days after its incident ended.",
)
@JSON_OPTION
@click.pass_obj
def retention_apply(obj: dict, days: int, as_json: bool) -> None:
    """Delete location fixes and clear safety messages past retention; keep daily counts."""
    from sql.engine import get_engine
    from sql.retention import apply_retention

    result = apply_retention(get_engine(obj["database_url"]), days)
    if as_json:
        click.echo(json.dumps(result.as_details(), ensure_ascii=False))
        return
    incidents = ", ".join(map(str, result.incidents)) or "none"
    click.echo(f"retention {days} days (before {result.cutoff:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"  incidents past retention: {incidents}")
    click.echo(f"  location fixes deleted:   {result.location_fixes_deleted:,}")
    click.echo(f"  safety messages cleared:  {result.messages_cleared:,}")
    click.echo(f"  daily counts kept:        {result.aggregate_rows:,}")
