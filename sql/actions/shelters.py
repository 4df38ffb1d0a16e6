"""Shelter actions: open, close, and enter a head count."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..incident_clock import action_time
from ..models import ShelterOccupancy, ShelterOperation
from ..models.base import utcnow
from ..viewer import Viewer
from . import ActionRefused
from .activity import log_action, require_role
from .checks import existing_shelter

OPEN_CLOSE_ROLES = ("hq",)
OCCUPANCY_ROLES = ("hq", "shelter_staff")


def _open_operation(conn, shelter_id: int, incident_id: int | None):
    op = ShelterOperation.__table__
    cond = op.c.incident_id == incident_id if incident_id else op.c.incident_id.is_(None)
    return conn.execute(
        sa.select(op).where(op.c.shelter_id == shelter_id, cond, op.c.closed_at.is_(None))
    ).first()


def _require_shelter(conn, shelter_id: int):
    return existing_shelter(conn, shelter_id, ActionRefused(f"shelter {shelter_id} does not exist"))


def open_shelter(
    engine: Engine,
    viewer: Viewer,
    shelter_id: int,
    incident_id: int | None,
    reason: str | None = None,
) -> None:
    require_role(viewer, OPEN_CLOSE_ROLES, "open shelters")
    with engine.begin() as conn:
        shelter = _require_shelter(conn, shelter_id)
        if _open_operation(conn, shelter_id, incident_id) is not None:
            raise ActionRefused(f"shelter {shelter.name} is already open")
        now = action_time(conn, incident_id)
        conn.execute(
            sa.insert(ShelterOperation.__table__).values(
                shelter_id=shelter_id,
                incident_id=incident_id,
                opened_at=now,
                opened_by=viewer.subject,
                reason=(reason or "").strip() or None,
            )
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "shelter_opened",
            "shelter",
            shelter_id,
            {"reason": reason},
            at=now,
        )


def close_shelter(
    engine: Engine,
    viewer: Viewer,
    shelter_id: int,
    incident_id: int | None,
    reason: str | None = None,
) -> None:
    require_role(viewer, OPEN_CLOSE_ROLES, "close shelters")
    op = ShelterOperation.__table__
    with engine.begin() as conn:
        shelter = _require_shelter(conn, shelter_id)
        current = _open_operation(conn, shelter_id, incident_id)
        if current is None:
            raise ActionRefused(f"shelter {shelter.name} is not open")
        now = action_time(conn, incident_id)
        conn.execute(
            sa.update(op)
            .where(op.c.id == current.id)
            .values(
                closed_at=now,
                closed_by=viewer.subject,
                reason=(reason or "").strip() or current.reason,
            )
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "shelter_closed",
            "shelter",
            shelter_id,
            {"reason": reason},
            at=now,
        )


def record_head_count(
    engine: Engine,
    viewer: Viewer,
    shelter_id: int,
    incident_id: int | None,
    head_count: int,
    observed_at: dt.datetime | None = None,
) -> None:
    """A head count entered by staff (shelter staff only for their own shelters); observed
    now on the incident clock unless ``observed_at`` says when it was counted."""
    require_role(viewer, OCCUPANCY_ROLES, "enter head counts")
    if viewer.role == "shelter_staff" and shelter_id not in viewer.shelter_ids:
        raise ActionRefused(f"shelter {shelter_id} is not one of your shelters")
    if head_count < 0 or head_count > 100_000:
        raise ActionRefused(f"head count {head_count} is out of range (0–100000)")
    if observed_at is not None and observed_at.tzinfo is None:
        raise ActionRefused("the observation time must carry a timezone")
    if observed_at is not None and observed_at > utcnow() + dt.timedelta(minutes=5):
        raise ActionRefused("the observation time is in the future")
    with engine.begin() as conn:
        _require_shelter(conn, shelter_id)
        stamped = action_time(conn, incident_id)
        observed_at = observed_at or stamped
        occ = ShelterOccupancy.__table__
        exists = conn.execute(
            sa.select(occ.c.id).where(
                occ.c.shelter_id == shelter_id,
                occ.c.observed_at == observed_at,
                occ.c.source == "staff",
            )
        ).first()
        if exists:
            raise ActionRefused("a head count for this shelter and time was already entered")
        conn.execute(
            sa.insert(occ).values(
                shelter_id=shelter_id,
                incident_id=incident_id,
                observed_at=observed_at,
                head_count=int(head_count),
                source="staff",
                entered_by=viewer.subject,
                recorded_at=stamped,
            )
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "head_count_entered",
            "shelter",
            shelter_id,
            {"head_count": int(head_count)},
            at=stamped,
        )
