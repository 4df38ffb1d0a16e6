"""Hazard zones (flood depth, landslide) and JMA warnings/advisories."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import HAZARD_ZONE_KINDS

from .base import Base, utcnow
from .vocab import enum


class HazardZone(Base):
    """A polygon of a hazard map. Geometry is WKB in WGS84 (EPSG:4326) with its bounding box.

    On PostgreSQL the migrations add a generated ``geog`` geography column (GiST-indexed) from
    ``geom_wkb``; on SQLite, spatial tests run in Python with shapely's STRtree.
    """

    __tablename__ = "hazard_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable key (source dataset + feature identity) so re-imports change nothing.
    source_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    kind: Mapped[str] = mapped_column(enum(HAZARD_ZONE_KINDS, "hazard_zone_kind"), index=True)
    #: Flood: depth rank code as published; landslide: zone code (e.g. 1 警戒区域, 2 特別警戒区域).
    rank_code: Mapped[str | None] = mapped_column(sa.String(16))
    #: Human meaning of the rank (e.g. 「0.5m以上3.0m未満」).
    rank_label: Mapped[str | None] = mapped_column(sa.String(64))
    depth_min_m: Mapped[float | None]
    depth_max_m: Mapped[float | None]
    #: Landslide phenomenon (1 急傾斜地の崩壊, 2 土石流, 3 地滑り) or other class.
    phenomenon: Mapped[str | None] = mapped_column(sa.String(32))
    source_dataset: Mapped[str] = mapped_column(sa.String(64))  # A31, A31a, A33, demo, ...
    name: Mapped[str | None] = mapped_column(sa.String(200))
    attributes: Mapped[dict[str, Any] | None]
    geom_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)
    min_lon: Mapped[float]
    min_lat: Mapped[float]
    max_lon: Mapped[float]
    max_lat: Mapped[float]
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JmaTelegram(Base):
    """One JMA XML telegram as received (warnings are its rows in :class:`JmaWarning`)."""

    __tablename__ = "jma_telegrams"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the telegram bytes: a re-import of the same file is a no-op.
    content_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    info_kind: Mapped[str] = mapped_column(sa.String(64))  # 気象警報・注意報
    info_type: Mapped[str | None] = mapped_column(sa.String(16))  # 発表, 訂正, 取消
    event_id: Mapped[str | None] = mapped_column(sa.String(64))
    serial: Mapped[str | None] = mapped_column(sa.String(16))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    office: Mapped[str | None] = mapped_column(sa.String(100))
    report_time: Mapped[dt.datetime]
    headline: Mapped[str | None] = mapped_column(sa.Text)
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JmaWarning(Base):
    """One warning/advisory kind for one area in one telegram."""

    __tablename__ = "jma_warnings"
    __table_args__ = (
        sa.UniqueConstraint("telegram_id", "area_code", "kind_code"),
        sa.Index("ix_jma_warnings_area_report", "area_code", "report_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(sa.ForeignKey("jma_telegrams.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(sa.String(16))
    area_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: Which level of the city's area codes matched: municipality, group, subdivision, prefecture.
    area_level: Mapped[str | None] = mapped_column(sa.String(16))
    kind_code: Mapped[str] = mapped_column(sa.String(8))
    kind_name: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(32))
    report_time: Mapped[dt.datetime]
