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

from .models import CitizenLatestStatus, LocationFix, StatusReport
from .models.base import utcnow
from .models.vocab import REPORT_SOURCES, STATUS_STATES
from .upsert import insert_ignore, upsert

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


def write_status_batch(conn: Connection, reports: Sequence[dict[str, Any]]) -> IngestResult:
    """One batch in the caller's transaction. Returns how many reports were new."""
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
    table = StatusReport.__table__
    stmt = insert_ignore(conn, table, ["idempotency_key"]).returning(
        table.c.id, table.c.idempotency_key
    )
    new_ids = {key: id_ for id_, key in conn.execute(stmt, rows)}
    if not new_ids:
        return IngestResult(received=len(rows), inserted=0)
    # Newest new report per (citizen, incident) within this batch.
    newest: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        report_id = new_ids.get(row["idempotency_key"])
        if report_id is None:
            continue
        key = (row["citizen_id"], row["incident_id"] or 0)
        cur = newest.get(key)
        if cur is None or (row["reported_at"], report_id) > (cur["reported_at"], cur["report_id"]):
            newest[key] = {
                "citizen_id": row["citizen_id"],
                "incident_key": row["incident_id"] or 0,
                "report_id": report_id,
                "state": row["state"],
                "shelter_id": row["shelter_id"],
                "reported_at": row["reported_at"],
            }
    latest = CitizenLatestStatus.__table__
    stmt = upsert(
        conn,
        latest,
        ["citizen_id", "incident_key"],
        update=["report_id", "state", "shelter_id", "reported_at"],
        where=sa.or_(
            latest.c.reported_at < sa.literal_column("excluded.reported_at"),
            sa.and_(
                latest.c.reported_at == sa.literal_column("excluded.reported_at"),
                latest.c.report_id < sa.literal_column("excluded.report_id"),
            ),
        ),
    )
    conn.execute(stmt, list(newest.values()))
    return IngestResult(received=len(rows), inserted=len(new_ids))


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
        rows.append(
            {
                "idempotency_key": f["idempotency_key"],
                "citizen_id": f["citizen_id"],
                "incident_id": f.get("incident_id"),
                "lat": float(f["lat"]),
                "lon": float(f["lon"]),
                "accuracy_m": f.get("accuracy_m"),
                "source": f["source"],
                "fixed_at": f["fixed_at"],
                "received_at": f.get("received_at") or now,
            }
        )
    table = LocationFix.__table__
    stmt = insert_ignore(conn, table, ["idempotency_key"]).returning(table.c.id)
    inserted = len(conn.execute(stmt, rows).all())
    return IngestResult(received=len(rows), inserted=inserted)


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
        )
    )
    return result.rowcount or 0
