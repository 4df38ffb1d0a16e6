"""Working through the unaccounted-for list: reports from supporters, families and rescue
teams, and follow-ups (a caller or a visiting team, and what they found).

Follow-ups carry a ``version`` like rescue requests (:mod:`sql.actions.rescue`): a change names
the version the staff member started from — ``None`` for someone without a follow-up yet — and
is refused with :class:`~sql.actions.ConflictError` (who changed it, to what) when someone else
changed it meanwhile. Nothing is overwritten silently.

Outcomes append :class:`~sql.models.SafetyObservation` rows (the history is kept); the merged
state follows the rule of :mod:`analytics.safety_merge`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import FOLLOW_UP_METHODS, FOLLOW_UP_OUTCOMES

from ..models import FollowUp, FollowUpEvent, SafetyObservation
from ..models.base import utcnow
from ..viewer import Viewer
from . import ConflictError
from .activity import insert_returning_id, log_action, require_role
from .reception import SafetyRefused, _clean, chosen_people, incident_transaction

FOLLOW_UP_ROLES = ("hq", "rescue")
#: Who may record which source of a report.
REPORT_SOURCES_BY_ROLE = {"hq": ("supporter", "family", "hq"), "rescue": ("rescue",)}
REPORT_OUTCOMES = ("safe", "needs_help")


def record_report(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_ids: Iterable[int],
    source: str,
    outcome: str,
    note: str | None = None,
) -> int:
    """A report about people's safety from their supporter, their family, headquarters itself
    or a rescue team (``source``): ``safe`` or ``needs_help``. Returns how many were recorded."""
    require_role(viewer, FOLLOW_UP_ROLES, "record safety reports")
    if source not in REPORT_SOURCES_BY_ROLE.get(viewer.role, ()):
        raise SafetyRefused(
            "safety.refused.source_for_role", f"role {viewer.role} may not record {source} reports"
        )
    if outcome not in REPORT_OUTCOMES:
        raise ValueError(f"outcome must be one of {REPORT_OUTCOMES}, not {outcome!r}")
    note = _clean(note, 500, "note")
    ids = chosen_people(citizen_ids, "choose whom the report is about")
    with incident_transaction(engine, incident_id, ids) as conn:
        _observe_people(conn, viewer, incident_id, ids, source=source, outcome=outcome, note=note)
        log_action(
            conn,
            viewer,
            incident_id,
            f"safety_report_{source}",
            "citizen",
            ",".join(map(str, ids))[:64],
            {"outcome": outcome, "people": len(ids)},
            citizen_ids=tuple(ids),
        )
    return len(ids)


def _observe_people(
    conn: Connection, viewer: Viewer, incident_id: int, people: list[int], **observed: Any
) -> None:
    """One safety observation per person, all made now: ``observed`` says its source, outcome,
    note (and the follow-up that found it)."""
    now = utcnow()
    conn.execute(
        sa.insert(SafetyObservation.__table__),
        [
            {
                "incident_key": incident_id,
                "citizen_id": person,
                "observed_at": now,
                "recorded_at": now,
                "recorded_by": viewer.subject,
                **observed,
            }
            for person in people
        ],
    )


# ------------------------------------------------------------------ follow-ups


def _current(conn: Connection, incident_id: int, citizen_id: int):
    fu = FollowUp.__table__
    return conn.execute(
        sa.select(fu).where(fu.c.incident_key == incident_id, fu.c.citizen_id == citizen_id)
    ).first()


def _conflict(row, expected: int | None) -> ConflictError:
    info = {
        "status": row.status,
        "assignee": row.assignee,
        "version": row.version,
        "by": row.updated_by,
    }
    return ConflictError(
        f"the follow-up of citizen {row.citizen_id} was changed by {row.updated_by} (now "
        f"{row.status}{', ' + row.assignee if row.assignee else ''}; you saw version "
        f"{expected if expected is not None else 'none'}, it is now {row.version}). "
        "Nothing was saved: review and retry.",
        info,
    )


def _write(
    conn: Connection,
    viewer: Viewer,
    incident_id: int,
    citizen_id: int,
    expected_version: int | None,
    values: dict,
) -> tuple[int, int]:
    """Create or change the follow-up at ``expected_version``; returns (id, new version)."""
    fu = FollowUp.__table__
    row = _current(conn, incident_id, citizen_id)
    now = utcnow()
    if row is None:
        if expected_version is not None:
            raise SafetyRefused("safety.refused.no_follow_up", "the follow-up does not exist")
        follow_up_id = insert_returning_id(
            conn,
            fu,
            incident_key=incident_id,
            citizen_id=citizen_id,
            created_at=now,
            created_by=viewer.subject,
            updated_at=now,
            updated_by=viewer.subject,
            version=1,
            attempts=values.pop("attempts_add", 0),
            **values,
        )
        from_status, version = None, 1
    else:
        if expected_version is None or row.version != expected_version:
            raise _conflict(row, expected_version)
        attempts = row.attempts + values.pop("attempts_add", 0)
        changed = conn.execute(
            sa.update(fu)
            .where(fu.c.id == row.id, fu.c.version == expected_version)
            .values(
                updated_at=now,
                updated_by=viewer.subject,
                version=row.version + 1,
                attempts=attempts,
                **values,
            ),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if changed != 1:
            raise _conflict(_current(conn, incident_id, citizen_id), expected_version)
        follow_up_id, from_status, version = row.id, row.status, row.version + 1
    conn.execute(
        sa.insert(FollowUpEvent.__table__).values(
            follow_up_id=follow_up_id,
            from_status=from_status,
            to_status=values["status"],
            method=values.get("method", row.method if row is not None else None),
            assignee=values.get("assignee", row.assignee if row is not None else None),
            note=values.get("note"),
            actor=viewer.subject,
            at=now,
        )
    )
    return int(follow_up_id), version


@contextmanager
def _follow_up_change(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_id: int,
    expected_version: int | None,
    values: dict,
    household_members: list[int],
) -> Iterator[tuple[Connection, int, int]]:
    """A transaction changing a person's follow-up at ``expected_version`` (the person and the
    household members found with them checked first): the connection, the follow-up's id and
    its new version, for the caller to record what else happened."""
    with incident_transaction(engine, incident_id, [citizen_id, *household_members]) as conn:
        follow_up_id, version = _write(
            conn, viewer, incident_id, citizen_id, expected_version, values
        )
        yield conn, follow_up_id, version


def assign_follow_up(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_id: int,
    expected_version: int | None,
    assignee: str,
    method: str,
) -> int:
    """Give someone's follow-up to a caller or a visiting team (``method``: ``call`` or
    ``visit``); returns the new version."""
    require_role(viewer, FOLLOW_UP_ROLES, "assign follow-ups")
    if method not in FOLLOW_UP_METHODS:
        raise ValueError(f"method must be one of {FOLLOW_UP_METHODS}, not {method!r}")
    assignee = _clean(assignee, 64, "assignee")
    if not assignee:
        raise SafetyRefused("safety.refused.assignee_required", "name the caller or the team")
    values = {"status": "assigned", "assignee": assignee, "method": method}
    with _follow_up_change(
        engine, viewer, incident_id, citizen_id, expected_version, values, []
    ) as (conn, follow_up_id, version):
        log_action(
            conn,
            viewer,
            incident_id,
            "follow_up_assigned",
            "follow_up",
            follow_up_id,
            {"assignee": assignee, "method": method},
            citizen_ids=(citizen_id,),
        )
    return version


def record_follow_up(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_id: int,
    expected_version: int | None,
    outcome: str,
    note: str | None = None,
    household_members: Iterable[int] = (),
) -> int:
    """What the caller or the team found: ``reached_safe``, ``needs_help`` or ``not_reached``
    (the person stays on the list; the attempt is counted). ``household_members`` found in the
    same call or visit get the same observation. Returns the new version."""
    require_role(viewer, FOLLOW_UP_ROLES, "record follow-ups")
    if outcome not in FOLLOW_UP_OUTCOMES:
        raise ValueError(f"outcome must be one of {FOLLOW_UP_OUTCOMES}, not {outcome!r}")
    note = _clean(note, 500, "note")
    members = [int(i) for i in household_members if int(i) != citizen_id]
    observed = {"reached_safe": "safe", "needs_help": "needs_help", "not_reached": "not_reached"}
    values = {"status": outcome, "note": note, "attempts_add": 1}
    with _follow_up_change(
        engine, viewer, incident_id, citizen_id, expected_version, values, members
    ) as (conn, follow_up_id, version):
        _observe_people(
            conn,
            viewer,
            incident_id,
            [citizen_id, *members],
            source="follow_up",
            outcome=observed[outcome],
            note=note,
            follow_up_id=follow_up_id,
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "follow_up_recorded",
            "follow_up",
            follow_up_id,
            {"outcome": outcome, "household_members": len(members)},
            citizen_ids=(citizen_id, *members),
        )
    return version
