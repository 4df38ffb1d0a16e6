"""Shelter reception (避難所の受付) and evacuees at home or in cars (在宅避難・車中泊).

Every action runs in one transaction that first takes the audit chain's write lock
(:func:`sql.audit.lock_for_write`), so two desks acting on the same person at the same moment
are served one after the other: the second sees what the first did and is told so ("already
checked in here by … at …", "moved from …") — nothing is lost or doubled. The partial unique
index on open stays (one per person and incident) backs this up in the database itself.

A check-in, a check-out or a place recorded by headquarters or a rescue team also appends a
:class:`~sql.models.SafetyObservation` (the person was seen), which the merged safety picture
reads (:mod:`analytics.safety_merge`).

Refusals carry a catalog key (:class:`SafetyRefused`) so the page says what happened in the
viewer's language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import WALK_IN_AGE_BANDS

from ..models import (
    Citizen,
    EvacueeStay,
    SafetyObservation,
    Shelter,
    ShelterOperation,
    WalkIn,
)
from ..models.base import utcnow
from ..viewer import Viewer
from . import ConflictError, KeyedRefusal
from .activity import insert_returning_id, locked_transaction, log_action, require_role
from .checks import active_incident, existing_shelter

RECEPTION_ROLES = ("shelter_staff", "hq")
PLACE_ROLES = ("hq", "rescue")
MAX_HOUSEHOLD = 30
MAX_PARTY = 20


class SafetyRefused(KeyedRefusal):
    """A safety-loop action refused (reception, places, reports, follow-ups, plans), with a
    catalog key (``safety.refused.*``)."""


@dataclasses.dataclass(frozen=True)
class CheckIn:
    """What happened to one person at a check-in."""

    citizen_id: int
    #: ``checked_in``, ``moved`` (their open stay elsewhere was ended) or ``already_here``.
    result: str
    stay_id: int
    #: For a move: where they were (``shelter`` with ``from_shelter``, ``home`` or ``car``).
    from_place: str | None = None
    from_shelter: str | None = None
    #: For ``already_here``: who checked them in, and when.
    by: str | None = None
    at: dt.datetime | None = None


# ------------------------------------------------------------------ checks


def _active_incident(conn: Connection, incident_id: int | None):
    refused = SafetyRefused("safety.refused.no_incident", "there is no active incident")
    return active_incident(conn, incident_id, refused)


def _shelter(conn: Connection, shelter_id: int):
    refused = SafetyRefused(
        "safety.refused.no_shelter", f"shelter {shelter_id} does not exist", id=shelter_id
    )
    return existing_shelter(conn, shelter_id, refused)


def _require_desk(conn: Connection, viewer: Viewer, incident_id: int | None, shelter_id: int):
    """The viewer may run this shelter's reception now: the role, their own shelter, an active
    incident, the shelter open in it."""
    require_role(viewer, RECEPTION_ROLES, "run shelter reception")
    if viewer.role == "shelter_staff" and shelter_id not in viewer.shelter_ids:
        raise SafetyRefused(
            "safety.refused.not_your_shelter", f"shelter {shelter_id} is not one of yours"
        )
    _active_incident(conn, incident_id)
    shelter = _shelter(conn, shelter_id)
    op = ShelterOperation.__table__
    is_open = conn.execute(
        sa.select(op.c.id).where(
            op.c.shelter_id == shelter_id,
            op.c.incident_id == incident_id,
            op.c.closed_at.is_(None),
        )
    ).first()
    if is_open is None:
        raise SafetyRefused(
            "safety.refused.shelter_closed",
            f"shelter {shelter.name} is not open in this incident",
            shelter=shelter.name,
        )
    return shelter


def _open_stay(conn: Connection, incident_id: int, *, citizen_id=None, walk_in_id=None):
    st = EvacueeStay.__table__
    s = Shelter.__table__
    who = st.c.citizen_id == citizen_id if citizen_id is not None else st.c.walk_in_id == walk_in_id
    return conn.execute(
        sa.select(st, s.c.name.label("shelter_name"))
        .select_from(st.outerjoin(s, s.c.id == st.c.shelter_id))
        .where(st.c.incident_key == incident_id, who, st.c.left_at.is_(None))
    ).first()


def _citizens_exist(conn: Connection, citizen_ids: list[int]) -> None:
    found = set(
        conn.execute(sa.select(Citizen.id).where(Citizen.id.in_(citizen_ids))).scalars().all()
    )
    missing = [i for i in citizen_ids if i not in found]
    if missing:
        raise SafetyRefused(
            "safety.refused.unknown_citizen", f"unknown citizens {missing}", ids=missing
        )


def _clean(text: str | None, limit: int, what: str) -> str | None:
    value = (text or "").strip()
    if len(value) > limit:
        raise SafetyRefused(
            "safety.refused.too_long", f"{what}: at most {limit} characters", field=what, n=limit
        )
    return value or None


def chosen_people(citizen_ids: Iterable[int], ask: str) -> list[int]:
    """The people an action is about, each once in the order given; refused (``ask`` says what
    to choose) when there is nobody."""
    ids = list(dict.fromkeys(int(i) for i in citizen_ids))
    if not ids:
        raise SafetyRefused("safety.refused.nobody", ask)
    return ids


@contextmanager
def incident_transaction(
    engine: Engine, incident_id: int | None, citizen_ids: list[int]
) -> Iterator[Connection]:
    """A locked transaction (:func:`~sql.actions.activity.locked_transaction`) for an action on
    these people in an active incident: refused when there is none or a person is unknown."""
    with locked_transaction(engine) as conn:
        _active_incident(conn, incident_id)
        _citizens_exist(conn, citizen_ids)
        yield conn


# ------------------------------------------------------------------ writing stays


def _end_stay(conn: Connection, stay_id: int, viewer: Viewer, now: dt.datetime, reason: str):
    st = EvacueeStay.__table__
    ended = conn.execute(
        sa.update(st)
        .where(st.c.id == stay_id, st.c.left_at.is_(None))
        .values(left_at=now, left_by=viewer.subject, end_reason=reason),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    if ended != 1:  # never expected under the lock
        raise ConflictError("the stay was ended by someone else meanwhile; nothing was saved")


def _open_new_stay(conn: Connection, values: dict[str, Any]) -> int:
    try:
        with conn.begin_nested():
            return insert_returning_id(conn, EvacueeStay.__table__, **values)
    except sa.exc.IntegrityError as exc:
        raise ConflictError(
            "this person was checked in at the same moment by another desk; nothing was saved: "
            "search again",
            {"citizen_id": values.get("citizen_id")},
        ) from exc


def _observe(conn: Connection, viewer: Viewer, incident_id: int, now: dt.datetime, **values):
    conn.execute(
        sa.insert(SafetyObservation.__table__).values(
            incident_key=incident_id, observed_at=now, recorded_by=viewer.subject, **values
        )
    )


def _place_stay(
    conn: Connection,
    viewer: Viewer,
    incident_id: int,
    citizen_id: int,
    now: dt.datetime,
    party: str,
    new_stay: dict[str, Any],
    same_place,
) -> CheckIn:
    """Open a stay for one known person (ending their open stay elsewhere: a move)."""
    st = EvacueeStay.__table__
    current = _open_stay(conn, incident_id, citizen_id=citizen_id)
    if current is not None and same_place(current):
        return CheckIn(
            citizen_id, "already_here", current.id, by=current.arrived_by, at=current.arrived_at
        )
    if current is not None:
        _end_stay(conn, current.id, viewer, now, "moved")
    stay_id = _open_new_stay(
        conn,
        {
            "incident_key": incident_id,
            "citizen_id": citizen_id,
            "party": party,
            "arrived_at": now,
            "arrived_by": viewer.subject,
            **new_stay,
        },
    )
    if current is None:
        return CheckIn(citizen_id, "checked_in", stay_id)
    conn.execute(sa.update(st).where(st.c.id == current.id).values(moved_to=stay_id))
    return CheckIn(
        citizen_id,
        "moved",
        stay_id,
        from_place=current.place_kind,
        from_shelter=current.shelter_name,
    )


def _place_party(
    conn: Connection,
    viewer: Viewer,
    incident_id: int,
    citizen_ids: list[int],
    new_stay: dict[str, Any],
    same_place,
    observed: dict[str, Any],
) -> list[CheckIn]:
    """Place people who came together (one party, one moment): a stay each where they were
    not yet, and an observation of each one placed (``observed``: its source, outcome, where)."""
    now = utcnow()
    party = uuid.uuid4().hex
    done = [
        _place_stay(conn, viewer, incident_id, citizen_id, now, party, new_stay, same_place)
        for citizen_id in citizen_ids
    ]
    for outcome in done:
        if outcome.result != "already_here":
            _observe(
                conn,
                viewer,
                incident_id,
                now,
                citizen_id=outcome.citizen_id,
                stay_id=outcome.stay_id,
                **observed,
            )
    return done


def check_in(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    shelter_id: int,
    citizen_ids: Iterable[int],
    method: str = "search",
) -> list[CheckIn]:
    """Check one person, or a household together (``method="household"``), in at a shelter.

    Someone already staying elsewhere (another shelter, at home, in a car) is **moved**: that
    stay ends and the move is recorded. Someone already checked in here is left as they are and
    reported (``already_here``, with who and when) — two desks checking the same person in at
    once give one check-in, never two.
    """
    ids = chosen_people(citizen_ids, "choose whom to check in")
    if len(ids) > MAX_PARTY:
        raise SafetyRefused(
            "safety.refused.party_too_large", "too many people at once", n=MAX_PARTY
        )
    if method not in ("search", "qr", "household"):
        raise ValueError(f"unknown check-in method {method!r}")
    with locked_transaction(engine) as conn:
        _require_desk(conn, viewer, incident_id, shelter_id)
        _citizens_exist(conn, ids)
        done = _place_party(
            conn,
            viewer,
            incident_id,
            ids,
            {"place_kind": "shelter", "shelter_id": shelter_id, "method": method},
            lambda current: current.place_kind == "shelter" and current.shelter_id == shelter_id,
            {"source": "reception", "outcome": "checked_in", "shelter_id": shelter_id},
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "reception_check_in",
            "shelter",
            shelter_id,
            _summary(done, method),
            citizen_ids=tuple(ids),
        )
    return done


def _summary(done: list[CheckIn], method: str) -> dict[str, Any]:
    return {
        "method": method,
        "checked_in": sum(d.result == "checked_in" for d in done),
        "moved": sum(d.result == "moved" for d in done),
        "already_here": sum(d.result == "already_here" for d in done),
    }


def check_out(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    shelter_id: int,
    *,
    citizen_id: int | None = None,
    walk_in_id: int | None = None,
) -> int:
    """Check a person (or a walk-in party) out of this shelter; returns the stay's id.

    Refused with a clear reason — and nothing written — when they are not checked in here:
    never checked in, or staying elsewhere.
    """
    if (citizen_id is None) == (walk_in_id is None):
        raise ValueError("give exactly one of citizen_id and walk_in_id")
    with locked_transaction(engine) as conn:
        _require_desk(conn, viewer, incident_id, shelter_id)
        current = _open_stay(conn, incident_id, citizen_id=citizen_id, walk_in_id=walk_in_id)
        if current is None:
            raise SafetyRefused(
                "safety.refused.not_checked_in",
                "not checked in: there is no check-in to check out of",
            )
        if current.place_kind != "shelter" or current.shelter_id != shelter_id:
            raise SafetyRefused(
                "safety.refused.checked_in_elsewhere",
                "checked in elsewhere",
                place=current.place_kind,
                shelter=current.shelter_name or "",
            )
        now = utcnow()
        _end_stay(conn, current.id, viewer, now, "checked_out")
        if citizen_id is not None:
            _observe(
                conn,
                viewer,
                incident_id,
                now,
                citizen_id=citizen_id,
                source="reception",
                outcome="checked_out",
                shelter_id=shelter_id,
                stay_id=current.id,
            )
        log_action(
            conn,
            viewer,
            incident_id,
            "reception_check_out",
            "shelter",
            shelter_id,
            {"stay": current.id, "walk_in": walk_in_id},
            citizen_ids=(citizen_id,) if citizen_id is not None else (),
        )
    return int(current.id)


def register_walk_in(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    shelter_id: int,
    *,
    name: str,
    age_band: str,
    household_size: int = 1,
    kana: str | None = None,
    needs: str | None = None,
) -> tuple[int, int]:
    """Register and check in someone who is not in the system (with the people who came with
    them, ``household_size``); returns (walk-in id, stay id). The page suggests known citizens
    who match first (:func:`sql.policy.reception_search`): a match is checked in instead."""
    name = _clean(name, 100, "name")
    kana = _clean(kana, 100, "kana")
    needs = _clean(needs, 500, "needs")
    if not name:
        raise SafetyRefused("safety.refused.name_required", "a walk-in needs a name")
    if age_band not in WALK_IN_AGE_BANDS:
        raise SafetyRefused("safety.refused.age_band", f"unknown age band {age_band!r}")
    try:
        size = int(household_size)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= MAX_HOUSEHOLD:
        raise SafetyRefused(
            "safety.refused.household_size", "household size out of range", n=MAX_HOUSEHOLD
        )
    with locked_transaction(engine) as conn:
        _require_desk(conn, viewer, incident_id, shelter_id)
        now = utcnow()
        walk_in_id = insert_returning_id(
            conn,
            WalkIn.__table__,
            incident_key=incident_id,
            name=name,
            kana=kana,
            age_band=age_band,
            household_size=size,
            needs=needs,
            created_at=now,
            created_by=viewer.subject,
        )
        stay_id = _open_new_stay(
            conn,
            {
                "incident_key": incident_id,
                "walk_in_id": walk_in_id,
                "place_kind": "shelter",
                "shelter_id": shelter_id,
                "party": uuid.uuid4().hex,
                "method": "walk_in",
                "arrived_at": now,
                "arrived_by": viewer.subject,
            },
        )
        log_action(
            conn,
            viewer,
            incident_id,
            "reception_walk_in",
            "shelter",
            shelter_id,
            {"walk_in": int(walk_in_id), "household_size": size, "age_band": age_band},
        )
    return int(walk_in_id), stay_id


# ------------------------------------------------------------------ at home, in a car


def record_place(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_ids: Iterable[int],
    place_kind: str,
    place: str,
) -> list[CheckIn]:
    """Record people sheltering at home (``home``, 在宅避難) or in a car (``car``, 車中泊) at
    ``place`` (headquarters or a rescue team). A stay elsewhere ends (a move)."""
    require_role(viewer, PLACE_ROLES, "record evacuees at home or in cars")
    if place_kind not in ("home", "car"):
        raise ValueError(f"place_kind must be home or car, not {place_kind!r}")
    place = _clean(place, 200, "place")
    if not place:
        raise SafetyRefused("safety.refused.place_required", "say where they are")
    ids = chosen_people(citizen_ids, "choose whom to record")
    method = "rescue" if viewer.role == "rescue" else "hq"
    with incident_transaction(engine, incident_id, ids) as conn:
        done = _place_party(
            conn,
            viewer,
            incident_id,
            ids,
            {"place_kind": place_kind, "place": place, "method": method},
            lambda current: current.place_kind == place_kind and current.place == place,
            {
                "source": "rescue" if method == "rescue" else "hq",
                "outcome": "at_home" if place_kind == "home" else "in_car",
                "place": place,
            },
        )
        log_action(
            conn,
            viewer,
            incident_id,
            f"place_{place_kind}_recorded",
            "citizen",
            ",".join(map(str, ids))[:64],
            _summary(done, method),
            citizen_ids=tuple(ids),
        )
    return done
