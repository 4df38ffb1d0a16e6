"""Push-notification history and its delivery funnel (aggregates, no recipients)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import NotificationEvent, NotificationRequest


def notification_history(engine: Engine, incident_id: int | None, limit: int = 200) -> pd.DataFrame:
    """Requests newest first with their funnel: id, created_at, sent_at, requested_by,
    target_kind, target_spec, title, status, error, recipient_count, delivered, opened, failed."""
    nr = NotificationRequest.__table__
    ev = NotificationEvent.__table__
    counts = (
        sa.select(
            ev.c.request_id,
            sa.func.count().filter(ev.c.event == "delivered").label("delivered"),
            sa.func.count().filter(ev.c.event == "opened").label("opened"),
            sa.func.count().filter(ev.c.event == "failed").label("failed"),
        )
        .group_by(ev.c.request_id)
        .subquery()
    )
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
            sa.func.coalesce(counts.c.delivered, 0).label("delivered"),
            sa.func.coalesce(counts.c.opened, 0).label("opened"),
            sa.func.coalesce(counts.c.failed, 0).label("failed"),
        )
        .select_from(nr.outerjoin(counts, counts.c.request_id == nr.c.id))
        .where(cond)
        .order_by(nr.c.created_at.desc(), nr.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)
