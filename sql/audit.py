"""The append-only, hash-chained audit log.

Each row's ``row_hash`` is SHA-256 over its canonical content and the previous row's hash, so
editing, deleting, inserting or reordering any row breaks the chain from that row on.
Appends are serialised — a transaction-level advisory lock on PostgreSQL, the write lock
(``BEGIN IMMEDIATE``-equivalent first write) on SQLite — so concurrent writers cannot fork it.

The log is append-only in the database too: triggers refuse UPDATE and DELETE (migration 0013).
Deleting the newest rows would still leave a chain that links, so the head is anchored:
:func:`write_checkpoint` records the head (last id, its hash, the row count) with an HMAC under
a key kept outside the database (:func:`checkpoint_key`: ``$BOSAI_AUDIT_KEY``, or the file
``$BOSAI_AUDIT_KEY_FILE``, default ``var/audit-checkpoint.key``, made on first use with mode
600). A checkpoint is written by ``bosai audit checkpoint``, by every ``bosai backup`` and
periodically by ``bosai cityos sync`` (every :data:`CHECKPOINT_EVERY` while the log grows);
:func:`verify` checks the chain against the newest checkpoint whose HMAC holds and names the
rows missing since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .models import AuditCheckpoint, AuditLog
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
    #: The checkpoint the log was checked against (None: no key, or no checkpoint yet).
    checkpoint_id: int | None = None
    checkpoint_at: dt.datetime | None = None
    #: Ids of audit rows the checkpoint vouches for that are no longer there (first, last).
    missing: tuple[int, int] | None = None


def verify(engine: Engine, key: bytes | None | bool = True) -> ChainReport:
    """Walk the chain in id order; name the first row whose content or link is wrong; then
    check it against the newest valid checkpoint (``key``: True reads :func:`checkpoint_key`,
    None or False checks the chain only) and name the rows missing since."""
    table = AuditLog.__table__
    prev = GENESIS
    count = 0
    last_id = 0
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
            last_id = row.id
        if key is True:
            key = checkpoint_key(create=False)
        if not key:
            return ChainReport(count, True)
        return _against_checkpoint(conn, key, count, last_id)


def _against_checkpoint(conn: Connection, key: bytes, count: int, last_id: int) -> ChainReport:
    cp = AuditCheckpoint.__table__
    table = AuditLog.__table__
    checkpoints = conn.execute(sa.select(cp).order_by(cp.c.last_id.desc(), cp.c.id.desc())).all()
    for c in checkpoints:
        if not hmac.compare_digest(c.mac, checkpoint_mac(key, c._mapping)):
            return ChainReport(
                count,
                False,
                None,
                f"checkpoint {c.id} does not carry a valid HMAC (forged, or another key)",
                c.id,
                c.at,
            )
    if not checkpoints:
        return ChainReport(count, True)
    c = checkpoints[0]
    held = conn.execute(
        sa.select(sa.func.count(), sa.func.max(table.c.id)).where(table.c.id <= c.last_id)
    ).one()
    head = conn.execute(sa.select(table.c.row_hash).where(table.c.id == c.last_id)).scalar()
    if c.last_id and (held[0] != c.row_count or head != c.head_hash):
        first = (held[1] or 0) + 1
        gone = c.row_count - held[0]
        return ChainReport(
            count,
            False,
            first,
            f"{gone} row{'s' if gone != 1 else ''} missing: checkpoint {c.id} of "
            f"{_canonical_time(c.at)} vouches for {c.row_count} rows up to id {c.last_id}; "
            f"the log now ends at id {last_id or 0} (rows {first}–{c.last_id} were deleted)",
            c.id,
            c.at,
            (first, c.last_id),
        )
    return ChainReport(count, True, checkpoint_id=c.id, checkpoint_at=c.at)


# ---------------------------------------------------------------- checkpoints

KEY_ENV = "BOSAI_AUDIT_KEY"
KEY_FILE_ENV = "BOSAI_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = Path("var") / "audit-checkpoint.key"


class CheckpointKeyError(Exception):
    """The checkpoint key is missing or unreadable."""


def checkpoint_key(create: bool = False) -> bytes | None:
    """The HMAC key of checkpoints, kept outside the database: ``$BOSAI_AUDIT_KEY``, else the
    file ``$BOSAI_AUDIT_KEY_FILE`` (default ``var/audit-checkpoint.key``). With ``create``, a
    missing file is made (32 random bytes, hex, mode 600); else None when there is none."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    path = Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE)
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        key = path.read_text().strip().encode()
    except OSError as exc:
        raise CheckpointKeyError(f"{path}: cannot read the audit checkpoint key: {exc}") from exc
    if not key:
        raise CheckpointKeyError(f"{path}: the audit checkpoint key is empty")
    return key


def checkpoint_mac(key: bytes, fields: Any) -> str:
    body = json.dumps(
        {
            "at": _canonical_time(fields["at"]),
            "last_id": int(fields["last_id"]),
            "head_hash": fields["head_hash"],
            "row_count": int(fields["row_count"]),
            "reason": fields["reason"],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


#: How often the sync writes a checkpoint (it runs every 30 s; a checkpoint per sync would be
#: 2,880 rows a day for nothing).
CHECKPOINT_EVERY = dt.timedelta(minutes=10)


def write_checkpoint_if_due(
    engine: Engine, reason: str, every: dt.timedelta = CHECKPOINT_EVERY
) -> dict[str, Any] | None:
    """A checkpoint when the newest is older than ``every`` and the log has grown since."""
    cp = AuditCheckpoint.__table__
    with engine.connect() as conn:
        newest = conn.execute(
            sa.select(cp.c.at, cp.c.last_id).order_by(cp.c.id.desc()).limit(1)
        ).first()
        last_id = conn.execute(sa.select(sa.func.max(AuditLog.__table__.c.id))).scalar() or 0
    if newest is not None and (newest.last_id == last_id or utcnow() - newest.at < every):
        return None
    return write_checkpoint(engine, reason)


def write_checkpoint(
    engine: Engine, reason: str = "manual", key: bytes | None = None
) -> dict[str, Any]:
    """Record the chain's head now, keyed (the key is made on first use if there is none)."""
    key = key or checkpoint_key(create=True)
    table = AuditLog.__table__
    with engine.begin() as conn:
        _lock(conn)
        count, last_id = conn.execute(sa.select(sa.func.count(), sa.func.max(table.c.id))).one()
        head = (
            conn.execute(sa.select(table.c.row_hash).where(table.c.id == last_id)).scalar()
            if last_id
            else GENESIS
        )
        fields = {
            "at": utcnow(),
            "last_id": last_id or 0,
            "head_hash": head,
            "row_count": count,
            "reason": reason[:32],
        }
        fields["mac"] = checkpoint_mac(key, fields)
        fields["id"] = conn.execute(
            sa.insert(AuditCheckpoint.__table__).values(
                **{k: v for k, v in fields.items() if k != "id"}
            )
        ).inserted_primary_key[0]
    return fields


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
