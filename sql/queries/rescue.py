"""Rescue requests in aggregate (any operational role) and their status history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import RESCUE_OPEN_STATUSES, RESCUE_PRIORITIES, RESCUE_STATUSES

from ..frames import query_frame
from ..models import RescueRequest, RescueRequestEvent, Staff


def _incident(column, incident_id: int | None):
    return column == incident_id if incident_id else column.is_(None)


def count_by_status(engine: Engine, incident_id: int | None) -> dict[str, int]:
    """Rescue requests of the incident per status (every status, zeros included)."""
    rr = RescueRequest.__table__
    counts = {s: 0 for s in RESCUE_STATUSES}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rr.c.status, sa.func.count())
            .where(_incident(rr.c.incident_id, incident_id))
            .group_by(rr.c.status)
        ).all()
    counts.update({s: int(n) for s, n in rows})
    return counts


def open_by_priority(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> dict[str, int]:
    """Open rescue requests per priority (at ``as_of`` from the status history, else now)."""
    rr = RescueRequest.__table__
    counts = {p: 0 for p in RESCUE_PRIORITIES}
    with engine.connect() as conn:
        if as_of is None:
            rows = conn.execute(
                sa.select(rr.c.priority, sa.func.count())
                .where(
                    _incident(rr.c.incident_id, incident_id), rr.c.status.in_(RESCUE_OPEN_STATUSES)
                )
                .group_by(rr.c.priority)
            ).all()
        else:
            status = status_as_of(incident_id, as_of)
            rows = conn.execute(
                sa.select(status.c.priority, sa.func.count())
                .where(status.c.status.in_(RESCUE_OPEN_STATUSES))
                .group_by(status.c.priority)
            ).all()
    counts.update({p: int(n) for p, n in rows})
    return counts


def status_as_of(incident_id: int | None, as_of: dt.datetime) -> sa.Subquery:
    """Each request requested by ``as_of`` with its status then (from its event history)."""
    rr = RescueRequest.__table__
    ev = RescueRequestEvent.__table__
    ranked = (
        sa.select(
            ev.c.request_id,
            ev.c.to_status,
            sa.func.row_number()
            .over(partition_by=ev.c.request_id, order_by=(ev.c.at.desc(), ev.c.id.desc()))
            .label("rn"),
        )
        .where(ev.c.at <= as_of)
        .subquery()
    )
    last = sa.select(ranked.c.request_id, ranked.c.to_status).where(ranked.c.rn == 1).subquery()
    return (
        sa.select(
            rr.c.id,
            rr.c.priority,
            rr.c.lat,
            rr.c.lon,
            rr.c.people_count,
            rr.c.requested_at,
            sa.func.coalesce(last.c.to_status, "new").label("status"),
        )
        .select_from(rr.outerjoin(last, last.c.request_id == rr.c.id))
        .where(_incident(rr.c.incident_id, incident_id), rr.c.requested_at <= as_of)
        .subquery()
    )


def open_requests_as_of(
    engine: Engine, incident_id: int | None, as_of: dt.datetime
) -> pd.DataFrame:
    """Aggregate-grade rows for replay: id, priority, people_count, status, lat, lon."""
    status = status_as_of(incident_id, as_of)
    with engine.connect() as conn:
        return query_frame(
            conn,
            sa.select(status)
            .where(status.c.status.in_(RESCUE_OPEN_STATUSES))
            .order_by(status.c.id),
        )


def rescue_history(engine: Engine, request_id: int) -> pd.DataFrame:
    """The status history of one request: at, from_status, to_status, team, reason, actor."""
    ev = RescueRequestEvent.__table__
    with engine.connect() as conn:
        return query_frame(
            conn,
            sa.select(
                ev.c.at,
                ev.c.from_status,
                ev.c.to_status,
                ev.c.assigned_team,
                ev.c.reason,
                ev.c.actor,
            )
            .where(ev.c.request_id == request_id)
            .order_by(ev.c.at, ev.c.id),
        )


def rescue_teams(engine: Engine) -> list[str]:
    """Teams known from active rescue staff and from past assignments."""
    rr = RescueRequest.__table__
    with engine.connect() as conn:
        staff = conn.execute(
            sa.select(Staff.team).where(Staff.team.is_not(None), Staff.active.is_(True))
        ).scalars()
        used = conn.execute(
            sa.select(rr.c.assigned_team).where(rr.c.assigned_team.is_not(None)).distinct()
        ).scalars()
        return sorted({t for t in [*staff, *used] if t}, key=natural_key)


def natural_key(name: str) -> tuple:
    """Sort key reading the digits in a name as numbers: 消防2隊 before 消防10隊.

    >>> sorted(["消防10隊", "消防2隊", "消防1隊"], key=natural_key)
    ['消防1隊', '消防2隊', '消防10隊']
    """
    import re

    # Full-width digits (１２) read as digits too.
    text = name.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p
    )


def team_loads(engine: Engine, incident_id: int | None) -> dict[str, int]:
    """Open requests assigned to each team in the incident (a team's current load)."""
    rr = RescueRequest.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rr.c.assigned_team, sa.func.count())
            .where(
                _incident(rr.c.incident_id, incident_id),
                rr.c.status.in_(RESCUE_OPEN_STATUSES),
                rr.c.assigned_team.is_not(None),
            )
            .group_by(rr.c.assigned_team)
        ).all()
    return {str(team): int(n) for team, n in rows}
