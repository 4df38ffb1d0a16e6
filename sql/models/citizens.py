"""Opted-in citizens and their households (personal data: read only through :mod:`sql.policy`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    district: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (
        # The rescue queue's district per request as an index-only lookup (migration 0004).
        sa.Index("ix_citizens_id_district", "id", "district"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The city-OS subject identifier (OIDC ``sub``) of the citizen.
    subject: Mapped[str] = mapped_column(sa.String(64), unique=True)
    household_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(100))
    kana: Mapped[str | None] = mapped_column(sa.String(100))
    sex: Mapped[str | None] = mapped_column(sa.String(8))  # "female" | "male" | "other"
    birth_date: Mapped[dt.date | None]
    address: Mapped[str | None] = mapped_column(sa.String(200))
    district: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Last time the city OS confirmed this record (None for records not from the city OS).
    synced_at: Mapped[dt.datetime | None]
