"""Writes of the city-OS connector's sync: a sync in one transaction and the stale marker (a
drill's start and end are :mod:`sql.cityos_drills`, pushes :mod:`sql.cityos_push`).

:func:`apply_sync` writes everything one sync fetched — citizens, the consent ledger (appended,
never overwritten), the removal of data whose consent was withdrawn, shelters, status reports
and location fixes (through the set-based, idempotent :mod:`sql.ingest`), rescue requests, drill
events, and the new cursors — in **one** transaction, with an audit row. A failure anywhere
leaves nothing of it behind; :func:`mark_failed` then records the error and the stale flag in a
transaction of its own. The connector hands over plain records keyed by the city OS's subject
and shelter ids; this module resolves them to our ids.
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

from . import audit
from .consent import in_force_clause, rederive_state, validate_event
from .ingest import BATCH_SIZE as INGEST_BATCH
from .ingest import IngestResult, write_location_batch, write_status_batch
from .models import (
    Citizen,
    CitizenLatestStatus,
    ConsentEvent,
    ConsentState,
    DrillEvent,
    Household,
    Incident,
    LocationFix,
    QuarantinedRecord,
    RescueRequest,
    RescueRequestEvent,
    Shelter,
    SourceHealth,
    StatusReport,
    SupportRegisterEntry,
)
from .models.base import utcnow
from .models.shelters import shelter_columns
from .upsert import dialect_insert, insert_ignore, upsert
from .viewer import Viewer

#: Who writes a sync, in the audit log.
SYNC_ACTOR = Viewer(
    role="admin", subject="system:cityos-sync", name="city-OS sync", purpose="administration"
)
#: Citizen columns that the data item ``basic_info`` covers.
BASIC_INFO_COLUMNS = (
    "name",
    "kana",
    "sex",
    "birth_date",
    "address",
    "district",
    "phone",
    "home_lat",
    "home_lon",
)
CHUNK = 900  # ids per IN (...) list: below SQLite's variable limit


@dataclasses.dataclass(frozen=True)
class SyncCursor:
    users_revision: int = 0
    shelters_revision: int = 0
    last_event_id: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class SyncBatch:
    """Everything one sync fetched, already checked against consent by the connector."""

    source: str
    cursor: SyncCursor
    #: Citizen rows keyed by ``subject`` (basic-info columns None where not consented),
    #: with ``household_ref`` (the city OS's household id, or None).
    citizens: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: Consent decisions seen: ledger events with ``subject`` instead of ``citizen_id``.
    consents: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: subject → data items NOT in force for our share target (their data is removed).
    not_in_force: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    #: subject → register entry (only where ``support_register`` is in force).
    register: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    shelters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: Status reports with ``subject`` and ``shelter_ref`` (city-OS shelter id).
    status_reports: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    location_fixes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    rescue_requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    drill_events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: Counts for the audit row and the caller (dropped fields, skipped events, ...).
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Records that failed the connector's boundary checks (``cityos.boundary.Quarantined``
    #: rows: kind, record_ref, position, reason, field, detail).
    quarantined: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SyncWritten:
    citizens_changed: int = 0
    consents_appended: int = 0
    shelters_changed: int = 0
    status_reports: int = 0
    location_fixes: int = 0
    rescue_requests: int = 0
    drill_events: int = 0
    quarantined: int = 0
    released: int = 0
    removed: dict[str, int] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------- reads the connector needs


def read_cursor(engine: Engine, source: str) -> SyncCursor:
    """Where the last successful sync of ``source`` stopped (zeros before the first)."""
    with engine.connect() as conn:
        details = conn.execute(
            sa.select(SourceHealth.details).where(SourceHealth.source == source)
        ).scalar()
    fields = {f.name for f in dataclasses.fields(SyncCursor)}
    return SyncCursor(
        **{k: int(v) for k, v in (details or {}).get("cursor", {}).items() if k in fields}
    )


def source_health(engine: Engine, source: str) -> dict[str, Any] | None:
    """The freshness row of ``source`` (None before its first sync attempt)."""
    with engine.connect() as conn:
        r = conn.execute(
            sa.select(SourceHealth.__table__).where(SourceHealth.source == source)
        ).first()
    if r is None:
        return None
    return {
        "source": r.source,
        "last_success_at": r.last_success_at,
        "last_attempt_at": r.last_attempt_at,
        "last_error": r.last_error,
        "error_kind": r.error_kind,
        "stale": r.stale,
        "details": r.details,
    }


def items_in_force_for(
    engine: Engine, subjects: Iterable[str], share_target: str, at: dt.datetime | None = None
) -> dict[str, set[str]]:
    """subject → data items whose consent for ``share_target`` is in force, from our ledger."""
    wanted = sorted(set(subjects))
    out: dict[str, set[str]] = {s: set() for s in wanted}
    state = ConsentState.__table__
    with engine.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            rows = conn.execute(
                sa.select(Citizen.subject, state.c.data_item)
                .join(state, state.c.citizen_id == Citizen.id)
                .where(
                    Citizen.subject.in_(part),
                    state.c.share_target == share_target,
                    in_force_clause(at),
                )
            )
            for subject, item in rows:
                out[subject].add(item)
    return out


def known_subjects(engine: Engine, subjects: Iterable[str]) -> set[str]:
    wanted = sorted(set(subjects))
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            found.update(
                conn.execute(sa.select(Citizen.subject).where(Citizen.subject.in_(part))).scalars()
            )
    return found


def active_incident_id(engine: Engine) -> int | None:
    """The newest real incident that has not ended (None outside an incident)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(Incident.id)
            .where(Incident.kind == "real", Incident.ended_at.is_(None))
            .order_by(Incident.declared_at.desc(), Incident.id.desc())
            .limit(1)
        ).scalar()


