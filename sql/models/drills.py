"""Drills (訓練) and their event logs, which the research workbench evaluates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import DRILL_EVENT_TYPES

from .base import Base
from .vocab import enum


class Drill(Base):
    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    scenario: Mapped[str] = mapped_column(sa.String(64))
    seed: Mapped[int | None]
    speed: Mapped[float | None]
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)


class DrillEvent(Base):
    __tablename__ = "drill_events"
    __table_args__ = (sa.Index("ix_drill_events_drill_type_at", "drill_id", "event_type", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    drill_id: Mapped[int] = mapped_column(sa.ForeignKey("drills.id", ondelete="CASCADE"))
    citizen_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="SET NULL")
    )
    #: Participant group for analysis (resident, visitor, staff, elderly, ...).
    participant_group: Mapped[str | None] = mapped_column(sa.String(32))
    event_type: Mapped[str] = mapped_column(enum(DRILL_EVENT_TYPES, "drill_event_type"))
    at: Mapped[dt.datetime]
    details: Mapped[dict[str, Any] | None]
