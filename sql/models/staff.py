"""Staff accounts and the append-only, hash-chained audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import STAFF_ROLES

from .base import Base, utcnow
from .vocab import enum


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The OIDC ``sub`` (or e-mail) of the staff member at the identity provider.
    subject: Mapped[str] = mapped_column(sa.String(128), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(enum(STAFF_ROLES, "staff_role"))
    #: For shelter staff: the shelters they run.
    shelter_ids: Mapped[list[Any] | None]
    team: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Append-only. ``row_hash`` = SHA-256 over this row's content and ``prev_hash``."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(sa.String(128))
    role: Mapped[str] = mapped_column(sa.String(32))
    purpose: Mapped[str] = mapped_column(sa.String(64))
    incident_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(64))
    #: What was read or written (query name, table, fields).
    target: Mapped[str | None] = mapped_column(sa.String(200))
    citizen_ids: Mapped[list[Any] | None]
    details: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AuditCheckpoint(Base):
    """The audit chain's head as it was at a moment, keyed with HMAC-SHA256 under a key kept
    outside the database (``sql.audit.checkpoint_key``): rows cut off the end of the log after
    a checkpoint are found by ``bosai audit verify``. Append-only like the log."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    #: The newest audit row at the checkpoint (0 for an empty log), its hash, and how many
    #: rows the log held up to it.
    last_id: Mapped[int]
    head_hash: Mapped[str] = mapped_column(sa.String(64))
    row_count: Mapped[int]
    #: Why it was written: schedule, backup, manual.
    reason: Mapped[str] = mapped_column(sa.String(32))
    mac: Mapped[str] = mapped_column(sa.String(64))
