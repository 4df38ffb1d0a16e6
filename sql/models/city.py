"""The configured city (municipality) and small key/value metadata.

Everything city-specific lives in these rows, never in code: a fresh database is configured for
Aizuwakamatsu by the first migration's seed (see :mod:`sql.city_config`), and
``bosai city set`` / ``bosai city load FILE`` configure another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class City(Base):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    name_ja: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(64))
    prefecture_ja: Mapped[str] = mapped_column(sa.String(16))
    prefecture_en: Mapped[str] = mapped_column(sa.String(32))
    #: JMA area codes used to pick this city's warnings, most specific first.
    jma_municipality_code: Mapped[str] = mapped_column(sa.String(7))
    jma_group_code: Mapped[str | None] = mapped_column(sa.String(6))
    jma_subdivision_code: Mapped[str | None] = mapped_column(sa.String(6))
    jma_prefecture_code: Mapped[str | None] = mapped_column(sa.String(6))
    center_lat: Mapped[float]
    center_lon: Mapped[float]
    bbox_south: Mapped[float]
    bbox_west: Mapped[float]
    bbox_north: Mapped[float]
    bbox_east: Mapped[float]
    default_zoom: Mapped[float] = mapped_column(default=12.0)
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Tokyo")
    #: The one city this deployment serves; exactly one row is active.
    active: Mapped[bool] = mapped_column(default=True)
    #: Operational settings (congestion thresholds, refresh interval, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Meta(Base):
    """Small facts about the database itself (e.g. which demo dataset it holds)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SourceHealth(Base):
    """Freshness of each data source (city-OS sync, JMA feed, ingest, ...); drives stale banners."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    last_success_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    #: The error as the connector saw it (logs and the CLI; never shown on a page).
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: What kind of failure it was (``bosai.messages`` ``live.source_error.<kind>``): the
    #: banners show this short translated reason, never the driver's text.
    error_kind: Mapped[str | None] = mapped_column(sa.String(32))
    stale: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any] | None]


class QuarantinedRecord(Base):
    """A record from a feed that failed the boundary checks (``cityos.boundary``): kept out of
    the data, named here with its reason and where it was in the feed, so that one bad record
    never stops a sync. No field values are kept (they may be personal data or hostile)."""

    __tablename__ = "quarantined_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(80), index=True)
    #: user, shelter or event.
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: The record's id in the feed (subject, shelter id, event id), made printable.
    record_ref: Mapped[str | None] = mapped_column(sa.String(80))
    #: Where it was: the page request and the index on the page.
    position: Mapped[str] = mapped_column(sa.String(200))
    #: A catalog code (``cityos.quarantine.reason.<reason>``).
    reason: Mapped[str] = mapped_column(sa.String(32))
    #: The field that failed, as a dotted path (``safety_status.message``).
    field: Mapped[str | None] = mapped_column(sa.String(200))
    #: Our own description (never the value, never a driver's message).
    detail: Mapped[str | None] = mapped_column(sa.String(300))
    #: sha-256 of source, kind, ref, position-independent content key: a repeat sync of the
    #: same bad record does not add it twice.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
