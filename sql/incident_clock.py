"""The incident clock: the one answer to "what time is it?" for anything stamped on an incident.

A real incident runs on the wall clock. An incident with ``own_clock`` — the demo's incident,
whose data were generated for a July night and are looked at months later — runs on its own
clock: "now" is the newest moment its data reached (status reports, head counts, rescue
requests, the activity log), never later than the wall clock, and each action taken on it is
stamped one second after that moment. So a head count, a closed shelter, a rescue assignment, a push notification or the end
of the demo incident land inside the incident, in the order they were taken, and its replay and
council report keep the incident's own period. An incident that has ended reads "now" as its
newest status report (waiting times and ages read as they did then instead of growing forever);
actions on it are stamped by the wall clock.

Times that come from outside (the city OS's push answer and delivery events) are moved onto
the incident clock by its current offset from the wall clock (:func:`offset_from_wall`).

The audit chain is not incident data: it always records the wall clock (when it really
happened).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .models import (
    Incident,
    IncidentActivity,
    RescueRequest,
    ShelterOccupancy,
    StatusReport,
)
from .models.base import utcnow

#: How far each action advances an incident that runs on its own clock.
ACTION_STEP = dt.timedelta(seconds=1)


def _aware(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _incident(conn: Connection, incident_id: int | None):
    if incident_id is None:
        return None
    return conn.execute(
        sa.select(Incident.ended_at, Incident.own_clock).where(Incident.id == incident_id)
    ).first()


def _newest_report(conn: Connection, incident_id: int) -> dt.datetime | None:
    return _aware(
        conn.execute(
            sa.select(sa.func.max(StatusReport.reported_at)).where(
                StatusReport.incident_id == incident_id
            )
        ).scalar()
    )


def _newest_moment(conn: Connection, incident_id: int) -> dt.datetime | None:
    """The newest moment any of the incident's data reached: status reports, head counts,
    rescue requests and the activity log."""
    columns = (
        (StatusReport.reported_at, StatusReport.incident_id),
        (ShelterOccupancy.observed_at, ShelterOccupancy.incident_id),
        (RescueRequest.updated_at, RescueRequest.incident_id),
        (IncidentActivity.at, IncidentActivity.incident_id),
    )
    moments = [
        _aware(conn.execute(sa.select(sa.func.max(column)).where(owner == incident_id)).scalar())
        for column, owner in columns
    ]
    return max((m for m in moments if m is not None), default=None)


def _own_now(conn: Connection, incident_id: int, wall: dt.datetime) -> dt.datetime:
    newest = _newest_moment(conn, incident_id)
    return min(newest, wall) if newest is not None else wall


def incident_now(conn: Connection, incident_id: int | None) -> dt.datetime:
    """ "Now" for reading an incident: waiting times, ages, the moment a page shows."""
    wall = utcnow()
    row = _incident(conn, incident_id)
    if row is None:
        return wall
    if row.own_clock:
        return _own_now(conn, incident_id, wall)
    if row.ended_at is None:
        return wall
    newest = _newest_report(conn, incident_id)
    return min(newest or _aware(row.ended_at), wall)


def action_time(conn: Connection, incident_id: int | None) -> dt.datetime:
    """The time to stamp an action on ``incident_id`` with (in the action's transaction)."""
    wall = utcnow()
    row = _incident(conn, incident_id)
    if row is None or not row.own_clock:
        return wall
    return min(_own_now(conn, incident_id, wall) + ACTION_STEP, wall)


def offset_from_wall(conn: Connection, incident_id: int | None) -> dt.timedelta:
    """What to add to a wall-clock time from outside (the city OS's answer and delivery
    events) to put it on the incident's clock: zero unless the incident runs on its own."""
    row = _incident(conn, incident_id)
    if row is None or not row.own_clock:
        return dt.timedelta(0)
    wall = utcnow()
    return _own_now(conn, incident_id, wall) + ACTION_STEP - wall


def incident_clock(engine: Engine, incident_id: int | None) -> dt.datetime:
    """:func:`incident_now` on its own connection (for pages and reports)."""
    if incident_id is None:
        return utcnow()
    with engine.connect() as conn:
        return incident_now(conn, incident_id)
