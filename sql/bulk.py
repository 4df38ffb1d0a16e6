"""Bulk inserts for large loads (demo city, benchmarks, prefecture-scale seeding).

Values are converted to exactly what the ORM types would store (UTC times as SQLAlchemy's
SQLite text format, JSON as canonical text), then written with the driver's fastest path:
``executemany`` on SQLite, ``COPY`` on PostgreSQL — in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models.base import JSONText, UTCDateTime


def _converter(column: sa.Column, dialect: str) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if dialect == "sqlite":

            def to_text(v: dt.datetime | None) -> str | None:
                if v is None:
                    return None
                if v.tzinfo is None:
                    raise ValueError(f"{column}: naive datetime {v!r}")
                return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

            return to_text

        def aware(v: dt.datetime | None) -> dt.datetime | None:
            if v is not None and v.tzinfo is None:
                raise ValueError(f"{column}: naive datetime {v!r}")
            return v

        return aware
    if isinstance(kind, JSONText):
        return lambda v: (
            None
            if v is None
            else json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        )
    if isinstance(kind, sa.Date) and dialect == "sqlite":
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, sa.Boolean) and dialect == "sqlite":
        return lambda v: None if v is None else int(bool(v))
    return lambda v: v


def bulk_insert(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], chunk: int = 50_000
) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table``; returns the number written."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    names = list(rows[0].keys())
    columns = [table.c[name] for name in names]
    converters = [_converter(c, dialect) for c in columns]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    tname = conn.dialect.identifier_preparer.format_table(table)

    def tuples(part: Sequence[dict[str, Any]]):
        return [tuple(f(row[n]) for f, n in zip(converters, names, strict=True)) for row in part]

    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {tname} ({quoted}) FROM STDIN") as copy:
            for start in range(0, len(rows), chunk):
                for values in tuples(rows[start : start + chunk]):
                    copy.write_row(values)
        return len(rows)
    placeholders = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {tname} ({quoted}) VALUES ({placeholders})"  # noqa: S608 - names from metadata
    for start in range(0, len(rows), chunk):
        conn.exec_driver_sql(sql, tuples(rows[start : start + chunk]))
    return len(rows)
