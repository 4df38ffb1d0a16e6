"""Status reports and location fixes from citizens, and the derived latest status per citizen."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import REPORT_SOURCES, STATUS_STATES

from .base import Base, utcnow
from .vocab import enum


class StatusReport(Base):
    __tablename__ = "status_reports"
    __table_args__ = (
        sa.Index("ix_status_reports_citizen_reported", "citizen_id", "reported_at"),
        sa.Index("ix_status_reports_incident_reported", "incident_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Makes a repeated delivery of the same report a no-op.
    idempotency_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(enum(STATUS_STATES, "status_state"))
    shelter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="SET NULL")
    )
    message: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(enum(REPORT_SOURCES, "status_source"))
    reported_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CitizenLatestStatus(Base):
    """Derived: each citizen's newest status report per incident (kept by :mod:`sql.ingest`)."""

    __tablename__ = "citizen_latest_status"
    __table_args__ = (
        # Covers the shelter board's count per shelter (index-only on PostgreSQL; migration 0003).
        sa.Index(
            "ix_citizen_latest_status_incident_state_shelter", "incident_key", "state", "shelter_id"
        ),
    )

    citizen_id: Mapped[int] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    #: The incident id, or 0 for reports outside any incident (so it can be part of the key).
    incident_key: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("status_reports.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(enum(STATUS_STATES, "latest_status_state"))
    shelter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="SET NULL")
    )
    reported_at: Mapped[dt.datetime]


class LocationFix(Base):
    __tablename__ = "location_fixes"
    __table_args__ = (sa.Index("ix_location_fixes_citizen_fixed", "citizen_id", "fixed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    source: Mapped[str] = mapped_column(enum(REPORT_SOURCES, "location_source"))
    fixed_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
