"""Rescue requests with their status history; ``version`` gives optimistic concurrency."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import REPORT_SOURCES, RESCUE_PRIORITIES, RESCUE_STATUSES

from .base import Base, utcnow
from .vocab import enum


class RescueRequest(Base):
    __tablename__ = "rescue_requests"
    __table_args__ = (sa.Index("ix_rescue_requests_incident_status", "incident_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL")
    )
    citizen_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float]
    lon: Mapped[float]
    people_count: Mapped[int] = mapped_column(default=1)
    injured_count: Mapped[int] = mapped_column(default=0)
    needs: Mapped[str | None] = mapped_column(sa.Text)
    priority: Mapped[str] = mapped_column(
        enum(RESCUE_PRIORITIES, "rescue_priority"), default="medium"
    )
    status: Mapped[str] = mapped_column(enum(RESCUE_STATUSES, "rescue_status"), default="new")
    assigned_team: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(enum(REPORT_SOURCES, "rescue_source"), default="app")
    requested_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Incremented on every change; an update names the version it read (optimistic locking).
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class RescueRequestEvent(Base):
    """One row per status transition of a rescue request (its history)."""

    __tablename__ = "rescue_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rescue_requests.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(enum(RESCUE_STATUSES, "rescue_event_from"))
    to_status: Mapped[str] = mapped_column(enum(RESCUE_STATUSES, "rescue_event_to"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    assigned_team: Mapped[str | None] = mapped_column(sa.String(64))
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
