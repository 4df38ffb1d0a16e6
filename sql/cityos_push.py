"""Writes of push notifications through the city OS: the request before it is sent and the city
OS's answer with its delivery events, both on the incident's clock (:mod:`sql.incident_clock`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .cityos_store import citizen_ids
from .incident_clock import action_time, offset_from_wall
from .models import NotificationEvent, NotificationRequest
from .upsert import insert_ignore


def record_push_request(
    engine: Engine,
    *,
    idempotency_key: str,
    target_kind: str,
    target_spec: dict[str, Any],
    title: str,
    body: str,
    requested_by: str | None,
    incident_id: int | None,
) -> int:
    """The request as we are about to send it (status ``draft``), stamped by the incident
    clock; repeated keys return the existing row's id."""
    table = NotificationRequest.__table__
    with engine.begin() as conn:
        created_at = action_time(conn, incident_id)
        conn.execute(
            insert_ignore(conn, table, ["idempotency_key"]).values(
                idempotency_key=idempotency_key,
                incident_id=incident_id,
                requested_by=requested_by,
                target_kind=target_kind,
                target_spec=target_spec,
                title=title,
                body=body,
                recipient_count=0,
                status="draft",
                created_at=created_at,
            )
        )
        return conn.execute(
            sa.select(table.c.id).where(table.c.idempotency_key == idempotency_key)
        ).scalar_one()


def record_push_outcome(
    engine: Engine,
    request_id: int,
    *,
    status: str,
    cityos_request_id: str | None = None,
    recipient_count: int | None = None,
    sent_at: dt.datetime | None = None,
    error: str | None = None,
    deliveries: Sequence[tuple[str, str, dt.datetime]] = (),
) -> int:
    """The city OS's answer and its delivery events (subject, event, at); returns events added.

    The city OS's times are moved onto the incident's clock (:func:`offset_from_wall`), so a
    push on the demo incident is sent and delivered inside it."""
    table = NotificationRequest.__table__
    values: dict[str, Any] = {"status": status, "error": error}
    if cityos_request_id is not None:
        values["cityos_request_id"] = cityos_request_id
    if recipient_count is not None:
        values["recipient_count"] = recipient_count
    with engine.begin() as conn:
        incident_id = conn.execute(
            sa.select(table.c.incident_id).where(table.c.id == request_id)
        ).scalar()
        shift = offset_from_wall(conn, incident_id)
        if sent_at is not None:
            values["sent_at"] = sent_at + shift
        if shift:
            deliveries = [(s, e, at + shift) for s, e, at in deliveries]
        conn.execute(sa.update(table).where(table.c.id == request_id).values(**values))
        if not deliveries:
            return 0
        ids = citizen_ids(conn, {d[0] for d in deliveries})
        rows = [
            {"request_id": request_id, "citizen_id": ids[s], "event": e, "at": at}
            for s, e, at in deliveries
            if s in ids
        ]
        if not rows:
            return 0
        result = conn.execute(
            insert_ignore(conn, NotificationEvent.__table__, ["request_id", "citizen_id", "event"]),
            rows,
            execution_options={"preserve_rowcount": True},
        )
        return max(result.rowcount or 0, 0)
