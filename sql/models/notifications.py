"""Push-notification requests sent through the city OS, and their delivery/open events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import NOTIFICATION_EVENTS, NOTIFICATION_TARGET_KINDS

from .base import Base, utcnow
from .vocab import enum


class NotificationRequest(Base):
    __tablename__ = "notification_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    requested_by: Mapped[str | None] = mapped_column(sa.String(64))
    target_kind: Mapped[str] = mapped_column(enum(NOTIFICATION_TARGET_KINDS, "notification_target"))
    #: The target as chosen (zone id, circle centre/radius, shelter id, household ids, ...).
    target_spec: Mapped[dict[str, Any]]
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    recipient_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")  # draft/sent/failed
    cityos_request_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class NotificationEvent(Base):
    __tablename__ = "notification_events"
    __table_args__ = (sa.UniqueConstraint("request_id", "citizen_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_requests.id", ondelete="CASCADE"), index=True
    )
    citizen_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="SET NULL")
    )
    event: Mapped[str] = mapped_column(enum(NOTIFICATION_EVENTS, "notification_event"))
    at: Mapped[dt.datetime]
