"""Schema migrations (Alembic) run programmatically: ``bosai db upgrade``."""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    """The newest revision this code knows (read from the migration files once per process:
    every page run asks, and reading them took ~0.1 s a run)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()  # type: ignore[return-value]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it has never been migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


class SchemaTooNewError(RuntimeError):
    pass


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the revision reached."""
    current = current_revision(engine)
    if current is not None and current not in known_revisions():
        raise SchemaTooNewError(
            f"the database is at schema revision {current}, which this version of Bosai Ops "
            "does not know (it was written by a newer version); upgrade the software first"
        )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    return current_revision(engine) or ""


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
