"""Dialect-aware INSERT ... ON CONFLICT for SQLite and PostgreSQL (both support the syntax)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn_or_dialect: Any, table: sa.Table):
    """The dialect's INSERT construct (with ``on_conflict_do_*``)."""
    dialect = getattr(conn_or_dialect, "dialect", conn_or_dialect)
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    if dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database {dialect.name}")


def insert_ignore(conn_or_dialect: Any, table: sa.Table, conflict_columns: Sequence[str]):
    """``INSERT ... ON CONFLICT (cols) DO NOTHING``."""
    return dialect_insert(conn_or_dialect, table).on_conflict_do_nothing(
        index_elements=list(conflict_columns)
    )


def upsert(
    conn_or_dialect: Any,
    table: sa.Table,
    conflict_columns: Sequence[str],
    values: dict[str, Any] | None = None,
    update: Sequence[str] | None = None,
    where: sa.ColumnElement[bool] | None = None,
):
    """``INSERT ... ON CONFLICT (cols) DO UPDATE SET col = excluded.col [WHERE ...]``."""
    stmt = dialect_insert(conn_or_dialect, table)
    if values is not None:
        stmt = stmt.values(**values)
    cols = (
        update
        if update is not None
        else [c.name for c in table.columns if c.name not in conflict_columns]
    )
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: stmt.excluded[c] for c in cols},
        where=where,
    )
