"""Survey instruments and responses, and UI/UX test sessions with task timings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SurveyInstrument(Base):
    __tablename__ = "survey_instruments"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # e.g. "drill-2022", "sus"
    version: Mapped[str] = mapped_column(sa.String(32))
    title_ja: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str | None] = mapped_column(sa.String(200))
    #: The instrument definition as loaded from its YAML file.
    definition: Mapped[dict[str, Any]]
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (sa.UniqueConstraint("instrument_id", "respondent_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[str] = mapped_column(
        sa.ForeignKey("survey_instruments.id", ondelete="CASCADE")
    )
    #: Stable identity of the response (export's response id, or a hash of its row).
    respondent_key: Mapped[str] = mapped_column(sa.String(96))
    drill_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drills.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None]
    participant_type: Mapped[str | None] = mapped_column(sa.String(32))  # resident/visitor/staff
    age_band: Mapped[str | None] = mapped_column(sa.String(16))
    sex: Mapped[str | None] = mapped_column(sa.String(8))
    source_file: Mapped[str | None] = mapped_column(sa.String(200))
    source_row: Mapped[int | None]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: ``{item id: number or text}``: every answer is one or the other (``parse_value``). One
    #: object per response, not a row per answer: 10,000 rows for 10,000 × 40 answers (0020).
    answers: Mapped[dict[str, Any]] = mapped_column(server_default=sa.text("'{}'"))


class UiuxSession(Base):
    """A UI/UX test session (e.g. the autumn-2021 prototype tests)."""

    __tablename__ = "uiux_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[dt.date | None]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    source_file: Mapped[str | None] = mapped_column(sa.String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UiuxTaskTiming(Base):
    __tablename__ = "uiux_task_timings"
    __table_args__ = (sa.UniqueConstraint("session_id", "participant", "task", "method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("uiux_sessions.id", ondelete="CASCADE"))
    participant: Mapped[str] = mapped_column(sa.String(64))
    participant_group: Mapped[str] = mapped_column(sa.String(32))  # elderly/student/general
    task: Mapped[str] = mapped_column(sa.String(100))
    method: Mapped[str] = mapped_column(sa.String(32))  # app / paper
    seconds: Mapped[float | None]
    success: Mapped[bool | None]
    error_count: Mapped[int | None]
