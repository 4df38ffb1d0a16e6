"""What actions check before they write: the incident is active, the shelter exists. Each
action says how it refuses (its own refusal, with its catalog key for the page)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..models import Incident, Shelter
from . import ActionRefused


def active_incident(conn: Connection, incident_id: int | None, refused: ActionRefused):
    """The incident (``id``, ``kind``, ``emergency_mode``) when it exists and has not ended;
    else ``refused`` is raised."""
    row = (
        conn.execute(
            sa.select(Incident.id, Incident.kind, Incident.ended_at, Incident.emergency_mode).where(
                Incident.id == incident_id
            )
        ).first()
        if incident_id is not None
        else None
    )
    if row is None or row.ended_at is not None:
        raise refused
    return row


def existing_shelter(conn: Connection, shelter_id: int, refused: ActionRefused):
    """The shelter (``id``, ``name``); ``refused`` is raised when there is no such shelter."""
    row = conn.execute(sa.select(Shelter.id, Shelter.name).where(Shelter.id == shelter_id)).first()
    if row is None:
        raise refused
    return row
