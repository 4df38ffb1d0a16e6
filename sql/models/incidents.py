"""Incidents (real or drill) switch the emergency mode; every action is logged against one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import INCIDENT_KINDS

from .base import Base, utcnow
from .vocab import enum


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(enum(INCIDENT_KINDS, "incident_kind"))
    name_ja: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    hazard: Mapped[str | None] = mapped_column(sa.String(32))  # flood, earthquake, ...
    municipality_code: Mapped[str | None] = mapped_column(sa.String(6))
    declared_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    #: 有事モード: personal data rules of an emergency apply while this is true.
    emergency_mode: Mapped[bool] = mapped_column(default=True)
    declared_by: Mapped[str | None] = mapped_column(sa.String(64))
    ended_by: Mapped[str | None] = mapped_column(sa.String(64))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    #: Runs on its own clock (:mod:`sql.incident_clock`): its data were recorded or generated
    #: beforehand (the demo's incident), so "now" is its newest moment, not the wall clock.
    own_clock: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    notes: Mapped[str | None] = mapped_column(sa.Text)


class IncidentActivity(Base):
    """The incident activity log: every action staff take during an incident."""

    __tablename__ = "incident_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any] | None]