# ---------------------------------------------------------------- the sync transaction


def apply_sync(engine: Engine, batch: SyncBatch, now: dt.datetime | None = None) -> SyncWritten:
    """Write one sync atomically (see the module docstring); returns what changed."""
    now = now or utcnow()
    written = SyncWritten()
    with engine.begin() as conn:
        households = _upsert_households(conn, batch)
        written.citizens_changed = _upsert_citizens(conn, batch, households, now)
        ids = citizen_ids(conn, _subjects_of(batch))
        written.consents_appended = _append_consents(conn, batch, ids)
        written.removed = _remove_unconsented(conn, batch, ids)
        _write_register(conn, batch, ids, now)
        shelter_ids, written.shelters_changed = _upsert_shelters(conn, batch, now)
        written.status_reports = _write_status(conn, batch, ids, shelter_ids).inserted
        written.location_fixes = _write_fixes(conn, batch, ids).inserted
        written.rescue_requests = _write_rescues(conn, batch, ids, now)
        written.drill_events = _write_drill_events(conn, batch, ids)
        written.released = _release_quarantined(conn, batch)
        written.quarantined = _write_quarantined(conn, batch, now)
        _mark_success(conn, batch, now)
        audit.append(
            conn,
            SYNC_ACTOR,
            "cityos_sync",
            target=batch.source,
            citizen_ids=[ids[c["subject"]] for c in batch.citizens if c["subject"] in ids],
            details={
                "cursor": batch.cursor.as_dict(),
                **{k: v for k, v in dataclasses.asdict(written).items()},
                **batch.notes,
            },
            at=now,
        )
    return written


def _subjects_of(batch: SyncBatch) -> set[str]:
    subjects = {c["subject"] for c in batch.citizens}
    for rows in (
        batch.status_reports,
        batch.location_fixes,
        batch.rescue_requests,
        batch.drill_events,
    ):
        subjects.update(r["subject"] for r in rows)
    subjects.update(c["subject"] for c in batch.consents)
    return subjects


def citizen_ids(conn: Connection, subjects: Iterable[str]) -> dict[str, int]:
    """subject → our citizen id, for the subjects we know."""
    wanted = sorted(set(subjects))
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        ids.update(
            conn.execute(
                sa.select(Citizen.subject, Citizen.id).where(Citizen.subject.in_(part))
            ).all()
        )
    return ids


