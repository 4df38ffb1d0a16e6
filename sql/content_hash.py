"""A content hash of the database: proves "nothing changed" and "same seed, same data".

Rows of every model table are read in primary-key order and hashed in a canonical form that is
the same on SQLite and PostgreSQL (UTC ISO times, ``repr`` floats, hex bytes). Generated
PostGIS columns are left out: they are derived from the portable columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .models import Base


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(round(value, 9))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def table_hashes(
    engine: Engine,
    tables: Iterable[str] | None = None,
    exclude: dict[str, set[str]] | None = None,
) -> dict[str, str]:
    """SHA-256 per table over its rows in primary-key order."""
    exclude = exclude or {}
    names = list(tables) if tables is not None else sorted(Base.metadata.tables)
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for name in names:
            table = Base.metadata.tables[name]
            cols = [c for c in table.columns if c.name not in exclude.get(name, set())]
            order = list(table.primary_key.columns)
            digest = hashlib.sha256()
            digest.update(json.dumps([c.name for c in cols]).encode())
            for row in conn.execute(sa.select(*cols).order_by(*order)):
                digest.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False).encode())
                digest.update(b"\n")
            out[name] = digest.hexdigest()
    return out


def content_hash(
    engine: Engine,
    tables: Iterable[str] | None = None,
    exclude: dict[str, set[str]] | None = None,
) -> str:
    """One SHA-256 over :func:`table_hashes` (all model tables unless ``tables`` is given)."""
    digest = hashlib.sha256()
    for name, value in sorted(table_hashes(engine, tables, exclude).items()):
        digest.update(f"{name}:{value}\n".encode())
    return digest.hexdigest()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per model table (``bosai info``)."""
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in sorted(Base.metadata.tables.items())
        }
