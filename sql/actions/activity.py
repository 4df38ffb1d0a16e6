"""The incident activity log and the audit chain, written together by every action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import audit
from ..incident_clock import action_time
from ..models import IncidentActivity
from ..viewer import Viewer
from . import ActionRefused


def require_role(viewer: Viewer, roles: tuple[str, ...], what: str) -> None:
    if viewer.role not in roles:
        raise ActionRefused(f"role {viewer.role!r} may not {what}")


@contextmanager
def locked_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that first takes the audit chain's write lock
    (:func:`sql.audit.lock_for_write`): actions on the same records are served one after the
    other, each seeing what the one before did."""
    with engine.begin() as conn:
        audit.lock_for_write(conn)
        yield conn


def insert_returning_id(conn: Connection, table: sa.Table, **values: Any) -> int:
    """Insert one row of ``table``; its new id."""
    return int(conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one())


def log_action(
    conn: Connection,
    viewer: Viewer,
    incident_id: int | None,
    action: str,
    target_type: str,
    target_id: Any,
    details: dict[str, Any] | None = None,
    citizen_ids: tuple[int, ...] = (),
    at: dt.datetime | None = None,
) -> None:
    """One activity-log row (when there is an incident) and one audit row, in ``conn``.

    The activity row is stamped ``at`` — the time the action stamped its own rows with — or
    else by the incident clock (:func:`sql.incident_clock.action_time`); the audit row always
    by the wall clock.
    """
    if incident_id is not None:
        conn.execute(
            sa.insert(IncidentActivity.__table__).values(
                incident_id=incident_id,
                at=at or action_time(conn, incident_id),
                actor=viewer.subject,
                action=action,
                target_type=target_type,
                target_id=None if target_id is None else str(target_id),
                details=details,
            )
        )
    audit.append(
        conn,
        viewer.for_incident(incident_id),
        f"write:{action}",
        target=f"{target_type}:{target_id}",
        citizen_ids=citizen_ids,
        details=details,
    )