def _changed(table: sa.Table, stmt, columns: Sequence[str]) -> sa.ColumnElement[bool]:
    excluded = stmt.excluded
    return sa.or_(*(table.c[c].is_distinct_from(excluded[c]) for c in columns))


def _upsert_households(conn: Connection, batch: SyncBatch) -> dict[str, int]:
    refs = sorted({c["household_ref"] for c in batch.citizens if c.get("household_ref")})
    if not refs:
        return {}
    table = Household.__table__
    synthetic = {
        c["household_ref"]: c["is_synthetic"] for c in batch.citizens if c.get("household_ref")
    }
    conn.execute(
        insert_ignore(conn, table, ["external_id"]),
        [{"external_id": r, "is_synthetic": synthetic[r], "created_at": utcnow()} for r in refs],
    )
    out: dict[str, int] = {}
    for start in range(0, len(refs), CHUNK):
        part = refs[start : start + CHUNK]
        out.update(
            conn.execute(
                sa.select(table.c.external_id, table.c.id).where(table.c.external_id.in_(part))
            ).all()
        )
    return out


def _upsert_citizens(
    conn: Connection, batch: SyncBatch, households: dict[str, int], now: dt.datetime
) -> int:
    if not batch.citizens:
        return 0
    table = Citizen.__table__
    rows = []
    for c in batch.citizens:
        row = {k: c.get(k) for k in BASIC_INFO_COLUMNS}
        row.update(
            subject=c["subject"],
            household_id=households.get(c.get("household_ref") or ""),
            is_synthetic=c["is_synthetic"],
            created_at=now,
            updated_at=now,
            synced_at=now,
        )
        rows.append(row)
    compare = [*BASIC_INFO_COLUMNS, "household_id", "is_synthetic"]
    base = dialect_insert(conn, table)
    stmt = base.on_conflict_do_update(
        index_elements=["subject"],
        set_={c: base.excluded[c] for c in [*compare, "updated_at", "synced_at"]},
        where=_changed(table, base, compare),
    )
    changed = 0
    for start in range(0, len(rows), 1000):
        result = conn.execute(
            stmt, rows[start : start + 1000], execution_options={"preserve_rowcount": True}
        )
        changed += max(result.rowcount or 0, 0)
    return changed


def _append_consents(conn: Connection, batch: SyncBatch, ids: dict[str, int]) -> int:
    """Append the consent decisions not yet in the ledger, set-based.

    The ledger is only appended to (rows whose ``source_ref`` is already there are skipped);
    the derived :class:`ConsentState` of the citizens concerned is then recomputed from the
    ledger in the same transaction — the same derivation as :func:`sql.consent.rebuild_state`,
    restricted to those citizens.
    """
    if not batch.consents:
        return 0
    table = ConsentEvent.__table__
    refs = sorted({c["source_ref"] for c in batch.consents})
    seen: set[str] = set()
    for start in range(0, len(refs), CHUNK):
        part = refs[start : start + CHUNK]
        seen.update(
            conn.execute(
                sa.select(table.c.source_ref).where(table.c.source_ref.in_(part))
            ).scalars()
        )
    now = utcnow()
    rows = []
    for c in sorted(batch.consents, key=lambda e: (e["occurred_at"], e["source_ref"])):
        if c["source_ref"] in seen or c["subject"] not in ids:
            continue
        seen.add(c["source_ref"])
        row = {k: v for k, v in c.items() if k != "subject"}
        row.update(citizen_id=ids[c["subject"]], recorded_at=now)
        validate_event(row)
        rows.append(row)
    if not rows:
        return 0
    for start in range(0, len(rows), 5000):
        conn.execute(sa.insert(table), rows[start : start + 5000])
    rederive_state(conn, sorted({r["citizen_id"] for r in rows}))
    return len(rows)


