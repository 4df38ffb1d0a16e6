"""Alembic environment: runs against the connection handed over by :mod:`sql.migrate`."""

from __future__ import annotations

from alembic import context

from sql.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # pragma: no cover - used only by a bare `alembic` command line
        from sql.engine import get_engine

        with get_engine().connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
