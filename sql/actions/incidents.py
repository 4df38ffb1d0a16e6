"""Declaring and ending incidents — which switches the emergency mode (有事モード).

A real incident and a drill never run at the same time: drill data must never mix with real
data, so declaring one while the other kind is active is refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import INCIDENT_KINDS

from ..incident_clock import action_time
from ..models import Incident
from ..models.base import utcnow
from ..viewer import Viewer
from . import ActionRefused
from .activity import log_action, require_role

INCIDENT_ROLES = ("hq", "admin")


def declare_incident(
    engine: Engine,
    viewer: Viewer,
    kind: str,
    name_ja: str,
    name_en: str | None = None,
    hazard: str | None = None,
    emergency_mode: bool = True,
    municipality_code: str | None = None,
) -> int:
    """Declare a real incident or a drill; returns its id."""
    require_role(viewer, INCIDENT_ROLES, "declare incidents")
    if kind not in INCIDENT_KINDS:
        raise ActionRefused(f"unknown incident kind {kind!r}")
    name_ja = (name_ja or "").strip()
    if not name_ja:
        raise ActionRefused("give the incident a name")
    with engine.begin() as conn:
        active = conn.execute(
            sa.select(Incident.id, Incident.kind, Incident.name_ja).where(
                Incident.ended_at.is_(None)
            )
        ).all()
        if active:
            names = ", ".join(f"{a.name_ja} ({a.kind})" for a in active)
            raise ActionRefused(f"end the active incident first: {names}")
        now = utcnow()
        incident_id = conn.execute(
            sa.insert(Incident.__table__)
            .values(
                kind=kind,
                name_ja=name_ja,
                name_en=(name_en or "").strip() or None,
                hazard=hazard,
                municipality_code=municipality_code,
                declared_at=now,
                emergency_mode=emergency_mode,
                declared_by=viewer.subject,
                # Declared from DEMO mode: part of the demo, so the demo database stays demo-only.
                is_synthetic=viewer.demo,
            )
            .returning(Incident.__table__.c.id)
        ).scalar_one()
        log_action(
            conn,
            viewer,
            incident_id,
            "incident_declared",
            "incident",
            incident_id,
            {"kind": kind, "emergency_mode": emergency_mode, "name": name_ja},
            at=now,
        )
    return int(incident_id)


def end_incident(
    engine: Engine, viewer: Viewer, incident_id: int, reason: str | None = None
) -> None:
    require_role(viewer, INCIDENT_ROLES, "end incidents")
    inc = Incident.__table__
    with engine.begin() as conn:
        row = conn.execute(sa.select(inc).where(inc.c.id == incident_id)).first()
        if row is None:
            raise ActionRefused(f"incident {incident_id} does not exist")
        if row.ended_at is not None:
            raise ActionRefused(f"incident {row.name_ja} has already ended")
        ended_at = action_time(conn, incident_id)
        conn.execute(
            sa.update(inc)
            .where(inc.c.id == incident_id)
            .values(ended_at=ended_at, ended_by=viewer.subject)
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "incident_ended",
            "incident",
            incident_id,
            {"reason": reason},
            at=ended_at,
        )


def set_emergency_mode(engine: Engine, viewer: Viewer, incident_id: int, on: bool) -> None:
    require_role(viewer, INCIDENT_ROLES, "switch the emergency mode")
    inc = Incident.__table__
    with engine.begin() as conn:
        row = conn.execute(sa.select(inc).where(inc.c.id == incident_id)).first()
        if row is None or row.ended_at is not None:
            raise ActionRefused(f"incident {incident_id} is not active")
        conn.execute(sa.update(inc).where(inc.c.id == incident_id).values(emergency_mode=on))
        log_action(
            conn, viewer, incident_id, "emergency_mode_changed", "incident", incident_id, {"on": on}
        )
