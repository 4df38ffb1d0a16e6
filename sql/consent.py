"""Consent: append to the ledger, derive the current state, and ask "may we use this?".

The ledger (:class:`~sql.models.ConsentEvent`) is the truth and is only ever appended to. The
current consent for (citizen, data item, share target) is the latest event by ``occurred_at``
(ties broken by ledger id); it is in force when that event is ``given`` and has not passed its
``expires_at``. Two rules keep a clock's mistakes from overriding a withdrawal (issue 13,
finding 13): an event dated more than :data:`FUTURE_TOLERANCE` after it is recorded is refused
(:func:`validate_event`), and a ``given`` recorded before a withdrawal (or expiry) never
outranks it, whatever its date (:func:`latest_events`) — so a withdrawal always ends what was
given before it; consent given again afterwards counts by its date as usual. :class:`~sql.models.ConsentState` caches the latest event per key and is written
in the same transaction as the ledger row; :func:`rebuild_state` recomputes it from the ledger
and :func:`state_matches_ledger` proves the cache is exact.

>>> import datetime as dt
>>> t0 = dt.datetime(2022, 3, 11, tzinfo=dt.UTC)
>>> events = [
...     ConsentFact(1, "location", "city_hq", "given", t0, None, 1),
...     ConsentFact(1, "location", "city_hq", "withdrawn", t0 + dt.timedelta(hours=1), None, 2),
... ]
>>> derive_current(events, at=t0 + dt.timedelta(minutes=30))[(1, "location", "city_hq")]
True
>>> derive_current(events, at=t0 + dt.timedelta(hours=2))[(1, "location", "city_hq")]
False
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import COLLECTION_METHODS, CONSENT_EVENTS, DATA_ITEMS, SHARE_TARGETS

from .models import ConsentEvent, ConsentState
from .models.base import utcnow
from .upsert import insert_ignore

#: How far in the future an event may be dated (clock skew between devices); later is refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
#: The privacy-notice version the pilot's consents refer to (configurable per event).
DEFAULT_NOTICE_VERSION = "2022.1"
DEFAULT_PURPOSE = "disaster_response"


@dataclasses.dataclass(frozen=True)
class ConsentFact:
    """The fields derivation needs from one ledger event."""

    citizen_id: int
    data_item: str
    share_target: str
    event_type: str
    occurred_at: dt.datetime
    expires_at: dt.datetime | None
    event_id: int


def latest_events(
    events: Iterable[ConsentFact], until: dt.datetime | None = None
) -> dict[tuple[int, str, str], ConsentFact]:
    """The current event per (citizen, item, target) among those up to ``until`` (all if None):
    the latest by ``occurred_at`` (ties by ledger id) among the withdrawals and expiries and the
    ``given`` events recorded after the last of them — a ``given`` recorded before a withdrawal
    never outranks it, whatever its date."""
    by_key: dict[tuple[int, str, str], list[ConsentFact]] = {}
    for ev in events:
        if until is not None and ev.occurred_at > until:
            continue
        by_key.setdefault((ev.citizen_id, ev.data_item, ev.share_target), []).append(ev)
    latest: dict[tuple[int, str, str], ConsentFact] = {}
    for key, evs in by_key.items():
        last_end = max((e.event_id for e in evs if e.event_type != "given"), default=None)
        candidates = [
            e for e in evs if e.event_type != "given" or last_end is None or e.event_id > last_end
        ]
        latest[key] = max(candidates, key=lambda e: (e.occurred_at, e.event_id))
    return latest


def ranked_ledger(*where: sa.ColumnElement[bool], partition: tuple[str, ...] | None = None):
    """The ledger rows matching ``where`` that can be current, with ``rn`` = 1 on the current
    event per key — the SQL form of :func:`latest_events`. ``partition``: the key columns
    (default citizen, item, target)."""
    ev = ConsentEvent.__table__
    keys = [ev.c[c] for c in (partition or ("citizen_id", "data_item", "share_target"))]
    last_end = (
        sa.func.max(sa.case((ev.c.event_type != "given", ev.c.id)))
        .over(partition_by=keys)
        .label("last_end")
    )
    inner = sa.select(ev, last_end).where(*where).subquery()
    outer_keys = [inner.c[k.name] for k in keys]
    rn = (
        sa.func.row_number()
        .over(partition_by=outer_keys, order_by=(inner.c.occurred_at.desc(), inner.c.id.desc()))
        .label("rn")
    )
    return (
        sa.select(*[inner.c[c.name] for c in ev.columns], inner.c.id.label("event_id"), rn)
        .where(
            sa.or_(
                inner.c.event_type != "given",
                inner.c.last_end.is_(None),
                inner.c.id > inner.c.last_end,
            )
        )
        .subquery()
    )


def derive_current(
    events: Iterable[ConsentFact], at: dt.datetime
) -> dict[tuple[int, str, str], bool]:
    """The consent in force at ``at`` for every (citizen, item, target) seen in ``events``.

    Only events that occurred at or before ``at`` count; the latest wins (ties by event id);
    a ``given`` event counts until its ``expires_at``.
    """
    return {key: _in_force(ev, at) for key, ev in latest_events(events, at).items()}


def _in_force(ev: ConsentFact, at: dt.datetime) -> bool:
    return ev.event_type == "given" and (ev.expires_at is None or ev.expires_at > at)


def validate_event(event: dict[str, Any], now: dt.datetime | None = None) -> None:
    """Raise ValueError naming the bad field of a ledger event (``now``: when it is recorded)."""
    checks = (
        ("data_item", DATA_ITEMS),
        ("share_target", SHARE_TARGETS),
        ("event_type", CONSENT_EVENTS),
        ("collection_method", COLLECTION_METHODS),
    )
    for field, allowed in checks:
        if event.get(field) not in allowed:
            raise ValueError(f"{field}: {event.get(field)!r} is not one of {', '.join(allowed)}")
    occurred = event.get("occurred_at")
    if not isinstance(occurred, dt.datetime) or occurred.tzinfo is None:
        raise ValueError("occurred_at: a timezone-aware datetime is required")
    now = now or event.get("recorded_at") or utcnow()
    if occurred > now + FUTURE_TOLERANCE:
        raise ValueError(
            f"occurred_at: {occurred.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC is "
            f"{(occurred - now).total_seconds() / 60:.0f} minutes in the future (more than "
            f"{FUTURE_TOLERANCE.total_seconds() / 60:.0f} allowed); a consent decision cannot "
            "come from the future — check the clock of the device that recorded it"
        )
    expires = event.get("expires_at")
    if expires is not None and (event["event_type"] != "given" or expires <= occurred):
        raise ValueError("expires_at: only a 'given' event may expire, and after it occurred")


def _complete(event: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    row = {
        "purpose": DEFAULT_PURPOSE,
        "notice_version": DEFAULT_NOTICE_VERSION,
        "expires_at": None,
        "source_ref": None,
        "recorded_at": now,
        **event,
    }
    validate_event(row)
    return row


def record_consent(conn: Connection, events: Sequence[dict[str, Any]]) -> int:
    """Append ledger events and update the derived state, in the caller's transaction.

    An event whose ``source_ref`` is already in the ledger is skipped (idempotent sync).
    An event dated more than :data:`FUTURE_TOLERANCE` in the future raises ValueError and
    nothing is written. Returns the number of events appended.
    """
    if not events:
        return 0
    now = utcnow()
    rows = [_complete(ev, now) for ev in events]
    table = ConsentEvent.__table__
    appended = 0
    touched: set[int] = set()
    for row in rows:
        stmt = insert_ignore(conn, table, ["source_ref"]) if row["source_ref"] else sa.insert(table)
        result = conn.execute(stmt.values(**row).returning(table.c.id))
        new_id = result.scalar()
        if new_id is None:
            continue
        appended += 1
        touched.add(row["citizen_id"])
    rederive_state(conn, sorted(touched))
    return appended


STATE_COLUMNS = (
    "citizen_id",
    "data_item",
    "share_target",
    "event_id",
    "event_type",
    "occurred_at",
    "expires_at",
)
CHUNK = 900  # ids per IN (...) list: below SQLite's variable limit


def rederive_state(conn: Connection, citizen_ids: Sequence[int]) -> None:
    """Recompute :class:`ConsentState` of these citizens from the ledger (same derivation as
    :func:`rebuild_state`)."""
    ev = ConsentEvent.__table__
    state = ConsentState.__table__
    for start in range(0, len(citizen_ids), CHUNK):
        part = list(citizen_ids[start : start + CHUNK])
        ranked = ranked_ledger(ev.c.citizen_id.in_(part))
        conn.execute(sa.delete(state).where(state.c.citizen_id.in_(part)))
        conn.execute(
            sa.insert(state).from_select(
                STATE_COLUMNS,
                sa.select(*[ranked.c[c] for c in STATE_COLUMNS]).where(ranked.c.rn == 1),
            )
        )


def rebuild_state(conn: Connection) -> int:
    """Recompute :class:`ConsentState` from the whole ledger (bulk loads, repair)."""
    ranked = ranked_ledger()
    conn.execute(sa.delete(ConsentState.__table__))
    result = conn.execute(
        sa.insert(ConsentState.__table__).from_select(
            STATE_COLUMNS, sa.select(*[ranked.c[c] for c in STATE_COLUMNS]).where(ranked.c.rn == 1)
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount or 0


def in_force_clause(at: dt.datetime | None = None) -> sa.ColumnElement[bool]:
    """SQL condition on :class:`ConsentState` rows: the consent is in force at ``at`` (now)."""
    at = at or utcnow()
    state = ConsentState.__table__
    return sa.and_(
        state.c.event_type == "given",
        sa.or_(state.c.expires_at.is_(None), state.c.expires_at > at),
    )


def consenting_citizens(
    data_item: str, share_target: str = "city_hq", at: dt.datetime | None = None
) -> sa.Select:
    """``SELECT citizen_id`` of everyone whose consent for (item, target) is in force at ``at``."""
    state = ConsentState.__table__
    return sa.select(state.c.citizen_id).where(
        state.c.data_item == data_item,
        state.c.share_target == share_target,
        in_force_clause(at),
    )


def has_consent(
    conn: Connection,
    citizen_id: int,
    data_item: str,
    share_target: str = "city_hq",
    at: dt.datetime | None = None,
) -> bool:
    stmt = consenting_citizens(data_item, share_target, at).where(
        ConsentState.__table__.c.citizen_id == citizen_id
    )
    return conn.execute(stmt).first() is not None


def ledger_select() -> sa.Select:
    """``SELECT`` of the ledger's rows as :class:`ConsentFact` fields (the ledger id last)."""
    ev = ConsentEvent.__table__
    return sa.select(
        ev.c.citizen_id,
        ev.c.data_item,
        ev.c.share_target,
        ev.c.event_type,
        ev.c.occurred_at,
        ev.c.expires_at,
        ev.c.id,
    )


