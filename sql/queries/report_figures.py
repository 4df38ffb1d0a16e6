"""The figures of the council and situation reports: aggregates over one incident.

Nothing here names a person. Where a computation needs one row per citizen (the state of each
citizen over time), the rows carry only the internal citizen id, the state and the time — the
same pseudonymous rows the HQ map aggregates (:mod:`sql.queries.status_snapshot`) — and the
callers (``analytics``) turn them into counts before anything leaves.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import (
    Citizen,
    Incident,
    NotificationEvent,
    NotificationRequest,
    RescueRequest,
    RescueRequestEvent,
    ShelterOccupancy,
    ShelterOperation,
    StatusReport,
    SupportRegisterEntry,
)
from .incidents import IncidentSummary, _summary
from .notifications import delivery_counts, funnel_columns


def find_incident(engine: Engine, ref: str | int) -> IncidentSummary | None:
    """One incident by database id or external id."""
    cond = Incident.external_id == str(ref)
    if str(ref).isdigit():
        cond = sa.or_(cond, Incident.id == int(ref))
    with engine.connect() as conn:
        row = conn.execute(sa.select(Incident).where(cond).order_by(Incident.id)).first()
    return _summary(row) if row else None


def citizen_total(engine: Engine) -> int:
    """Opted-in citizens in the database."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(Citizen)).scalar_one())


def status_reports(
    engine: Engine, incident_id: int, until: dt.datetime | None = None
) -> pd.DataFrame:
    """``citizen_id, state, reported_at`` of every status report of the incident (up to
    ``until``), oldest first — pseudonymous rows for counting only."""
    sr = StatusReport.__table__
    stmt = sa.select(sr.c.citizen_id, sr.c.state, sr.c.reported_at).where(
        sr.c.incident_id == incident_id
    )
    if until is not None:
        stmt = stmt.where(sr.c.reported_at <= until)
    with engine.connect() as conn:
        return query_frame(conn, stmt.order_by(sr.c.reported_at, sr.c.id))


def register_ids(engine: Engine) -> list[int]:
    """Ids of the citizens on the evacuation-support register (for counting only)."""
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(SupportRegisterEntry.citizen_id)).scalars())


def notification_reach(
    engine: Engine, incident_id: int, until: dt.datetime | None = None
) -> pd.DataFrame:
    """One row per notification request of the incident (created by ``until``): ``id,
    created_at, sent_at, target_kind, title, status, recipient_count, delivered, opened,
    failed`` (event counts up to ``until``)."""
    nr = NotificationRequest.__table__
    counts = delivery_counts(until)
    cond = [nr.c.incident_id == incident_id]
    if until is not None:
        cond.append(nr.c.created_at <= until)
    stmt = (
        sa.select(
            nr.c.id,
            nr.c.created_at,
            nr.c.sent_at,
            nr.c.target_kind,
            nr.c.title,
            nr.c.status,
            nr.c.recipient_count,
            *funnel_columns(counts),
        )
        .select_from(nr.outerjoin(counts, counts.c.request_id == nr.c.id))
        .where(*cond)
        .order_by(nr.c.created_at, nr.c.id)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def people_reached(engine: Engine, incident_id: int, until: dt.datetime | None = None) -> dict:
    """Distinct citizens with a delivered (``delivered``) and an opened (``opened``)
    notification of the incident by ``until``."""
    nr = NotificationRequest.__table__
    ev = NotificationEvent.__table__
    cond = [nr.c.incident_id == incident_id, ev.c.citizen_id.is_not(None)]
    if until is not None:
        cond.append(ev.c.at <= until)
    out = {}
    with engine.connect() as conn:
        for event in ("delivered", "opened"):
            out[event] = int(
                conn.execute(
                    sa.select(sa.func.count(sa.distinct(ev.c.citizen_id)))
                    .select_from(ev.join(nr, nr.c.id == ev.c.request_id))
                    .where(*cond, ev.c.event == event)
                ).scalar_one()
            )
    return out


def rescue_timeline(engine: Engine, incident_id: int) -> pd.DataFrame:
    """One row per rescue request of the incident, without who or where: ``request_id,
    priority, people_count, requested_at`` and the first time it reached each status
    (``triaged_at, assigned_at, en_route_at, resolved_at, cancelled_at``; empty if never)."""
    rr = RescueRequest.__table__
    ev = RescueRequestEvent.__table__

    def first(status: str):
        return sa.func.min(sa.case((ev.c.to_status == status, ev.c.at))).label(f"{status}_at")

    firsts = (
        sa.select(
            ev.c.request_id,
            first("triaged"),
            first("assigned"),
            first("en_route"),
            first("resolved"),
            first("cancelled"),
        )
        .group_by(ev.c.request_id)
        .subquery()
    )
    stmt = (
        sa.select(
            rr.c.id.label("request_id"),
            rr.c.priority,
            rr.c.people_count,
            rr.c.requested_at,
            firsts.c.triaged_at,
            firsts.c.assigned_at,
            firsts.c.en_route_at,
            firsts.c.resolved_at,
            firsts.c.cancelled_at,
        )
        .select_from(rr.outerjoin(firsts, firsts.c.request_id == rr.c.id))
        .where(rr.c.incident_id == incident_id)
        .order_by(rr.c.requested_at, rr.c.id)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    for column in (
        "requested_at",
        "triaged_at",
        "assigned_at",
        "en_route_at",
        "resolved_at",
        "cancelled_at",
    ):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def occupancy_observations(engine: Engine, incident_id: int) -> pd.DataFrame:
    """``shelter_id, observed_at, head_count`` of the incident (the largest count where
    several sources reported at the same moment), oldest first."""
    occ = ShelterOccupancy.__table__
    stmt = (
        sa.select(
            occ.c.shelter_id,
            occ.c.observed_at,
            sa.func.max(occ.c.head_count).label("head_count"),
        )
        .where(occ.c.incident_id == incident_id)
        .group_by(occ.c.shelter_id, occ.c.observed_at)
        .order_by(occ.c.observed_at, occ.c.shelter_id)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True, format="ISO8601")
    frame["head_count"] = pd.to_numeric(frame["head_count"]).astype("int64")
    return frame


def open_periods(engine: Engine, incident_id: int) -> pd.DataFrame:
    """``shelter_id, opened_at, closed_at`` (empty while open) of the incident's shelters."""
    op = ShelterOperation.__table__
    stmt = (
        sa.select(op.c.shelter_id, op.c.opened_at, op.c.closed_at)
        .where(op.c.incident_id == incident_id)
        .order_by(op.c.opened_at, op.c.shelter_id)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    for column in ("opened_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame
