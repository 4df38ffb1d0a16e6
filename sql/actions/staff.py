"""Managing staff accounts (admin only): add, change role/shelters/team, deactivate.

Every change is one transaction with one audit row (:mod:`sql.audit`) naming what changed.
Sign-in needs both the identity provider's role claim and an active account here whose role
is among the claimed roles, so a deactivated account can no longer open the app even while the
provider still issues tokens. The last active administrator can be neither deactivated nor
moved to another role (nobody could manage staff any more).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import STAFF_ROLES

from ..models import Shelter, Staff
from ..models.base import utcnow
from ..viewer import Viewer
from . import ActionRefused
from .activity import insert_returning_id, locked_transaction, log_action, require_role

STAFF_ADMIN_ROLES = ("admin",)
MAX_SUBJECT = 128
MAX_NAME = 100
MAX_TEAM = 64


def _clean_text(value: str | None, what: str, limit: int, required: bool) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ActionRefused(f"give the {what}")
        return None
    if len(text) > limit:
        raise ActionRefused(f"the {what} is longer than {limit} characters")
    return text


def _check_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise ActionRefused(f"unknown role {role!r}; expected one of {', '.join(STAFF_ROLES)}")
    return role


def _check_shelters(
    conn: Connection, role: str, shelter_ids: Iterable[int] | None
) -> list[int] | None:
    ids = sorted({int(s) for s in (shelter_ids or ())})
    if role != "shelter_staff":
        if ids:
            raise ActionRefused("only shelter staff are assigned to shelters")
        return None
    if not ids:
        raise ActionRefused("shelter staff need at least one shelter")
    known = set(conn.execute(sa.select(Shelter.id).where(Shelter.id.in_(ids))).scalars())
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ActionRefused(f"unknown shelter ids: {', '.join(map(str, unknown))}")
    return ids


def _active_admins(conn: Connection) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(Staff)
        .where(Staff.role == "admin", Staff.active.is_(True))
    ).scalar_one()


def add_staff(
    engine: Engine,
    viewer: Viewer,
    subject: str,
    name: str,
    role: str,
    shelter_ids: Iterable[int] | None = None,
    team: str | None = None,
) -> int:
    """Register a staff member under their identity-provider subject (or e-mail); returns
    the new id. A subject already registered is refused (change that account instead)."""
    require_role(viewer, STAFF_ADMIN_ROLES, "manage staff")
    subject = _clean_text(subject, "sign-in subject (sub or e-mail)", MAX_SUBJECT, True)
    name = _clean_text(name, "name", MAX_NAME, True)
    role = _check_role(role)
    team = _clean_text(team, "team", MAX_TEAM, False)
    table = Staff.__table__
    with locked_transaction(engine) as conn:
        existing = conn.execute(sa.select(table.c.id).where(table.c.subject == subject)).first()
        if existing is not None:
            raise ActionRefused(f"{subject} is already registered (staff {existing.id})")
        shelters = _check_shelters(conn, role, shelter_ids)
        now = utcnow()
        staff_id = insert_returning_id(
            conn,
            table,
            subject=subject,
            name=name,
            role=role,
            shelter_ids=shelters,
            team=team,
            active=True,
            created_at=now,
            updated_at=now,
        )
        log_action(
            conn,
            viewer,
            None,
            "staff_added",
            "staff",
            staff_id,
            {"subject": subject, "role": role, "shelter_ids": shelters, "team": team},
        )
    return int(staff_id)


def update_staff(
    engine: Engine,
    viewer: Viewer,
    staff_id: int,
    *,
    name: str | None = None,
    role: str | None = None,
    shelter_ids: Iterable[int] | None = None,
    team: str | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """Change a staff account; arguments left ``None`` stay as they are (``team=""`` clears
    the team). Returns the changes as ``{field: [before, after]}`` (empty: nothing changed)."""
    require_role(viewer, STAFF_ADMIN_ROLES, "manage staff")
    table = Staff.__table__
    with locked_transaction(engine) as conn:
        row = conn.execute(sa.select(table).where(table.c.id == staff_id)).first()
        if row is None:
            raise ActionRefused(f"staff {staff_id} does not exist")
        new_role = row.role if role is None else _check_role(role)
        new_shelters = _check_shelters(
            conn,
            new_role,
            (row.shelter_ids if new_role == "shelter_staff" else None)
            if shelter_ids is None
            else shelter_ids,
        )
        after = {
            "name": row.name if name is None else _clean_text(name, "name", MAX_NAME, True),
            "role": new_role,
            "shelter_ids": new_shelters,
            "team": row.team if team is None else _clean_text(team, "team", MAX_TEAM, False),
            "active": bool(row.active) if active is None else bool(active),
        }
        before = {
            "name": row.name,
            "role": row.role,
            "shelter_ids": sorted(row.shelter_ids) if row.shelter_ids else None,
            "team": row.team,
            "active": bool(row.active),
        }
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changes:
            return {}
        losing_admin = before["role"] == "admin" and before["active"]
        if losing_admin and (after["role"] != "admin" or not after["active"]):
            if _active_admins(conn) <= 1:
                raise ActionRefused("the last active administrator must stay an administrator")
        conn.execute(
            sa.update(table).where(table.c.id == staff_id).values(**after, updated_at=utcnow())
        )
        action = "staff_deactivated" if changes.get("active") == [True, False] else "staff_changed"
        log_action(
            conn,
            viewer,
            None,
            action,
            "staff",
            staff_id,
            {"subject": row.subject, "changes": changes},
        )
    return changes


def deactivate_staff(engine: Engine, viewer: Viewer, staff_id: int) -> dict[str, Any]:
    """The account can no longer sign in (kept for the audit trail, never deleted)."""
    return update_staff(engine, viewer, staff_id, active=False)


def bind_subject(engine: Engine, staff_id: int, email: str, subject: str) -> bool:
    """Bind an account registered by e-mail to the identity provider's subject (``sub``) at
    its first sign-in with that address verified; returns True when it was bound now.

    One transaction with its audit row, acting as the account itself (purpose
    ``authentication``). Only an account whose ``subject`` is still that e-mail address is
    bound — from then on it is found by ``sub`` alone, never again by e-mail.
    """
    subject = _clean_text(subject, "sign-in subject (sub)", MAX_SUBJECT, True) or ""
    table = Staff.__table__
    try:
        with locked_transaction(engine) as conn:
            row = conn.execute(
                sa.select(table.c.role).where(
                    table.c.id == staff_id, sa.func.lower(table.c.subject) == email.lower()
                )
            ).first()
            if row is None:
                return False
            conn.execute(
                sa.update(table)
                .where(table.c.id == staff_id)
                .values(subject=subject, updated_at=utcnow())
            )
            log_action(
                conn,
                Viewer(role=row.role, subject=subject, purpose="authentication"),
                None,
                "staff_subject_bound",
                "staff",
                staff_id,
                {"email": email, "subject": subject},
            )
    except sa.exc.IntegrityError:
        return False  # the subject is already bound to another account
    return True
