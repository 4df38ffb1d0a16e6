"""The write path for citizens' status reports and location fixes (idempotent, batched).

Every report carries an idempotency key; a repeated delivery is stored once. Each batch is one
transaction: the reports are inserted with ``ON CONFLICT DO NOTHING`` and the derived
:class:`~sql.models.CitizenLatestStatus` is advanced only by reports that were actually new and
newer than what it holds. A crash mid-batch leaves nothing of that batch behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .bulk import bulk_insert
from .models import CitizenLatestStatus, LocationFix, StatusReport
from .models.base import utcnow
from .models.vocab import REPORT_SOURCES, STATUS_STATES
from .upsert import dialect_insert, insert_ignore

BATCH_SIZE = 5_000
_STATES = frozenset(STATUS_STATES)
_SOURCES = frozenset(REPORT_SOURCES)


@dataclasses.dataclass
class IngestResult:
    received: int = 0
    inserted: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - self.inserted

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.received += other.received
        self.inserted += other.inserted
        return self


def _check_report(r: dict[str, Any], index: int) -> None:
    if r.get("state") not in _STATES:
        raise ValueError(
            f"report {index}: state {r.get('state')!r} is not one of {', '.join(STATUS_STATES)}"
        )
    if r.get("source") not in _SOURCES:
        raise ValueError(
            f"report {index}: source {r.get('source')!r} is not one of {', '.join(REPORT_SOURCES)}"
        )
    if not r.get("idempotency_key"):
        raise ValueError(f"report {index}: idempotency_key is required")
    when = r.get("reported_at")
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise ValueError(f"report {index}: reported_at must be a timezone-aware datetime")


def ingest_status_reports(
    engine: Engine, reports: Iterable[dict[str, Any]], batch_size: int = BATCH_SIZE
) -> IngestResult:
    """Store reports (dicts with the :class:`StatusReport` columns) in batches, idempotently."""
    total = IngestResult()
    batch: list[dict[str, Any]] = []
    for report in reports:
        batch.append(report)
        if len(batch) >= batch_size:
            with engine.begin() as conn:
                total += write_status_batch(conn, batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            total += write_status_batch(conn, batch)
    return total


_staging_md = sa.MetaData()
#: Per-connection temporary tables the batches are bulk-loaded into (never in migrations).
STATUS_STAGING = sa.Table(
    "_ingest_status_reports",
    _staging_md,
    *(sa.Column(c.name, c.type) for c in StatusReport.__table__.columns if c.name != "id"),
    prefixes=["TEMPORARY"],
)
FIX_STAGING = sa.Table(
    "_ingest_location_fixes",
    _staging_md,
    *(sa.Column(c.name, c.type) for c in LocationFix.__table__.columns if c.name != "id"),
    prefixes=["TEMPORARY"],
)


def _stage(conn: Connection, staging: sa.Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(sa.schema.CreateTable(staging, if_not_exists=True))
    conn.execute(sa.delete(staging))
    bulk_insert(conn, staging, rows)


def write_status_batch(conn: Connection, reports: Sequence[dict[str, Any]]) -> IngestResult:
    """One batch in the caller's transaction. Returns how many reports were new.

    Set-based: the batch is bulk-loaded into a temporary table, inserted with
    ``ON CONFLICT DO NOTHING``, and the latest status is advanced from the stored rows of the
    batch's keys (so a repeated delivery, even with altered content, changes nothing).
    """
    now = utcnow()
    rows = []
    for i, r in enumerate(reports):
        _check_report(r, i)
        rows.append(
            {
                "idempotency_key": r["idempotency_key"],
                "citizen_id": r["citizen_id"],
                "incident_id": r.get("incident_id"),
                "state": r["state"],
                "shelter_id": r.get("shelter_id"),
                "message": r.get("message"),
                "source": r["source"],
                "reported_at": r["reported_at"],
                "received_at": r.get("received_at") or now,
            }
        )
    if not rows:
        return IngestResult()
    _stage(conn, STATUS_STAGING, rows)
    table = StatusReport.__table__
    cols = [c.name for c in STATUS_STAGING.columns]
    inserted = conn.execute(
        insert_ignore(conn, table, ["idempotency_key"]).from_select(
            cols,
            sa.select(*STATUS_STAGING.c).where(sa.true()).order_by(STATUS_STAGING.c.reported_at),
        ),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    if inserted:
        _advance_latest(conn)
    return IngestResult(received=len(rows), inserted=max(inserted, 0))


def _advance_latest(conn: Connection) -> None:
    sr = StatusReport.__table__
    stage = STATUS_STAGING
    incident_key = sa.func.coalesce(sr.c.incident_id, 0)
    ranked = (
        sa.select(
            sr.c.citizen_id,
            incident_key.label("incident_key"),
            sr.c.id.label("report_id"),
            sr.c.state,
            sr.c.shelter_id,
            sr.c.reported_at,
            sa.func.row_number()
            .over(
                partition_by=(sr.c.citizen_id, incident_key),
                order_by=(sr.c.reported_at.desc(), sr.c.id.desc()),
            )
            .label("rn"),
        )
        .join(stage, stage.c.idempotency_key == sr.c.idempotency_key)
        .subquery()
    )
    cols = ["citizen_id", "incident_key", "report_id", "state", "shelter_id", "reported_at"]
    latest = CitizenLatestStatus.__table__
    stmt = dialect_insert(conn, latest).from_select(
        cols, sa.select(*[ranked.c[c] for c in cols]).where(ranked.c.rn == 1)
    )
    excluded = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["citizen_id", "incident_key"],
            set_={c: excluded[c] for c in cols[2:]},
            where=sa.or_(
                latest.c.reported_at < excluded.reported_at,
                sa.and_(
                    latest.c.reported_at == excluded.reported_at,
                    latest.c.report_id < excluded.report_id,
                ),
            ),
        )
    )


def ingest_location_fixes(
    engine: Engine, fixes: Iterable[dict[str, Any]], batch_size: int = BATCH_SIZE
) -> IngestResult:
    """Store location fixes idempotently (dicts with the :class:`LocationFix` columns)."""
    total = IngestResult()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal batch
        with engine.begin() as conn:
            total.__iadd__(write_location_batch(conn, batch))
        batch = []

    for fix in fixes:
        batch.append(fix)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return total


def write_location_batch(conn: Connection, fixes: Sequence[dict[str, Any]]) -> IngestResult:
    now = utcnow()
    rows = []
    for i, f in enumerate(fixes):
        if not f.get("idempotency_key"):
            raise ValueError(f"fix {i}: idempotency_key is required")
        if f.get("source") not in _SOURCES:
            raise ValueError(
                f"fix {i}: source {f.get('source')!r} is not one of {', '.join(REPORT_SOURCES)}"
            )
        when = f.get("fixed_at")
        if not isinstance(when, dt.datetime) or when.tzinfo is None:
            raise ValueError(f"fix {i}: fixed_at must be a timezone-aware datetime")
        rows.append(
            {
                "idempotency_key": f["idempotency_key"],
                "citizen_id": f["citizen_id"],
                "incident_id": f.get("incident_id"),
                "lat": float(f["lat"]),
                "lon": float(f["lon"]),
                "accuracy_m": f.get("accuracy_m"),
                "source": f["source"],
                "fixed_at": when,
                "received_at": f.get("received_at") or now,
            }
        )
    if not rows:
        return IngestResult()
    _stage(conn, FIX_STAGING, rows)
    cols = [c.name for c in FIX_STAGING.columns]
    inserted = conn.execute(
        insert_ignore(conn, LocationFix.__table__, ["idempotency_key"]).from_select(
            cols, sa.select(*FIX_STAGING.c).where(sa.true()).order_by(FIX_STAGING.c.fixed_at)
        ),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    return IngestResult(received=len(rows), inserted=max(inserted, 0))


def rebuild_latest_status(conn: Connection) -> int:
    """Recompute :class:`CitizenLatestStatus` from all status reports (bulk loads, repair)."""
    sr = StatusReport.__table__
    incident_key = sa.func.coalesce(sr.c.incident_id, 0)
    ranked = sa.select(
        sr.c.citizen_id,
        incident_key.label("incident_key"),
        sr.c.id.label("report_id"),
        sr.c.state,
        sr.c.shelter_id,
        sr.c.reported_at,
        sa.func.row_number()
        .over(
            partition_by=(sr.c.citizen_id, incident_key),
            order_by=(sr.c.reported_at.desc(), sr.c.id.desc()),
        )
        .label("rn"),
    ).subquery()
    cols = ["citizen_id", "incident_key", "report_id", "state", "shelter_id", "reported_at"]
    conn.execute(sa.delete(CitizenLatestStatus.__table__))
    result = conn.execute(
        sa.insert(CitizenLatestStatus.__table__).from_select(
            cols, sa.select(*[ranked.c[c] for c in cols]).where(ranked.c.rn == 1)
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount or 0
