"""``bosai backup --out FILE`` and ``bosai restore FILE [--force]`` (see :mod:`sql.backup`)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .options import out_file_option


def register(cli: click.Group) -> None:
    cli.add_command(backup)
    cli.add_command(restore)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


@click.command()
@out_file_option("The backup file to write (must not exist).")
@click.pass_obj
def backup(obj: dict, out: Path) -> None:
    """Back up the whole database, online (SQLite backup API; PostgreSQL pg_dump)."""
    from sql import audit, migrate
    from sql import backup as store
    from sql.engine import get_engine, redacted

    engine = get_engine(obj["database_url"])
    began = time.perf_counter()
    anchored = ""
    # The head anchored, in the backup too (issue 13.10); an existing file is refused by
    # store.backup below without anything written.
    if not out.exists() and migrate.is_up_to_date(engine):
        point = audit.write_checkpoint(engine, "backup")
        anchored = f", audit checkpoint {point['id']} at row {point['last_id']}"
    manifest = store.backup(engine, out)
    if manifest.content_hash is None:
        checks = "no content hash or audit check (the schema is not this version's)"
    else:
        chain = "verifies" if manifest.audit_ok else "DOES NOT VERIFY (already broken)"
        checks = (
            f"content {manifest.content_hash[:16]}, audit chain of {manifest.audit_rows:,} rows "
            f"{chain}"
        )
    click.echo(
        f"backup of {redacted(obj['database_url'])} written to {out}: {manifest.backend}, schema "
        f"{manifest.schema_revision}, {manifest.rows:,} rows, {_size(out.stat().st_size)}, "
        f"{checks}{anchored} ({time.perf_counter() - began:.1f} s)"
    )


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@click.pass_obj
def restore(obj: dict, file: Path, force: bool) -> None:
    """Replace the database with a backup; checks the schema revision, content and audit chain."""
    from sql import backup as store
    from sql.engine import get_engine, redacted

    engine = get_engine(obj["database_url"])
    began = time.perf_counter()
    result = store.restore(engine, file, force=force)
    m = result.manifest
    migrated = (
        f", migrated from {result.migrated_from} to {result.revision}"
        if result.migrated_from
        else ""
    )
    content = (
        f"content identical ({m.content_hash[:16]})"
        if result.content_hash_matches
        else "content migrated"
    )
    replaced = f"; replaced {sum(result.replaced.values()):,} rows" if result.replaced else ""
    click.echo(
        f"restored {file} (taken {m.created_at}) into {redacted(obj['database_url'])}: schema "
        f"{m.schema_revision}{migrated}, {m.rows:,} rows, {content}, "
        f"audit chain of {result.audit.rows:,} rows "
        f"{'verifies' if result.audit.ok else 'does not verify (as in the backup)'}{replaced} "
        f"({time.perf_counter() - began:.1f} s)"
    )
