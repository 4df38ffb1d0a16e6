"""``bosai db upgrade`` and ``bosai info``."""

from __future__ import annotations

import json

import click

from bosai.errors import BosaiError

from .options import JSON_OPTION


def register(cli: click.Group) -> None:
    cli.add_command(db)
    cli.add_command(info)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: dict) -> None:
    """Create or migrate the schema to the newest revision (and configure the default city)."""
    from sql.engine import get_engine, redacted
    from sql.migrate import SchemaTooNewError
    from sql.setup import prepare_database

    engine = get_engine(obj["database_url"])
    try:
        revision = prepare_database(engine)
    except SchemaTooNewError as exc:
        raise BosaiError(str(exc)) from exc
    click.echo(f"schema at revision {revision} ({redacted(obj['database_url'])})")


@click.command()
@JSON_OPTION
@click.pass_obj
def info(obj: dict, as_json: bool) -> None:
    """Database URL, schema revision and the number of rows per table."""
    from sql.city_config import active_city
    from sql.content_hash import row_counts
    from sql.engine import get_engine, redacted
    from sql.migrate import current_revision, head_revision

    engine = get_engine(obj["database_url"])
    revision = current_revision(engine)
    if revision is None:
        raise BosaiError(
            f"{redacted(obj['database_url'])} has no Bosai Ops schema: run `bosai db upgrade`"
        )
    counts = row_counts(engine)
    city = active_city(engine)
    data = {
        "database_url": redacted(obj["database_url"]),
        "backend": engine.dialect.name,
        "schema_revision": revision,
        "code_revision": head_revision(),
        "city": f"{city.name_ja} ({city.municipality_code})",
        "counts": counts,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"database:  {data['database_url']} ({data['backend']})")
    up_to_date = (
        "" if revision == data["code_revision"] else f" (code expects {data['code_revision']})"
    )
    click.echo(f"schema:    {revision}{up_to_date}")
    click.echo(f"city:      {data['city']}")
    width = max(len(n) for n in counts)
    for name, count in counts.items():
        click.echo(f"  {name:<{width}}  {count:>10,}")
