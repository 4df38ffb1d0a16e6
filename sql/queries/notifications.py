"""Push-notification history and its delivery funnel (aggregates, no recipients)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import NotificationEvent, NotificationRequest

#: The delivery funnel's events, in order.
FUNNEL_EVENTS = ("delivered", "opened", "failed")


def delivery_counts(until: dt.datetime | None = None) -> sa.Subquery:
    """Delivery events per request (those at or before ``until``, all if None): ``request_id``
    and one count column per :data:`FUNNEL_EVENTS`."""
    ev = NotificationEvent.__table__
    return (
        sa.select(
            ev.c.request_id,
            *(sa.func.count().filter(ev.c.event == event).label(event) for event in FUNNEL_EVENTS),
        )
        .where(*([ev.c.at <= until] if until is not None else []))
        .group_by(ev.c.request_id)
        .subquery()
    )


def funnel_columns(counts: sa.Subquery) -> list[sa.ColumnElement]:
    """The funnel's count columns of :func:`delivery_counts` (0 for a request without events)."""
    return [sa.func.coalesce(counts.c[event], 0).label(event) for event in FUNNEL_EVENTS]


def notification_history(engine: Engine, incident_id: int | None, limit: int = 200) -> pd.DataFrame:
    """Requests newest first with their funnel: id, created_at, sent_at, requested_by,
    target_kind, target_spec, title, status, error, recipient_count, delivered, opened, failed."""
    nr = NotificationRequest.__table__
    counts = delivery_counts()
    cond = nr.c.incident_id == incident_id if incident_id else sa.true()
    stmt = (
        sa.select(
            nr.c.id,
            nr.c.created_at,
            nr.c.sent_at,
            nr.c.requested_by,
            nr.c.target_kind,
            nr.c.target_spec,
            nr.c.title,
            nr.c.status,
            nr.c.error,
            nr.c.recipient_count,
            *funnel_columns(counts),
        )
        .select_from(nr.outerjoin(counts, counts.c.request_id == nr.c.id))
        .where(cond)
        .order_by(nr.c.created_at.desc(), nr.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)