def _in_chunks(conn: Connection, stmt_for, ids: list[int]) -> int:
    total = 0
    for start in range(0, len(ids), CHUNK):
        result = conn.execute(
            stmt_for(ids[start : start + CHUNK]), execution_options={"preserve_rowcount": True}
        )
        total += max(result.rowcount or 0, 0)
    return total


def _remove_unconsented(conn: Connection, batch: SyncBatch, ids: dict[str, int]) -> dict[str, int]:
    """Remove what a consent no longer in force covered (withdrawn or expired)."""
    by_item: dict[str, list[int]] = {}
    for subject, items in batch.not_in_force.items():
        if subject not in ids:
            continue
        for item in items:
            by_item.setdefault(item, []).append(ids[subject])
    removed: dict[str, int] = {}
    citizens = Citizen.__table__
    if ids_ := sorted(by_item.get("basic_info", [])):
        removed["basic_info"] = _in_chunks(
            conn,
            lambda part: (
                sa.update(citizens)
                .where(
                    citizens.c.id.in_(part),
                    sa.or_(*(citizens.c[c].is_not(None) for c in BASIC_INFO_COLUMNS)),
                )
                .values(**dict.fromkeys(BASIC_INFO_COLUMNS), updated_at=utcnow())
            ),
            ids_,
        )
    if ids_ := sorted(by_item.get("household_link", [])):
        removed["household_link"] = _in_chunks(
            conn,
            lambda part: (
                sa.update(citizens)
                .where(citizens.c.id.in_(part), citizens.c.household_id.is_not(None))
                .values(household_id=None)
            ),
            ids_,
        )
    if ids_ := sorted(by_item.get("location", [])):
        fixes = LocationFix.__table__
        removed["location"] = _in_chunks(
            conn, lambda part: sa.delete(fixes).where(fixes.c.citizen_id.in_(part)), ids_
        )
    if ids_ := sorted(by_item.get("safety_status", [])):
        latest = CitizenLatestStatus.__table__
        reports = StatusReport.__table__
        _in_chunks(conn, lambda part: sa.delete(latest).where(latest.c.citizen_id.in_(part)), ids_)
        removed["safety_status"] = _in_chunks(
            conn, lambda part: sa.delete(reports).where(reports.c.citizen_id.in_(part)), ids_
        )
    if ids_ := sorted(by_item.get("support_register", [])):
        reg = SupportRegisterEntry.__table__
        removed["support_register"] = _in_chunks(
            conn, lambda part: sa.delete(reg).where(reg.c.citizen_id.in_(part)), ids_
        )
    return {k: v for k, v in removed.items() if v}


def _write_register(
    conn: Connection, batch: SyncBatch, ids: dict[str, int], now: dt.datetime
) -> None:
    if not batch.register:
        return
    table = SupportRegisterEntry.__table__
    cols = [
        "needs",
        "care_level",
        "supporter_name",
        "supporter_phone",
        "supporter_relation",
        "normal_time_consent",
        "is_synthetic",
    ]
    rows = [
        {**{c: entry.get(c) for c in cols}, "citizen_id": ids[s], "updated_at": now}
        for s, entry in batch.register.items()
        if s in ids
    ]
    if not rows:
        return
    base = dialect_insert(conn, table)
    stmt = base.on_conflict_do_update(
        index_elements=["citizen_id"],
        set_={c: base.excluded[c] for c in [*cols, "updated_at"]},
        where=_changed(table, base, cols),
    )
    conn.execute(stmt, rows)


#: What a sync writes of a shelter: its place, capacity, hazard flags and kinds.
SHELTER_COLUMNS = (
    *shelter_columns("name", "capacity"),
    *shelter_columns("hazard_flood", "is_welfare_shelter"),
    "is_synthetic",
)


