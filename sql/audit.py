"""The append-only, hash-chained audit log.

Each row's ``row_hash`` is SHA-256 over its canonical content and the previous row's hash, so
editing, deleting, inserting or reordering any row breaks the chain from that row on.
Appends are serialised — a transaction-level advisory lock on PostgreSQL, the write lock
(``BEGIN IMMEDIATE``-equivalent first write) on SQLite — so concurrent writers cannot fork it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .models import AuditLog
from .models.base import utcnow
from .viewer import Viewer

GENESIS = "0" * 64
#: Arbitrary constant key for the PostgreSQL advisory lock that serialises appends.
ADVISORY_LOCK_KEY = 2958301709


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of one audit row given the previous row's hash."""
    body = {
        "at": _canonical_time(fields["at"]),
        "actor": fields["actor"],
        "role": fields["role"],
        "purpose": fields["purpose"],
        "incident_id": fields.get("incident_id"),
        "action": fields["action"],
        "target": fields.get("target"),
        "citizen_ids": sorted(fields.get("citizen_ids") or []),
        "details": fields.get("details"),
        "prev_hash": prev_hash,
    }
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
    else:
        # Take SQLite's write lock now, before reading the chain's head.
        conn.execute(sa.update(AuditLog.__table__).where(sa.false()).values(action="x"))


def lock_for_write(conn: Connection) -> None:
    """Take the audit chain's lock at the start of a transaction that reads before it writes.

    On SQLite a transaction that began by reading cannot become a writer once another
    connection has committed ("database is locked", whatever the busy timeout); taking the
    write lock first makes it wait its turn instead. On PostgreSQL it serialises with appends.
    """
    _lock(conn)


def append(
    conn: Connection,
    viewer: Viewer,
    action: str,
    target: str | None = None,
    citizen_ids: Iterable[int] = (),
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Append one row in the caller's transaction; returns its hash."""
    _lock(conn)
    table = AuditLog.__table__
    prev = conn.execute(sa.select(table.c.row_hash).order_by(table.c.id.desc()).limit(1)).scalar()
    fields = {
        "at": at or utcnow(),
        "actor": viewer.subject,
        "role": viewer.role,
        "purpose": viewer.purpose,
        "incident_id": viewer.incident_id,
        "action": action,
        "target": target,
        "citizen_ids": sorted({int(c) for c in citizen_ids}) or None,
        "details": details,
    }
    prev_hash = prev or GENESIS
    digest = row_digest(prev_hash, fields)
    conn.execute(sa.insert(table).values(**fields, prev_hash=prev_hash, row_hash=digest))
    return digest


def record(engine: Engine, viewer: Viewer, action: str, **kwargs: Any) -> str:
    """Append one row in its own transaction."""
    with engine.begin() as conn:
        return append(conn, viewer, action, **kwargs)


@dataclasses.dataclass(frozen=True)
class ChainReport:
    rows: int
    ok: bool
    first_bad_id: int | None = None
    reason: str | None = None


def verify(engine: Engine) -> ChainReport:
    """Walk the chain in id order; name the first row whose content or link is wrong."""
    table = AuditLog.__table__
    prev = GENESIS
    count = 0
    with engine.connect() as conn:
        for row in conn.execute(sa.select(table).order_by(table.c.id)):
            count += 1
            if row.prev_hash != prev:
                return ChainReport(
                    count,
                    False,
                    row.id,
                    "does not link to the previous row (deleted, inserted or reordered rows)",
                )
            if row_digest(prev, row._mapping) != row.row_hash:
                return ChainReport(
                    count, False, row.id, "content does not match its hash (edited row)"
                )
            prev = row.row_hash
    return ChainReport(count, True)


def rows_for_citizen(engine: Engine, citizen_id: int) -> Sequence[Any]:
    """Audit rows naming a citizen (the citizen's access report reads these)."""
    table = AuditLog.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.id)).all()
    return [r for r in rows if r.citizen_ids and citizen_id in r.citizen_ids]


def head_hash(engine: Engine) -> str:
    """The newest row's hash (the genesis hash for an empty log)."""
    table = AuditLog.__table__
    with engine.connect() as conn:
        head = conn.execute(
            sa.select(table.c.row_hash).order_by(table.c.id.desc()).limit(1)
        ).scalar()
    return head or GENESIS


def contains_hash(engine: Engine, row_hash: str) -> bool:
    """True when a row with this hash is in the log (the genesis hash always is)."""
    if row_hash == GENESIS:
        return True
    table = AuditLog.__table__
    with engine.connect() as conn:
        found = conn.execute(sa.select(table.c.id).where(table.c.row_hash == row_hash)).first()
    return found is not None
