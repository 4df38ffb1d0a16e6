"""The consent ledger, shaped after ISO/IEC TS 27560 (consent record information structure).

One append-only row per change. The current consent of a citizen for a (data item, share
target) pair is *derived* from the ledger (latest event wins, ``given`` counts until it expires);
:class:`ConsentState` is a cache of that derivation, written in the same transaction as the
ledger row by :func:`sql.consent.record_consent`, and rebuildable from the ledger at any time.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import COLLECTION_METHODS, CONSENT_EVENTS, DATA_ITEMS, SHARE_TARGETS

from .base import Base, utcnow
from .vocab import enum


class ConsentEvent(Base):
    __tablename__ = "consent_events"
    __table_args__ = (
        sa.Index(
            "ix_consent_events_citizen_item_target", "citizen_id", "data_item", "share_target"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    data_item: Mapped[str] = mapped_column(enum(DATA_ITEMS, "consent_data_item"))
    share_target: Mapped[str] = mapped_column(enum(SHARE_TARGETS, "consent_share_target"))
    purpose: Mapped[str] = mapped_column(sa.String(64))
    notice_version: Mapped[str] = mapped_column(sa.String(32))
    event_type: Mapped[str] = mapped_column(enum(CONSENT_EVENTS, "consent_event_type"))
    occurred_at: Mapped[dt.datetime]
    #: For ``given`` events with a limited duration: the moment the consent lapses.
    expires_at: Mapped[dt.datetime | None]
    collection_method: Mapped[str] = mapped_column(enum(COLLECTION_METHODS, "consent_collection"))
    #: Identifier of the record at its source (city-OS consent id, ...), for idempotent sync.
    source_ref: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsentState(Base):
    """Derived cache: the latest ledger event per (citizen, data item, share target)."""

    __tablename__ = "consent_state"

    citizen_id: Mapped[int] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    data_item: Mapped[str] = mapped_column(enum(DATA_ITEMS, "consent_state_item"), primary_key=True)
    share_target: Mapped[str] = mapped_column(
        enum(SHARE_TARGETS, "consent_state_target"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_events.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(enum(CONSENT_EVENTS, "consent_state_event"))
    occurred_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
