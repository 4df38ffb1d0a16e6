"""Evacuation information by area (避難情報): issuance areas, river stations and their water
levels, and the issuances (levels 3/4/5 and their lifting) HQ decided.

Areas are polygons stored like hazard zones: WKB in WGS84 with the bounding box; on PostgreSQL
migration 0017 adds a generated ``geom`` geometry column with a GiST index
(:mod:`sql.spatial`). Issuances are append-only: a change of level is a new ``issue`` row whose
``previous_level`` says what it replaced, a lift is a ``lift`` row naming the row it lifts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import EVACUATION_ACTIONS, EVACUATION_AREA_KINDS

from .base import Base, utcnow
from .vocab import enum


class EvacuationArea(Base):
    """An area HQ issues evacuation information for (地区, 町字, or a hazard-based area)."""

    __tablename__ = "evacuation_areas"
    __table_args__ = (
        sa.UniqueConstraint("municipality_code", "code"),
        sa.CheckConstraint("residents IS NULL OR residents >= 0", name="residents"),
        sa.CheckConstraint("households IS NULL OR households >= 0", name="households"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(sa.String(6))
    #: The city's own code for the area (stable across re-imports).
    code: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(enum(EVACUATION_AREA_KINDS, "evacuation_area_kind"))
    name_ja: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    geom_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)
    min_lon: Mapped[float]
    min_lat: Mapped[float]
    max_lon: Mapped[float]
    max_lat: Mapped[float]
    #: All residents and households by the city's counts (migration 0019; e-Stat 小地域
    #: JINKO/SETAI or the city's register). Public aggregates; None when the city gave none.
    residents: Mapped[int | None]
    households: Mapped[int | None]
    #: Where those counts come from, as the city wrote it (e.g. 令和2年国勢調査).
    counts_source: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(200))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RiverStation(Base):
    """A water-level station (水位観測所) with its four thresholds in metres."""

    __tablename__ = "river_stations"
    __table_args__ = (sa.UniqueConstraint("municipality_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(sa.String(6))
    code: Mapped[str] = mapped_column(sa.String(32))
    name_ja: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(100))
    river_ja: Mapped[str | None] = mapped_column(sa.String(100))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    #: 水防団待機水位, 氾濫注意水位, 避難判断水位, 氾濫危険水位 (m).
    standby_m: Mapped[float]
    caution_m: Mapped[float]
    judgement_m: Mapped[float]
    danger_m: Mapped[float]
    #: The readings the gauge can give; an observation outside is refused.
    range_min_m: Mapped[float]
    range_max_m: Mapped[float]
    source: Mapped[str] = mapped_column(sa.String(200))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WaterLevelObservation(Base):
    """One reading of a station; one per station and time (a re-import changes nothing)."""

    __tablename__ = "water_level_observations"
    __table_args__ = (sa.UniqueConstraint("station_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("river_stations.id", ondelete="CASCADE"))
    observed_at: Mapped[dt.datetime]
    level_m: Mapped[float]
    source: Mapped[str] = mapped_column(sa.String(200))
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvacuationIssuance(Base):
    """One area's row of an HQ decision: a level issued (or changed) or a lift (解除).

    Rows of one decision share ``decision_key`` (one CAP message per decision); a repeat with
    the same ``idempotency_key`` writes nothing.
    """

    __tablename__ = "evacuation_issuances"
    __table_args__ = (
        sa.CheckConstraint("level IS NULL OR level IN (3, 4, 5)", name="level"),
        sa.CheckConstraint(
            "previous_level IS NULL OR previous_level IN (3, 4, 5)", name="previous_level"
        ),
        sa.Index("ix_evacuation_issuances_incident_area", "incident_id", "area_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    decision_key: Mapped[str] = mapped_column(sa.String(96), index=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("evacuation_areas.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(enum(EVACUATION_ACTIONS, "evacuation_action"))
    #: The level in force after this row (None after a lift).
    level: Mapped[int | None]
    #: The level in force before it (None when there was none).
    previous_level: Mapped[int | None]
    #: For a lift: the issue row it lifts.
    lifts_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("evacuation_issuances.id", ondelete="RESTRICT")
    )
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[str] = mapped_column(sa.String(128))
    reason: Mapped[str] = mapped_column(sa.Text)
    #: What prompted it: kind, station, level, time of the trigger (None when decided by hand).
    trigger: Mapped[dict[str, Any] | None]
    is_exercise: Mapped[bool] = mapped_column(default=False)


class EvacuationTrigger(Base):
    """A trigger from a JMA telegram the rules can use (migration 0018): a 土砂災害警戒情報
    for a municipality or a 指定河川洪水予報 for a river — one row per telegram and subject,
    so a re-import of the same telegram changes nothing."""

    __tablename__ = "evacuation_triggers"
    __table_args__ = (
        sa.UniqueConstraint("content_sha256", "subject_code"),
        sa.CheckConstraint("kind IN ('landslide_warning', 'flood_forecast')", name="kind"),
        sa.Index("ix_evacuation_triggers_subject_report", "kind", "subject_code", "report_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The municipality's JMA code (landslide) or the river's code (flood forecast).
    subject_code: Mapped[str] = mapped_column(sa.String(16))
    subject_name: Mapped[str | None] = mapped_column(sa.String(100))
    kind_code: Mapped[str] = mapped_column(sa.String(8))
    #: 土砂災害警戒 / なし, or the forecast kind (氾濫危険情報 …; None when lifted).
    forecast: Mapped[str | None] = mapped_column(sa.String(32))
    in_force: Mapped[bool]
    report_time: Mapped[dt.datetime]
    info_type: Mapped[str | None] = mapped_column(sa.String(16))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    is_drill: Mapped[bool] = mapped_column(default=False)
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
