"""The write path for citizens' status reports and location fixes (idempotent, batched).

Every report carries an idempotency key; a repeated delivery is stored once. Each batch is one
transaction: the reports are inserted with ``ON CONFLICT DO NOTHING`` and the derived
:class:`~sql.models.CitizenLatestStatus` is advanced only by reports that were actually new and
newer than what it holds. A crash mid-batch leaves nothing of that batch behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import REPORT_SOURCES, STATUS_STATES

from .bulk import bulk_insert
from .models import CitizenLatestStatus, LocationFix, StatusReport
from .models.base import utcnow
from .upsert import dialect_insert, insert_ignore

BATCH_SIZE = 5_000
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
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
LATEST_STAGING = sa.Table(
    "_ingest_latest_status",
    _staging_md,
    *(sa.Column(c.name, c.type) for c in CitizenLatestStatus.__table__.columns),
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

    Set-based, one pass over the batch per database: the reports are inserted in time order with
    ``ON CONFLICT (idempotency_key) DO NOTHING`` and the latest status is advanced from exactly the
    rows that were new (so a repeated delivery, even with altered content, changes nothing).

    * PostgreSQL: ids are drawn from the table's sequence and the batch is ``COPY``-ed straight
      into ``status_reports`` under a savepoint; the newest report per citizen is then known
      without reading anything back. If a key is already stored (a re-delivery), the savepoint
      is rolled back and the batch goes the general way: ``COPY`` into a temporary table, then one
      statement whose ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` feeds the latest-status
      upsert.
    * SQLite: ``executemany`` straight into ``status_reports``; the connection holds the write
      lock for the whole transaction, so the new rows are the ``inserted`` rowids just below
      ``last_insert_rowid()`` (SQLite gives each new row the largest rowid + 1), checked by a
      count before the latest status is advanced from that range (from the batch itself when
      every row was new).
    """
    rows = _status_rows(reports)
    if not rows:
        return IngestResult()
    if conn.dialect.name == "postgresql":
        inserted = _insert_and_advance_pg(conn, rows)
    else:
        inserted = _insert_and_advance_sqlite(conn, rows)
    return IngestResult(received=len(rows), inserted=inserted)


