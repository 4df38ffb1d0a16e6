"""Incidents: which one is active, and the emergency mode."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..models import Incident


@dataclasses.dataclass(frozen=True)
class IncidentSummary:
    id: int
    kind: str
    name_ja: str
    name_en: str | None
    declared_at: dt.datetime
    ended_at: dt.datetime | None
    emergency_mode: bool
    is_synthetic: bool

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def name(self, lang: str = "ja") -> str:
        return (self.name_en or self.name_ja) if lang == "en" else self.name_ja


def _summary(row) -> IncidentSummary:
    return IncidentSummary(
        row.id,
        row.kind,
        row.name_ja,
        row.name_en,
        row.declared_at,
        row.ended_at,
        row.emergency_mode,
        row.is_synthetic,
    )


def active_incident(engine: Engine, kind: str | None = None) -> IncidentSummary | None:
    """The newest incident that has not ended (optionally only ``real`` or ``drill``)."""
    stmt = sa.select(Incident).where(Incident.ended_at.is_(None))
    if kind:
        stmt = stmt.where(Incident.kind == kind)
    stmt = stmt.order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return _summary(row) if row else None


def current_or_latest_incident(engine: Engine) -> IncidentSummary | None:
    """The active incident, else the most recently declared one (for review)."""
    found = active_incident(engine)
    if found:
        return found
    stmt = sa.select(Incident).order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return _summary(row) if row else None


def list_incidents(engine: Engine) -> list[IncidentSummary]:
    stmt = sa.select(Incident).order_by(Incident.declared_at.desc(), Incident.id.desc())
    with engine.connect() as conn:
        return [_summary(r) for r in conn.execute(stmt)]


def emergency_mode(engine: Engine) -> bool:
    """有事モード: an active incident with emergency mode on."""
    incident = active_incident(engine)
    return bool(incident and incident.emergency_mode)


def activity_log(engine: Engine, incident_id: int, limit: int = 500):
    """The incident activity log, newest first: at, actor, action, target_type, target_id, details."""
    from ..frames import query_frame
    from ..models import IncidentActivity

    a = IncidentActivity.__table__
    stmt = (
        sa.select(a.c.at, a.c.actor, a.c.action, a.c.target_type, a.c.target_id, a.c.details)
        .where(a.c.incident_id == incident_id)
        .order_by(a.c.at.desc(), a.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)
