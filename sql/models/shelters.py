"""Shelters and evacuation sites, their opening (operations) and occupancy over time."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Shelter(Base):
    __tablename__ = "shelters"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Digital Agency standard dataset ID (e.g. ``CC0000000518``).
    standard_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: GSI 共通ID (e.g. ``E0720200004122``).
    gsi_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: ID used by synthetic/demo data or other sources when neither public ID exists.
    local_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    municipality_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kana: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    district: Mapped[str | None] = mapped_column(sa.String(64))
    lat: Mapped[float]
    lon: Mapped[float]
    elevation_m: Mapped[float | None]
    #: Indoor capacity (persons) when known.
    capacity: Mapped[int | None]
    #: Capacity as published (free text such as 「屋内480人／屋外3,350人(面積の1/2)」).
    capacity_text: Mapped[str | None] = mapped_column(sa.String(200))
    # The eight hazard flags (suitable for this hazard).
    hazard_flood: Mapped[bool] = mapped_column(default=False)
    hazard_landslide: Mapped[bool] = mapped_column(default=False)
    hazard_storm_surge: Mapped[bool] = mapped_column(default=False)
    hazard_earthquake: Mapped[bool] = mapped_column(default=False)
    hazard_tsunami: Mapped[bool] = mapped_column(default=False)
    hazard_large_fire: Mapped[bool] = mapped_column(default=False)
    hazard_inland_flood: Mapped[bool] = mapped_column(default=False)
    hazard_volcano: Mapped[bool] = mapped_column(default=False)
    # Kind: a site can be several at once.
    is_emergency_site: Mapped[bool] = mapped_column(default=False)  # 指定緊急避難場所
    is_designated_shelter: Mapped[bool] = mapped_column(default=False)  # 指定避難所
    is_welfare_shelter: Mapped[bool] = mapped_column(default=False)  # 福祉避難所
    target_groups: Mapped[str | None] = mapped_column(sa.String(200))  # 受入対象者
    barrier_free: Mapped[bool | None]
    pets_allowed: Mapped[bool | None]
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(32))  # gsi, standard, occupancy, demo, city_os
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def shelter_columns(first: str, last: str) -> tuple[str, ...]:
    """The names of :class:`Shelter`'s columns from ``first`` to ``last``, in table order (the
    writers and readers that take a run of them name its ends, not every column)."""
    names = list(Shelter.__table__.columns.keys())
    return tuple(names[names.index(first) : names.index(last) + 1])


class ShelterOperation(Base):
    """A period during which a shelter is open (closed_at None: still open)."""

    __tablename__ = "shelter_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    opened_by: Mapped[str | None] = mapped_column(sa.String(64))
    closed_by: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.Text)


class ShelterOccupancy(Base):
    """A head count at a shelter at one moment (a time series per shelter)."""

    __tablename__ = "shelter_occupancy"
    __table_args__ = (
        sa.UniqueConstraint("shelter_id", "observed_at", "source"),
        sa.Index("ix_shelter_occupancy_incident_observed", "incident_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(sa.ForeignKey("shelters.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incidents.id", ondelete="SET NULL")
    )
    observed_at: Mapped[dt.datetime]
    head_count: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(64))  # staff, import file name, demo, ...
    entered_by: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
