"""Reading the audit log: the admin's search and a citizen's access report.

Citizen ids are stored as compact JSON text (``[3,17,42]``) on every database, so a search by
citizen narrows rows in SQL with the four places an id can stand in that text and then checks
the parsed list exactly. Each search is itself audited (an admin looking up who saw a citizen
is an access to that citizen's record).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import audit
from ..actions import ActionRefused
from ..frames import query_frame
from ..models import AuditLog, Citizen, Incident, Staff
from ..viewer import Viewer

AUDIT_READERS = ("admin",)
COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_name",
    "role",
    "purpose",
    "incident_id",
    "incident_name",
    "action",
    "target",
    "citizen_ids",
    "citizen_count",
    "details",
)


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What to look for; ``None`` means any. Dates are inclusive days in ``tz``."""

    actor: str | None = None  # part of the subject or the staff name
    role: str | None = None
    action: str | None = None  # exact, or a prefix ending in ':' / '*' (``write:*``)
    since: dt.date | None = None
    until: dt.date | None = None
    citizen_id: int | None = None
    incident_id: int | None = None
    tz: str = "Asia/Tokyo"

    def as_details(self) -> dict[str, Any]:
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None and k != "tz"}
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in out.items()}


def _day_start(day: dt.date, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(), ZoneInfo(tz)).astimezone(dt.UTC)


def _citizen_clause(column: sa.ColumnElement, citizen_id: int) -> sa.ColumnElement[bool]:
    text = sa.type_coerce(column, sa.Text)
    n = int(citizen_id)
    return sa.or_(
        text == f"[{n}]",
        text.like(f"[{n},%"),
        text.like(f"%,{n},%"),
        text.like(f"%,{n}]"),
    )


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [int(v) for v in value]


def _frame(engine: Engine, where: list[sa.ColumnElement[bool]], limit: int | None) -> pd.DataFrame:
    log = AuditLog.__table__
    staff = Staff.__table__
    inc = Incident.__table__
    stmt = (
        sa.select(
            log.c.id,
            log.c.at,
            log.c.actor,
            staff.c.name.label("actor_name"),
            log.c.role,
            log.c.purpose,
            log.c.incident_id,
            inc.c.name_ja.label("incident_name"),
            log.c.action,
            log.c.target,
            log.c.citizen_ids,
            log.c.details,
        )
        .select_from(
            log.outerjoin(staff, staff.c.subject == log.c.actor).outerjoin(
                inc, inc.c.id == log.c.incident_id
            )
        )
        .where(*where)
        .order_by(log.c.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["citizen_ids"] = [_ids(v) for v in frame["citizen_ids"]]
    frame["citizen_count"] = [len(v) for v in frame["citizen_ids"]]
    return frame[list(COLUMNS)]


def search(engine: Engine, viewer: Viewer, flt: AuditFilter, *, limit: int = 1000) -> pd.DataFrame:
    """Audit rows matching ``flt``, newest first (at most ``limit``): the columns of
    :data:`COLUMNS`. Administrators only; the search is appended to the log."""
    if viewer.role not in AUDIT_READERS:
        raise ActionRefused(f"role {viewer.role!r} may not search the audit log")
    log = AuditLog.__table__
    staff = Staff.__table__
    where: list[sa.ColumnElement[bool]] = []
    if flt.actor:
        pattern = f"%{flt.actor.strip()}%"
        where.append(sa.or_(log.c.actor.ilike(pattern), staff.c.name.ilike(pattern)))
    if flt.role:
        where.append(log.c.role == flt.role)
    if flt.action:
        action = flt.action.strip()
        if action.endswith("*"):
            where.append(log.c.action.startswith(action[:-1], autoescape=True))
        elif action.endswith(":"):
            where.append(log.c.action.startswith(action, autoescape=True))
        else:
            where.append(log.c.action == action)
    if flt.since:
        where.append(log.c.at >= _day_start(flt.since, flt.tz))
    if flt.until:
        where.append(log.c.at < _day_start(flt.until + dt.timedelta(days=1), flt.tz))
    if flt.incident_id is not None:
        where.append(log.c.incident_id == flt.incident_id)
    if flt.citizen_id is not None:
        where.append(_citizen_clause(log.c.citizen_ids, flt.citizen_id))
    frame = _frame(engine, where, limit)
    if flt.citizen_id is not None:
        frame = frame[[flt.citizen_id in ids for ids in frame["citizen_ids"]]]
        frame = frame.reset_index(drop=True)
    audit.record(
        engine,
        viewer,
        "read",
        target="audit_log.search",
        citizen_ids=[flt.citizen_id] if flt.citizen_id is not None else (),
        details={"filter": flt.as_details(), "rows": len(frame)},
    )
    return frame


def actions(engine: Engine) -> list[str]:
    """The distinct actions in the log (for the search form)."""
    log = AuditLog.__table__
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(log.c.action).distinct()).scalars())


def citizen_id_for_subject(engine: Engine, subject: str) -> int | None:
    """Our id of the citizen known to the city OS as ``subject``."""
    with engine.connect() as conn:
        return conn.execute(sa.select(Citizen.id).where(Citizen.subject == subject)).scalar()


def citizen_access(engine: Engine, citizen_id: int) -> pd.DataFrame:
    """Every audit row naming the citizen, oldest first (the citizen's access report)."""
    frame = _frame(engine, [_citizen_clause(AuditLog.__table__.c.citizen_ids, citizen_id)], None)
    frame = frame[[citizen_id in ids for ids in frame["citizen_ids"]]]
    return frame.iloc[::-1].reset_index(drop=True)
