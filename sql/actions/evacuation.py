"""Issue and lift evacuation information (避難情報の発令・解除) for areas: HQ's decision.

One decision (several areas, one level, or a lift) is one transaction: a row per area in
``evacuation_issuances`` (who, when on the incident clock, reason, trigger, previous level,
exercise flag for drills), one row in the incident activity log and one in the audit chain.

- *Idempotent*: the caller names the decision with ``idempotency_key`` (made when HQ opened the
  confirmation); a repeat with the same key writes nothing and returns the first result. An
  area already at the chosen level is left as it is (reported ``unchanged``).
- *A lift names what it lifts*: each lift row points at the issue row it ends (``lifts_id``).
- Levels 3, 4 and 5 only (避難勧告 was abolished in 2021).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import EVACUATION_LEVELS

from ..incident_clock import action_time
from ..models import EvacuationArea, EvacuationIssuance
from ..queries.evacuation import latest_rows
from ..viewer import Viewer
from . import KeyedRefusal
from .activity import locked_transaction, log_action
from .checks import active_incident

ISSUE_ROLES = ("hq",)
MAX_REASON = 2000
MAX_KEY = 96


class EvacuationRefused(KeyedRefusal):
    """An evacuation decision refused, with a catalog key (``evacuation.refused.*``)."""


@dataclasses.dataclass(frozen=True)
class AreaChange:
    area_id: int
    area_code: str
    #: ``issued`` (new or changed level), ``lifted``, or ``unchanged``.
    result: str
    level: int | None
    previous_level: int | None
    issuance_id: int | None = None
    lifts_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a decision really did."""

    decision_key: str
    action: str  # issue, lift
    level: int | None
    at: dt.datetime
    is_exercise: bool
    changes: tuple[AreaChange, ...]
    #: True when this key had been used before: nothing was written now.
    repeated: bool = False

    @property
    def written(self) -> list[AreaChange]:
        return [c for c in self.changes if c.result != "unchanged"]

    @property
    def unchanged(self) -> list[AreaChange]:
        return [c for c in self.changes if c.result == "unchanged"]


def _incident(conn: Connection, incident_id: int | None):
    refused = EvacuationRefused("evacuation.refused.no_incident", "there is no active incident")
    return active_incident(conn, incident_id, refused)


def _areas(conn: Connection, area_ids: list[int]) -> dict[int, str]:
    if not area_ids:
        raise EvacuationRefused("evacuation.refused.no_areas", "choose at least one area")
    a = EvacuationArea.__table__
    found = dict(conn.execute(sa.select(a.c.id, a.c.code).where(a.c.id.in_(area_ids))).all())
    missing = [str(i) for i in area_ids if i not in found]
    if missing:
        raise EvacuationRefused(
            "evacuation.refused.unknown_area",
            f"unknown areas {', '.join(missing)}",
            areas=", ".join(missing),
        )
    return {int(k): v for k, v in found.items()}


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise EvacuationRefused("evacuation.refused.no_reason", "give the reason")
    return text[:MAX_REASON]


def _repeat(conn: Connection, key: str) -> Decision | None:
    i = EvacuationIssuance.__table__
    a = EvacuationArea.__table__
    rows = conn.execute(
        sa.select(i, a.c.code.label("area_code"))
        .select_from(i.join(a, a.c.id == i.c.area_id))
        .where(i.c.decision_key == key)
        .order_by(i.c.id)
    ).all()
    if not rows:
        return None
    first = rows[0]
    return Decision(
        key,
        first.action,
        first.level,
        first.issued_at,
        bool(first.is_exercise),
        tuple(
            AreaChange(
                int(r.area_id),
                r.area_code,
                "issued" if r.action == "issue" else "lifted",
                r.level,
                r.previous_level,
                int(r.id),
                r.lifts_id,
            )
            for r in rows
        ),
        repeated=True,
    )


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"an idempotency key of 1–{MAX_KEY} characters is required")
    return key


