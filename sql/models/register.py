"""The evacuation-support register (避難行動要支援者名簿)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SupportRegisterEntry(Base):
    __tablename__ = "support_register"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="CASCADE"), unique=True
    )
    #: What the person needs (e.g. 車いす, 人工透析, 視覚障害); free text as recorded by the city.
    needs: Mapped[str | None] = mapped_column(sa.Text)
    care_level: Mapped[str | None] = mapped_column(sa.String(32))  # 要介護3, 身体障害者手帳1級, ...
    supporter_name: Mapped[str | None] = mapped_column(sa.String(100))
    supporter_phone: Mapped[str | None] = mapped_column(sa.String(32))
    supporter_relation: Mapped[str | None] = mapped_column(sa.String(32))
    #: Consent to provide the entry to supporters in normal times
    #: (災害対策基本法 第49条の11第2項). In an emergency all entries may be provided (第3項).
    normal_time_consent: Mapped[bool] = mapped_column(default=False)
    consent_recorded_at: Mapped[dt.datetime | None]
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
