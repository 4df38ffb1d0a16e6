"""Staff accounts: who may sign in, in which role, for which shelters and team.

Not personal data about citizens; the admin page and the sign-in read these.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import Staff


@dataclasses.dataclass(frozen=True)
class StaffMember:
    id: int
    subject: str
    name: str
    role: str
    shelter_ids: tuple[int, ...]
    team: str | None
    active: bool


def _member(row) -> StaffMember:
    return StaffMember(
        id=int(row.id),
        subject=row.subject,
        name=row.name,
        role=row.role,
        shelter_ids=tuple(int(s) for s in (row.shelter_ids or ())),
        team=row.team,
        active=bool(row.active),
    )


def find_staff(engine: Engine, subject: str | None) -> StaffMember | None:
    """The staff member bound to this OIDC ``sub`` (active or not) — one unique-index lookup."""
    if not subject:
        return None
    table = Staff.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.subject == str(subject))).first()
    return None if row is None else _member(row)


def staff_registered_by_email(engine: Engine, email: str | None) -> StaffMember | None:
    """The staff member registered under this e-mail address and not yet bound to a subject
    (their ``subject`` is still the address itself, compared without regard to case)."""
    if not email or "@" not in email:
        return None
    table = Staff.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table).where(sa.func.lower(table.c.subject) == str(email).lower()).limit(2)
        ).all()
    return _member(rows[0]) if len(rows) == 1 else None


def staff_member(engine: Engine, staff_id: int) -> StaffMember | None:
    table = Staff.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == staff_id)).first()
    return None if row is None else _member(row)


def first_staff_with_role(
    engine: Engine, role: str, subject_prefix: str = ""
) -> StaffMember | None:
    """The lowest-id active staff member in ``role`` (DEMO mode plays the demo staff)."""
    table = Staff.__table__
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table)
            .where(
                table.c.role == role,
                table.c.active.is_(True),
                table.c.subject.startswith(subject_prefix, autoescape=True),
            )
            .order_by(table.c.id)
            .limit(1)
        ).first()
    return None if row is None else _member(row)


def staff_list(engine: Engine) -> pd.DataFrame:
    """Every staff account: id, subject, name, role, shelter_ids, team, active, created_at,
    updated_at (active first, then by name)."""
    table = Staff.__table__
    stmt = sa.select(table).order_by(table.c.active.desc(), table.c.name, table.c.id)
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["active"] = frame["active"].astype(bool)
    frame["team"] = pd.Series(
        [v if isinstance(v, str) else None for v in frame["team"]], dtype=object
    )
    frame["shelter_ids"] = [tuple(int(s) for s in (v or ())) for v in frame["shelter_ids"]]
    return frame
