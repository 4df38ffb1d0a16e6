"""Retention: delete location fixes and safety messages some days after their incident ended,
keep the aggregates, log what was done.

For each incident that ended more than ``days`` days ago, and for data outside any incident
older than ``days`` days (cut at midnight Asia/Tokyo so a day is never split between runs):

* every location fix is deleted, after adding per-day counts (fixes, distinct citizens) to
  :class:`~sql.models.IncidentDailyCount`;
* the free-text message of every status report is cleared (``status_reports.message``), after
  counting the messages per day; the status itself (state, time, shelter) stays — the safety
  rates and the drill/incident evaluations are computed from it.

One transaction, one audit row (``retention`` by the CLI) naming the counts. A second run with
the same ``days`` changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import audit
from .models import Incident, IncidentDailyCount, LocationFix, StatusReport
from .models.base import utcnow
from .viewer import SYSTEM, Viewer

TOKYO = ZoneInfo("Asia/Tokyo")
DEFAULT_DAYS = 90
MEASURES = ("location_fixes", "location_citizens", "safety_messages")


@dataclasses.dataclass
class RetentionResult:
    days: int
    cutoff: dt.datetime
    incidents: list[int] = dataclasses.field(default_factory=list)
    location_fixes_deleted: int = 0
    messages_cleared: int = 0
    aggregate_rows: int = 0

    def as_details(self) -> dict:
        out = dataclasses.asdict(self)
        out["cutoff"] = self.cutoff.isoformat()
        return out


def _cutoff(now: dt.datetime, days: int) -> dt.datetime:
    local = (now - dt.timedelta(days=days)).astimezone(TOKYO)
    return dt.datetime.combine(local.date(), dt.time(), TOKYO).astimezone(dt.UTC)


def _expired_incidents(conn: Connection, cutoff: dt.datetime) -> list[int]:
    inc = Incident.__table__
    rows = conn.execute(
        sa.select(inc.c.id).where(inc.c.ended_at.is_not(None), inc.c.ended_at < cutoff)
    ).scalars()
    return sorted(int(r) for r in rows)


def _scope(column_incident, column_time, incidents: list[int], cutoff: dt.datetime):
    """Rows of the expired incidents, or outside any incident and older than the cutoff."""
    outside = sa.and_(column_incident.is_(None), column_time < cutoff)
    if not incidents:
        return outside
    return sa.or_(column_incident.in_(incidents), outside)


def _add_counts(conn: Connection, counts: dict[tuple[int, dt.date, str], int]) -> int:
    table = IncidentDailyCount.__table__
    now = utcnow()
    for (incident_key, day, measure), value in sorted(counts.items()):
        if not value:
            continue
        key = (
            table.c.incident_key == incident_key,
            table.c.day == day,
            table.c.measure == measure,
        )
        current = conn.execute(sa.select(table.c.value).where(*key)).scalar()
        if current is None:
            conn.execute(
                sa.insert(table).values(
                    incident_key=incident_key, day=day, measure=measure, value=value, updated_at=now
                )
            )
        else:
            conn.execute(
                sa.update(table).where(*key).values(value=int(current) + value, updated_at=now)
            )
    return sum(1 for v in counts.values() if v)


def _day(value: dt.datetime) -> dt.date:
    return value.astimezone(TOKYO).date()


def apply_retention(
    engine: Engine,
    days: int = DEFAULT_DAYS,
    *,
    viewer: Viewer = SYSTEM,
    now: dt.datetime | None = None,
) -> RetentionResult:
    """Delete what is past retention (see the module docstring); returns what was done."""
    if days < 0:
        raise ValueError("days must be zero or more")
    now = now or utcnow()
    cutoff = _cutoff(now, days)
    result = RetentionResult(days=days, cutoff=cutoff)
    lf = LocationFix.__table__
    sr = StatusReport.__table__
    with engine.begin() as conn:
        audit.lock_for_write(conn)  # one retention at a time, in order with the audit chain
        result.incidents = _expired_incidents(conn, cutoff)
        fixes_scope = _scope(lf.c.incident_id, lf.c.fixed_at, result.incidents, cutoff)
        messages_scope = sa.and_(
            sr.c.message.is_not(None),
            _scope(sr.c.incident_id, sr.c.reported_at, result.incidents, cutoff),
        )
        counts: Counter[tuple[int, dt.date, str]] = Counter()
        citizens: dict[tuple[int, dt.date], set[int]] = {}
        for incident_id, citizen_id, fixed_at in conn.execute(
            sa.select(lf.c.incident_id, lf.c.citizen_id, lf.c.fixed_at).where(fixes_scope)
        ):
            key = (int(incident_id or 0), _day(fixed_at))
            counts[(*key, "location_fixes")] += 1
            citizens.setdefault(key, set()).add(int(citizen_id))
        for key, ids in citizens.items():
            counts[(*key, "location_citizens")] += len(ids)
        for incident_id, reported_at in conn.execute(
            sa.select(sr.c.incident_id, sr.c.reported_at).where(messages_scope)
        ):
            counts[(int(incident_id or 0), _day(reported_at), "safety_messages")] += 1
        result.aggregate_rows = _add_counts(conn, counts)
        result.location_fixes_deleted = conn.execute(sa.delete(lf).where(fixes_scope)).rowcount
        result.messages_cleared = conn.execute(
            sa.update(sr).where(messages_scope).values(message=None)
        ).rowcount
        if result.location_fixes_deleted or result.messages_cleared:
            audit.append(conn, viewer, "retention", target="retention", details=result.as_details())
    return result


def daily_counts(engine: Engine, incident_id: int | None = None):
    """The kept aggregates: incident_key, day, measure, value (a DataFrame)."""
    from .frames import query_frame

    table = IncidentDailyCount.__table__
    stmt = sa.select(table.c.incident_key, table.c.day, table.c.measure, table.c.value).order_by(
        table.c.incident_key, table.c.day, table.c.measure
    )
    if incident_id is not None:
        stmt = stmt.where(table.c.incident_key == incident_id)
    with engine.connect() as conn:
        return query_frame(conn, stmt)