def _upsert_shelters(
    conn: Connection, batch: SyncBatch, now: dt.datetime
) -> tuple[dict[str, int], int]:
    """Shelters matched by public id (standard, GSI) first, then by the city OS's id.

    Returns (city-OS shelter id → our id for every known shelter, rows inserted or changed).
    """
    table = Shelter.__table__
    existing = conn.execute(
        sa.select(table.c.id, table.c.local_id, table.c.standard_id, table.c.gsi_id)
    ).all()
    by_local = {r.local_id: r.id for r in existing if r.local_id}
    by_standard = {r.standard_id: r.id for r in existing if r.standard_id}
    by_gsi = {r.gsi_id: r.id for r in existing if r.gsi_id}
    mapping: dict[str, int] = dict(by_local)
    changed = 0
    for s in batch.shelters:
        values = {c: s[c] for c in SHELTER_COLUMNS}
        our_id = (
            by_standard.get(s.get("standard_id") or "")
            or by_gsi.get(s.get("gsi_id") or "")
            or by_local.get(s["local_id"])
        )
        if our_id is None:
            our_id = conn.execute(
                sa.insert(table)
                .values(
                    **values,
                    local_id=s["local_id"],
                    standard_id=s.get("standard_id"),
                    gsi_id=s.get("gsi_id"),
                    municipality_code=s.get("municipality_code"),
                    source="city_os",
                    created_at=now,
                    updated_at=now,
                )
                .returning(table.c.id)
            ).scalar_one()
            changed += 1
        else:
            result = conn.execute(
                sa.update(table)
                .where(
                    table.c.id == our_id,
                    sa.or_(*(table.c[c].is_distinct_from(v) for c, v in values.items())),
                )
                .values(**values, updated_at=now),
                execution_options={"preserve_rowcount": True},
            )
            changed += max(result.rowcount or 0, 0)
        mapping[s["local_id"]] = our_id
    return mapping, changed


