"""Incidents: which one is active, and the emergency mode."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import RESCUE_OPEN_STATUSES

from ..models import Incident, RescueRequest, ShelterOperation


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
    municipality_code: str | None = None

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
        row.municipality_code,
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


def incident_timeline(engine: Engine, incident_id: int) -> dict:
    """What a replay of the incident can step through: the first and last moment with data
    (status reports, occupancy counts, rescue requests), the distinct occupancy observation
    times, and the centre of its shelters (an incident may be in another city than the one
    configured, e.g. imported Nanao data)."""
    from ..models import RescueRequest, Shelter, ShelterOccupancy, StatusReport
    from .overview import _as_datetime

    sr = StatusReport.__table__
    occ = ShelterOccupancy.__table__
    rr = RescueRequest.__table__
    s = Shelter.__table__
    with engine.connect() as conn:
        declared, ended = conn.execute(
            sa.select(Incident.declared_at, Incident.ended_at).where(Incident.id == incident_id)
        ).one()
        bounds = []
        for table, column in (
            (sr, sr.c.reported_at),
            (occ, occ.c.observed_at),
            (rr, rr.c.requested_at),
        ):
            low, high = conn.execute(
                sa.select(sa.func.min(column), sa.func.max(column)).where(
                    table.c.incident_id == incident_id
                )
            ).one()
            bounds += [b for b in (_as_datetime(low), _as_datetime(high)) if b is not None]
        observed = [
            _as_datetime(v)
            for v in conn.execute(
                sa.select(occ.c.observed_at)
                .where(occ.c.incident_id == incident_id)
                .distinct()
                .order_by(occ.c.observed_at)
            ).scalars()
        ]
        reports = conn.execute(
            sa.select(sa.func.count()).select_from(sr).where(sr.c.incident_id == incident_id)
        ).scalar_one()
        centre = conn.execute(
            sa.select(sa.func.avg(s.c.lat), sa.func.avg(s.c.lon)).where(
                s.c.id.in_(sa.select(occ.c.shelter_id).where(occ.c.incident_id == incident_id))
            )
        ).one()
    declared = _as_datetime(declared)
    start = min([declared, *bounds])
    end = max([_as_datetime(ended) or declared, *bounds])
    return {
        "start": start,
        "end": end,
        "observations": observed,
        "centre": (float(centre[0]), float(centre[1])) if centre[0] is not None else None,
        "reports": int(reports),
    }


def incident_clock(engine: Engine, incident_id: int | None) -> dt.datetime:
    """ "Now" for an incident (:func:`sql.incident_clock.incident_now`): the wall clock while a
    real incident runs; the incident's own moment for the demo's incident; the newest status
    report of an ended one — so waiting times and ages read as they did then."""
    from ..incident_clock import incident_clock as clock

    return clock(engine, incident_id)


def open_work(engine: Engine, incident_id: int) -> dict[str, int]:
    """What is still open in an incident — what ending it leaves behind: rescue requests not
    resolved or cancelled, and shelters opened for it and not closed."""
    rr = RescueRequest.__table__
    ops = ShelterOperation.__table__
    with engine.connect() as conn:
        requests = conn.execute(
            sa.select(sa.func.count()).where(
                rr.c.incident_id == incident_id, rr.c.status.in_(RESCUE_OPEN_STATUSES)
            )
        ).scalar_one()
        shelters = conn.execute(
            sa.select(sa.func.count(sa.distinct(ops.c.shelter_id))).where(
                ops.c.incident_id == incident_id, ops.c.closed_at.is_(None)
            )
        ).scalar_one()
    return {"open_requests": int(requests), "open_shelters": int(shelters)}