def ledger_facts(conn: Connection, citizen_ids: Iterable[int] | None = None) -> list[ConsentFact]:
    ev = ConsentEvent.__table__
    stmt = ledger_select()
    if citizen_ids is not None:
        stmt = stmt.where(ev.c.citizen_id.in_(list(citizen_ids)))
    return [ConsentFact(*row) for row in conn.execute(stmt)]


def state_matches_ledger(engine: Engine, at: dt.datetime | None = None) -> bool:
    """True when the cached state holds exactly the ledger's latest event per key, and so
    gives the ledger's answer for any moment ``at`` after the newest event (default now)."""
    at = at or utcnow()
    with engine.connect() as conn:
        latest = latest_events(ledger_facts(conn))
        state = ConsentState.__table__
        cached = {
            (row.citizen_id, row.data_item, row.share_target): (
                row.event_id,
                row.event_type,
                row.occurred_at,
                row.expires_at,
            )
            for row in conn.execute(sa.select(state))
        }
    expected = {
        key: (ev.event_id, ev.event_type, ev.occurred_at, ev.expires_at)
        for key, ev in latest.items()
    }
    if cached != expected:
        return False
    return all(
        _in_force(ev, at)
        == _in_force(ConsentFact(*key, *cached[key][1:3], cached[key][3], cached[key][0]), at)
        for key, ev in latest.items()
    )


def consenting_citizens_as_of(data_item: str, share_target: str, at: dt.datetime) -> sa.Select:
    """Like :func:`consenting_citizens` but for any past moment (replay, research), from the
    ledger itself: the current event at ``at`` (of those that occurred by then, ranked as in
    :func:`latest_events`) must be an unexpired ``given``."""
    ev = ConsentEvent.__table__
    ranked = ranked_ledger(
        ev.c.data_item == data_item,
        ev.c.share_target == share_target,
        ev.c.occurred_at <= at,
        partition=("citizen_id",),
    )
    return sa.select(ranked.c.citizen_id).where(
        ranked.c.rn == 1,
        ranked.c.event_type == "given",
        sa.or_(ranked.c.expires_at.is_(None), ranked.c.expires_at > at),
    )
