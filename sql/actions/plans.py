"""Editing an individual evacuation plan (個別避難計画) on the admin page.

Plans carry a ``version``: an edit names the version the administrator started from (``None``
for a new plan) and is refused with :class:`~sql.actions.ConflictError` when someone changed
the plan meanwhile (a CSV import included). Only register people get plans.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import PLAN_DESTINATIONS, PLAN_TRANSPORTS

from .. import audit
from ..models import EvacuationPlan, Shelter, SupportRegisterEntry
from ..models.base import utcnow
from ..viewer import Viewer
from . import ConflictError
from .activity import locked_transaction, log_action, require_role
from .reception import SafetyRefused, _clean

PLAN_ROLES = ("admin",)


def save_plan(
    engine: Engine,
    viewer: Viewer,
    citizen_id: int,
    expected_version: int | None,
    *,
    destination_kind: str,
    destination_shelter_id: int | None,
    destination_note: str | None,
    supporters: list[dict[str, Any]],
    transport: str,
    transport_note: str | None = None,
    notes: str | None = None,
) -> int:
    """Create or change a register person's plan; returns the new version."""
    require_role(viewer, PLAN_ROLES, "edit evacuation plans")
    if destination_kind not in PLAN_DESTINATIONS:
        raise ValueError(f"unknown destination kind {destination_kind!r}")
    if transport not in PLAN_TRANSPORTS:
        raise ValueError(f"unknown transport {transport!r}")
    destination_note = _clean(destination_note, 200, "destination_note")
    transport_note = _clean(transport_note, 200, "transport_note")
    notes = _clean(notes, 1000, "notes")
    people = []
    for s in supporters:
        name = _clean(s.get("name"), 100, "supporter")
        if name:
            people.append(
                {
                    "name": name,
                    "phone": _clean(s.get("phone"), 32, "phone"),
                    "relation": _clean(s.get("relation"), 32, "relation"),
                }
            )
    if destination_kind != "other" and destination_shelter_id is None:
        raise SafetyRefused("safety.refused.plan_destination", "choose the destination shelter")
    if destination_kind == "other" and not destination_note:
        raise SafetyRefused("safety.refused.plan_note", "say where the person goes")
    p = EvacuationPlan.__table__
    with locked_transaction(engine) as conn:
        on_register = conn.execute(
            sa.select(SupportRegisterEntry.id).where(SupportRegisterEntry.citizen_id == citizen_id)
        ).first()
        if on_register is None:
            raise SafetyRefused("safety.refused.plan_not_registered", "not on the register")
        if destination_kind != "other":
            shelter = conn.execute(
                sa.select(Shelter.id, Shelter.is_welfare_shelter).where(
                    Shelter.id == destination_shelter_id
                )
            ).first()
            if shelter is None:
                raise SafetyRefused(
                    "safety.refused.no_shelter", "no such shelter", id=destination_shelter_id
                )
            if destination_kind == "welfare_shelter" and not shelter.is_welfare_shelter:
                raise SafetyRefused("safety.refused.plan_not_welfare", "not a welfare shelter")
        values = {
            "destination_kind": destination_kind,
            "destination_shelter_id": destination_shelter_id
            if destination_kind != "other"
            else None,
            "destination_note": destination_note,
            "supporters": people,
            "transport": transport,
            "transport_note": transport_note,
            "notes": notes,
            "source": "admin",
            "updated_at": utcnow(),
            "updated_by": viewer.subject,
        }
        current = conn.execute(sa.select(p).where(p.c.citizen_id == citizen_id)).first()
        if current is None:
            if expected_version is not None:
                raise SafetyRefused("safety.refused.plan_gone", "the plan no longer exists")
            conn.execute(sa.insert(p).values(citizen_id=citizen_id, version=1, **values))
            version = 1
        else:
            if expected_version != current.version:
                raise ConflictError(
                    f"the plan was changed by {current.updated_by} (version {current.version}, "
                    f"you started from {expected_version}); nothing was saved: review and retry",
                    {"by": current.updated_by, "version": current.version},
                )
            version = current.version + 1
            conn.execute(sa.update(p).where(p.c.id == current.id).values(version=version, **values))
        audit.append(
            conn,
            viewer,
            "write:plan_saved",
            target=f"evacuation_plan:{citizen_id}",
            citizen_ids=(citizen_id,),
            details={"version": version, "destination_kind": destination_kind},
        )
    return version


def delete_plan(
    engine: Engine,
    viewer: Viewer,
    citizen_id: int,
    expected_version: int,
    incident_id: int | None = None,
) -> dict[str, Any]:
    """Delete a register person's plan; returns what was deleted (version, supporters: how
    many).

    From then on the person has no plan: during an incident nobody tracks their supporter's
    confirmation or their arrival, and they no longer escalate on the unaccounted-for list for
    lack of either (they stay on it as a register person). Refused with
    :class:`~sql.actions.ConflictError` when the plan changed since ``expected_version`` (the
    administrator deletes what they saw, not a newer import), with ``plan_gone`` when it is
    already deleted. One audit row, and an activity-log row when ``incident_id`` is given.
    """
    require_role(viewer, PLAN_ROLES, "delete evacuation plans")
    p = EvacuationPlan.__table__
    with locked_transaction(engine) as conn:
        current = conn.execute(sa.select(p).where(p.c.citizen_id == citizen_id)).first()
        if current is None:
            raise SafetyRefused("safety.refused.plan_gone", "the plan no longer exists")
        if current.version != expected_version:
            raise ConflictError(
                f"the plan was changed by {current.updated_by} (version {current.version}, "
                f"you started from {expected_version}); nothing was deleted: review and retry",
                {"by": current.updated_by, "version": current.version},
            )
        conn.execute(sa.delete(p).where(p.c.id == current.id))
        deleted = {"version": current.version, "supporters": len(current.supporters or [])}
        log_action(
            conn,
            viewer,
            incident_id,
            "plan_deleted",
            "evacuation_plan",
            citizen_id,
            deleted,
            citizen_ids=(citizen_id,),
        )
    return deleted