def _status_rows(reports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked rows with every :class:`StatusReport` column, in time order (ids follow time)."""
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
    rows.sort(key=operator.itemgetter("reported_at"))
    return rows


_LATEST_COLUMNS = ["citizen_id", "incident_key", "report_id", "state", "shelter_id", "reported_at"]


def _newest_per_citizen(new_reports) -> sa.Select:
    """Of ``new_reports`` (a table or CTE of status-report rows), each citizen's newest per
    incident, as :class:`CitizenLatestStatus` columns."""
    incident_key = sa.func.coalesce(new_reports.c.incident_id, 0)
    ranked = sa.select(
        new_reports.c.citizen_id,
        incident_key.label("incident_key"),
        new_reports.c.id.label("report_id"),
        new_reports.c.state,
        new_reports.c.shelter_id,
        new_reports.c.reported_at,
        sa.func.row_number()
        .over(
            partition_by=(new_reports.c.citizen_id, incident_key),
            order_by=(new_reports.c.reported_at.desc(), new_reports.c.id.desc()),
        )
        .label("rn"),
    ).subquery()
    return sa.select(*[ranked.c[c] for c in _LATEST_COLUMNS]).where(ranked.c.rn == 1)


def _advance_latest_from(conn: Connection, newest: sa.Select):
    """``INSERT INTO citizen_latest_status <newest> ON CONFLICT DO UPDATE`` where newer;
    ``newest`` selects the :class:`CitizenLatestStatus` columns, one row per key."""
    latest = CitizenLatestStatus.__table__
    stmt = dialect_insert(conn, latest).from_select(_LATEST_COLUMNS, newest)
    return stmt.on_conflict_do_update(
        index_elements=["citizen_id", "incident_key"],
        set_={c: stmt.excluded[c] for c in _LATEST_COLUMNS[2:]},
        where=_is_newer(latest, stmt.excluded),
    )


def _insert_and_advance_pg(conn: Connection, rows: list[dict[str, Any]]) -> int:
    table = StatusReport.__table__
    report_ids = _draw_ids_pg(conn, table, len(rows))
    try:
        with conn.begin_nested():  # a savepoint: a key already stored undoes only this attempt
            bulk_insert(
                conn, table, [{"id": i, **r} for i, r in zip(report_ids, rows, strict=True)]
            )
    except sa.exc.IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return _stage_insert_and_advance_pg(conn, rows)
    _advance_latest_from_batch(conn, rows, report_ids)
    return len(rows)


def _draw_ids_pg(conn: Connection, table: sa.Table, count: int) -> list[int]:
    """``count`` new ids from ``table``'s id sequence, increasing (one round trip, binary)."""
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        cur.execute(
            "SELECT array_agg(id ORDER BY id) FROM (SELECT nextval("
            "(SELECT pg_get_serial_sequence(%s, 'id'))::regclass) AS id"
            " FROM generate_series(1, %s)) AS drawn",
            (table.name, count),
        )
        return cur.fetchone()[0]


def _stage_insert_and_advance_pg(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """The general path: some keys of the batch are stored already (or repeat in it)."""
    _stage(conn, STATUS_STAGING, rows)
    table = StatusReport.__table__
    cols = [c.name for c in STATUS_STAGING.columns]
    new_reports = (
        insert_ignore(conn, table, ["idempotency_key"])
        .from_select(cols, sa.select(*STATUS_STAGING.c).order_by(STATUS_STAGING.c.reported_at))
        .returning(
            table.c.id,
            table.c.citizen_id,
            table.c.incident_id,
            table.c.state,
            table.c.shelter_id,
            table.c.reported_at,
        )
        .cte("new_reports")
    )
    advanced = _advance_latest_from(conn, _newest_per_citizen(new_reports)).cte("advanced")
    # Both data-modifying CTEs run to completion whether or not the outer query reads them.
    count = sa.select(sa.func.count()).select_from(new_reports).add_cte(advanced)
    return conn.execute(count).scalar_one()


def _insert_and_advance_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> int:
    table = StatusReport.__table__
    inserted = bulk_insert(conn, table, rows, ignore_conflicts_on=["idempotency_key"])
    if not inserted:
        return 0
    last = conn.execute(sa.select(sa.func.last_insert_rowid())).scalar_one()
    first = last - inserted + 1
    new_ids = table.c.id.between(first, last)
    found = conn.execute(sa.select(sa.func.count()).where(new_ids)).scalar_one()
    if found != inserted:  # never expected: refuse rather than advance from the wrong rows
        raise RuntimeError(
            f"status_reports: {inserted} rows inserted but {found} in the rowid range "
            f"{first}..{last}; the batch is rolled back"
        )
    if inserted == len(rows):
        # Every row was new, so row i of the (time-ordered) batch got rowid first + i: the
        # newest per citizen is known here without reading the rows back.
        _advance_latest_from_batch(conn, rows, range(first, last + 1))
    else:
        new_reports = sa.select(table).where(new_ids).subquery()
        conn.execute(_advance_latest_from(conn, _newest_per_citizen(new_reports)))
    return inserted


def _newest_in_batch(rows: list[dict[str, Any]], report_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each citizen's newest report per incident among ``rows`` (in time order, all stored, row
    ``i`` with id ``report_ids[i]``, ids increasing) as :class:`CitizenLatestStatus` rows.

    The last row of a (citizen, incident) in the list is the newest, and of equal times the one
    with the larger id: the same choice as ordering by ``reported_at DESC, id DESC``.
    """
    last_offset: dict[tuple[int, int], int] = {}
    for offset, row in enumerate(rows):
        last_offset[(row["citizen_id"], row["incident_id"] or 0)] = offset
    return [
        {
            "citizen_id": citizen_id,
            "incident_key": incident_key,
            "report_id": report_ids[offset],
            "state": rows[offset]["state"],
            "shelter_id": rows[offset]["shelter_id"],
            "reported_at": rows[offset]["reported_at"],
        }
        for (citizen_id, incident_key), offset in last_offset.items()
    ]


def _advance_latest_from_batch(
    conn: Connection, rows: list[dict[str, Any]], report_ids: Sequence[int]
) -> None:
    """Advance the latest status from a batch whose rows were all stored (with ``report_ids``):
    its newest report per citizen, staged, then :func:`_advance_latest_from`."""
    _stage(conn, LATEST_STAGING, _newest_in_batch(rows, report_ids))
    # WHERE true: SQLite would read ON CONFLICT as a join's ON after a bare SELECT ... FROM.
    staged = sa.select(*[LATEST_STAGING.c[c] for c in _LATEST_COLUMNS]).where(sa.true())
    conn.execute(_advance_latest_from(conn, staged))


def _is_newer(latest: sa.Table, excluded) -> sa.ColumnElement[bool]:
    return sa.or_(
        latest.c.reported_at < excluded.reported_at,
        sa.and_(
            latest.c.reported_at == excluded.reported_at,
            latest.c.report_id < excluded.report_id,
        ),
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
    conn.execute(sa.delete(CitizenLatestStatus.__table__))
    result = conn.execute(
        sa.insert(CitizenLatestStatus.__table__).from_select(
            _LATEST_COLUMNS, _newest_per_citizen(StatusReport.__table__)
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount or 0