def _resolve(rows: list[dict[str, Any]], ids: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        cid = ids.get(r["subject"])
        if cid is None:
            continue
        row = {k: v for k, v in r.items() if k not in ("subject", "shelter_ref")}
        row["citizen_id"] = cid
        out.append(row)
    return out


def _write_status(
    conn: Connection, batch: SyncBatch, ids: dict[str, int], shelters: dict[str, int]
) -> IngestResult:
    rows = []
    for report in batch.status_reports:  # the ingest takes only its columns from each row
        citizen_id = ids.get(report["subject"])
        if citizen_id is not None:
            ref = report.get("shelter_ref")
            shelter_id = shelters.get(ref) if ref else None
            rows.append({**report, "citizen_id": citizen_id, "shelter_id": shelter_id})
    # One set-based write for the whole sync (it is one transaction anyway): each citizen's
    # latest status is then updated once, not once per ingest-sized batch; on PostgreSQL, updating
    # the same row many times in one transaction piles up versions every lookup has to walk.
    return write_status_batch(conn, rows)


def _write_fixes(conn: Connection, batch: SyncBatch, ids: dict[str, int]) -> IngestResult:
    if not batch.location_fixes:
        return IngestResult()
    rows = _resolve(batch.location_fixes, ids)
    total = IngestResult()
    for start in range(0, len(rows), INGEST_BATCH):
        total += write_location_batch(conn, rows[start : start + INGEST_BATCH])
    return total


def _write_rescues(
    conn: Connection, batch: SyncBatch, ids: dict[str, int], now: dt.datetime
) -> int:
    rows = _resolve(batch.rescue_requests, ids)
    if not rows:
        return 0
    table = RescueRequest.__table__
    new = 0
    for row in rows:
        rid = conn.execute(
            insert_ignore(conn, table, ["idempotency_key"])
            .values(**row, status="new", updated_at=now, version=1)
            .returning(table.c.id)
        ).scalar()
        if rid is None:
            continue
        new += 1
        conn.execute(
            sa.insert(RescueRequestEvent.__table__).values(
                request_id=rid,
                from_status=None,
                to_status="new",
                reason=row.get("needs"),
                actor=f"citizen:{row['citizen_id']}",
                at=row["requested_at"],
            )
        )
    return new


def _write_drill_events(conn: Connection, batch: SyncBatch, ids: dict[str, int]) -> int:
    rows = _resolve(batch.drill_events, ids)
    if not rows:
        return 0
    result = conn.execute(
        insert_ignore(conn, DrillEvent.__table__, ["idempotency_key"]),
        rows,
        execution_options={"preserve_rowcount": True},
    )
    return max(result.rowcount or 0, 0)


def _fingerprint(source: str, q: dict[str, Any]) -> str:
    key = [source, q["kind"], q.get("record_ref"), q.get("reason"), q.get("field")]
    if q.get("record_ref") is None:  # no id to tell records apart: the position does
        key.append(q.get("position"))
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()


def _write_quarantined(conn: Connection, batch: SyncBatch, now: dt.datetime) -> int:
    """The records the boundary kept out, once each (a repeated sync adds no duplicate)."""
    if not batch.quarantined:
        return 0
    rows = [
        {
            "source": batch.source,
            "kind": q["kind"],
            "record_ref": q.get("record_ref"),
            "position": q["position"][:200],
            "reason": q["reason"],
            "field": (q.get("field") or None) and q["field"][:200],
            "detail": (q.get("detail") or None) and q["detail"][:300],
            "fingerprint": _fingerprint(batch.source, q),
            "received_at": now,
        }
        for q in batch.quarantined
    ]
    result = conn.execute(
        insert_ignore(conn, QuarantinedRecord.__table__, ["fingerprint"]),
        rows,
        execution_options={"preserve_rowcount": True},
    )
    return max(result.rowcount or 0, 0)


def _release_quarantined(conn: Connection, batch: SyncBatch) -> int:
    """Users and shelters that now passed the checks are no longer held back."""
    table = QuarantinedRecord.__table__
    released = 0
    for kind, refs in (
        ("user", sorted({c["subject"] for c in batch.citizens})),
        ("shelter", sorted({s["local_id"] for s in batch.shelters})),
    ):
        for start in range(0, len(refs), CHUNK):
            part = refs[start : start + CHUNK]
            released += conn.execute(
                sa.delete(table).where(
                    table.c.source == batch.source,
                    table.c.kind == kind,
                    table.c.record_ref.in_(part),
                )
            ).rowcount
    return released


def quarantined_counts(conn: Connection) -> dict[str, int]:
    """source → how many of its records are held back now."""
    table = QuarantinedRecord.__table__
    return dict(
        conn.execute(sa.select(table.c.source, sa.func.count()).group_by(table.c.source)).all()
    )


def quarantined_records(engine: Engine, limit: int = 1000) -> list[dict[str, Any]]:
    """The records held back, newest first (for the admins' page)."""
    table = QuarantinedRecord.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table).order_by(table.c.received_at.desc(), table.c.id.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in rows]


def _mark_success(conn: Connection, batch: SyncBatch, now: dt.datetime) -> None:
    details = {"cursor": batch.cursor.as_dict()}
    conn.execute(
        upsert(
            conn,
            SourceHealth.__table__,
            ["source"],
            {
                "source": batch.source,
                "last_success_at": now,
                "last_attempt_at": now,
                "last_error": None,
                "error_kind": None,
                "stale": False,
                "details": details,
            },
        )
    )


def mark_failed(
    engine: Engine,
    source: str,
    error: str,
    now: dt.datetime | None = None,
    *,
    kind: str = "unknown",
) -> None:
    """Record a failed sync: the data from ``source`` is stale; cursors stay where they were.

    ``error`` is kept for the CLI and logs; ``kind`` (``unavailable``, ``auth``, ``contract``,
    ``write``, ``unknown``) is what the banners translate and show."""
    now = now or utcnow()
    table = SourceHealth.__table__
    with engine.begin() as conn:
        conn.execute(
            upsert(
                conn,
                table,
                ["source"],
                {
                    "source": source,
                    "last_success_at": None,
                    "last_attempt_at": now,
                    "last_error": error[:2000],
                    "error_kind": kind[:32],
                    "stale": True,
                    "details": None,
                },
                update=["last_attempt_at", "last_error", "error_kind", "stale"],
            )
        )