def _decide(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    area_ids: list[int],
    level: int | None,
    reason: str | None,
    idempotency_key: str,
    trigger: dict[str, Any] | None,
) -> Decision:
    if viewer.role not in ISSUE_ROLES:
        raise EvacuationRefused("evacuation.refused.role", f"role {viewer.role!r} may not issue")
    key = _check_key(idempotency_key)
    action = "lift" if level is None else "issue"
    if action == "issue" and level not in EVACUATION_LEVELS:
        raise EvacuationRefused("evacuation.refused.bad_level", f"level {level!r} is not 3, 4 or 5")
    text = _clean_reason(reason)
    area_ids = sorted({int(a) for a in area_ids})
    i = EvacuationIssuance.__table__
    with locked_transaction(engine) as conn:
        incident = _incident(conn, incident_id)
        repeated = _repeat(conn, key)
        if repeated is not None:
            return repeated
        codes = _areas(conn, area_ids)
        latest = latest_rows(conn, incident.id, area_ids)
        exercise = incident.kind == "drill"
        now = action_time(conn, incident.id)
        changes: list[AreaChange] = []
        values = []
        for area_id in area_ids:
            row = latest.get(area_id)
            current = row.level if row is not None and row.action == "issue" else None
            if (action == "issue" and current == level) or (action == "lift" and current is None):
                changes.append(AreaChange(area_id, codes[area_id], "unchanged", current, current))
                continue
            values.append(
                {
                    "idempotency_key": f"{key}:{area_id}",
                    "decision_key": key,
                    "incident_id": incident.id,
                    "area_id": area_id,
                    "action": action,
                    "level": level,
                    "previous_level": current,
                    "lifts_id": int(row.id) if action == "lift" else None,
                    "issued_at": now,
                    "issued_by": viewer.subject,
                    "reason": text,
                    "trigger": trigger,
                    "is_exercise": exercise,
                }
            )
        if action == "lift" and not values:
            raise EvacuationRefused(
                "evacuation.refused.nothing_to_lift",
                "nothing is in force to lift",
                areas="、".join(codes[a] for a in area_ids),
            )
        for v in values:
            new_id = conn.execute(sa.insert(i).values(**v).returning(i.c.id)).scalar_one()
            changes.append(
                AreaChange(
                    v["area_id"],
                    codes[v["area_id"]],
                    "issued" if action == "issue" else "lifted",
                    level,
                    v["previous_level"],
                    int(new_id),
                    v["lifts_id"],
                )
            )
        changes.sort(key=lambda c: c.area_code)
        if values:
            log_action(
                conn,
                viewer,
                incident.id,
                f"evacuation_{'issued' if action == 'issue' else 'lifted'}",
                "evacuation_decision",
                key,
                {
                    "level": level,
                    "areas": [c.area_code for c in changes if c.result != "unchanged"],
                    "previous_levels": {
                        c.area_code: c.previous_level for c in changes if c.result != "unchanged"
                    },
                    "lifts": [c.lifts_id for c in changes if c.lifts_id is not None],
                    "unchanged": [c.area_code for c in changes if c.result == "unchanged"],
                    "reason": text,
                    "trigger": trigger,
                    "exercise": exercise,
                },
                at=now,
            )
        return Decision(key, action, level, now, exercise, tuple(changes))


def issue(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    area_ids: list[int],
    level: int,
    reason: str,
    *,
    idempotency_key: str,
    trigger: dict[str, Any] | None = None,
) -> Decision:
    """Issue (or raise/lower to) ``level`` for the areas; see the module's rules."""
    return _decide(engine, viewer, incident_id, area_ids, level, reason, idempotency_key, trigger)


def lift(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    area_ids: list[int],
    reason: str,
    *,
    idempotency_key: str,
) -> Decision:
    """Lift (解除) what is in force in the areas; each lift row names the issue it ends."""
    return _decide(engine, viewer, incident_id, area_ids, None, reason, idempotency_key, None)
