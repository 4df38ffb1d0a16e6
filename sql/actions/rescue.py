"""Rescue-request actions: status transitions with a reason, team assignment.

Optimistic concurrency: every change names the ``version`` the staff member saw. The update
only applies where the row still has that version; otherwise :class:`ConflictError` says who
changed it and to what, and nothing is written — so two staff changing the same request never
silently overwrite each other.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import RESCUE_TRANSITIONS

from ..incident_clock import action_time
from ..models import RescueRequest, RescueRequestEvent
from ..viewer import Viewer
from . import ActionRefused, ConflictError
from .activity import log_action, require_role

RESCUE_ROLES = ("hq", "rescue")


def allowed_transitions(status: str) -> tuple[str, ...]:
    return RESCUE_TRANSITIONS.get(status, ())


def change_rescue_request(
    engine: Engine,
    viewer: Viewer,
    request_id: int,
    expected_version: int,
    to_status: str,
    reason: str | None = None,
    team: str | None = None,
) -> int:
    """Move a request to ``to_status`` (assigning ``team`` when given); returns the new version.

    Raises :class:`ConflictError` when the request changed since ``expected_version`` was read,
    :class:`ActionRefused` for a role without the right or a transition that is not allowed.
    """
    require_role(viewer, RESCUE_ROLES, "change rescue requests")
    rr = RescueRequest.__table__
    reason = (reason or "").strip() or None
    team = (team or "").strip() or None
    with engine.begin() as conn:
        row = conn.execute(sa.select(rr).where(rr.c.id == request_id)).first()
        if row is None:
            raise ActionRefused(f"rescue request {request_id} does not exist")
        if row.version != expected_version:
            raise _conflict(conn, row, expected_version)
        if to_status != row.status and to_status not in allowed_transitions(row.status):
            raise ActionRefused(
                f"rescue request {request_id}: {row.status} → {to_status} is not allowed"
            )
        if to_status == row.status and team is None:
            raise ActionRefused(f"rescue request {request_id}: nothing to change")
        if to_status == "assigned" and not (team or row.assigned_team):
            raise ActionRefused(f"rescue request {request_id}: name the team to assign")
        if to_status in ("cancelled",) and not reason:
            raise ActionRefused(f"rescue request {request_id}: give a reason to cancel")
        now = action_time(conn, row.incident_id)
        values = {"status": to_status, "updated_at": now, "version": row.version + 1}
        if team is not None:
            values["assigned_team"] = team
        updated = conn.execute(
            sa.update(rr)
            .where(rr.c.id == request_id, rr.c.version == expected_version)
            .values(**values),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if updated != 1:  # changed between our read and our write
            raise _conflict(conn, row, expected_version)
        conn.execute(
            sa.insert(RescueRequestEvent.__table__).values(
                request_id=request_id,
                from_status=row.status,
                to_status=to_status,
                reason=reason,
                assigned_team=team if team is not None else row.assigned_team,
                actor=viewer.subject,
                at=now,
            )
        )
        details = {"from": row.status, "to": to_status, "reason": reason, "team": team}
        log_action(
            conn,
            viewer,
            row.incident_id,
            "rescue_status_changed" if team is None else "rescue_assigned",
            "rescue_request",
            request_id,
            details,
            citizen_ids=(row.citizen_id,) if row.citizen_id else (),
            at=now,
        )
    return row.version + 1


def _conflict(conn, row, expected_version: int) -> ConflictError:
    ev = RescueRequestEvent.__table__
    rr = RescueRequest.__table__
    current = conn.execute(sa.select(rr).where(rr.c.id == row.id)).first()
    last = conn.execute(
        sa.select(ev.c.actor, ev.c.to_status, ev.c.assigned_team, ev.c.at)
        .where(ev.c.request_id == row.id)
        .order_by(ev.c.at.desc(), ev.c.id.desc())
        .limit(1)
    ).first()
    who = last.actor if last else "?"
    info = {
        "status": current.status if current else None,
        "assigned_team": current.assigned_team if current else None,
        "version": current.version if current else None,
        "by": who,
    }
    return ConflictError(
        f"rescue request {row.id} was changed by {who} (now {info['status']}"
        f"{', ' + info['assigned_team'] if info['assigned_team'] else ''}; you saw version "
        f"{expected_version}, it is now {info['version']}). Nothing was saved: review and retry.",
        info,
    )
