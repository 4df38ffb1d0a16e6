"""The personal-data policy: consent × role × mode, decided here and nowhere else.

Every query that returns personal data about citizens lives in this module, takes the
:class:`~sql.viewer.Viewer`, applies the rules below, and appends what it returned to the audit
log (:mod:`sql.audit`). Pages have no other way to personal data.

Rules
-----
- ``rescue`` (消防・救助) sees the exact position of citizens who asked for rescue, always.
- ``hq`` (災害対策本部) sees individual positions only in emergency mode (有事モード): rescue
  requests (the requester sent the position to be rescued), and the home of register people.
  Live positions of other citizens only where the citizen consented to share ``location`` with
  ``city_hq``. In normal mode ``hq`` sees rescue requests without position.
- ``shelter_staff`` sees only the arrivals of their own shelters.
- ``researcher``, ``council`` and ``admin`` get aggregates only (no rows from this module).
- The evacuation-support register (避難行動要支援者名簿): in normal times only the entries whose
  person consented to sharing (災害対策基本法 第49条の11第2項); in an emergency every entry, to
  ``hq`` and ``rescue`` (同第3項).
- Names, phone numbers and household addresses only where ``basic_info`` is shared with
  ``city_hq`` — except register entries, which carry them by law.
- Consent is read from ``consent_state`` at query time: a withdrawal takes effect on the next
  query — for the register's normal-time consent too (a ``support_register`` withdrawal in the
  ledger overrides the entry's ``normal_time_consent``).

Auditing: every call that returns personal data appends one audit row naming the citizens it
returned. Identical repeated views (the 10-second auto-refresh of an unchanged map) are recorded
once per :data:`AUDIT_REPEAT_WINDOW` per viewer and query, so the chain stays readable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import audit
from .consent import consenting_citizens
from .frames import query_frame, query_ids
from .id_lists import in_ids
from .models import (
    Citizen,
    CitizenLatestStatus,
    ConsentState,
    Household,
    Incident,
    LocationFix,
    RescueRequest,
    Shelter,
    SupportRegisterEntry,
)
from .models.vocab import RESCUE_OPEN_STATUSES, SAFE_STATES
from .queries.rescue import status_as_of
from .viewer import Viewer

AGGREGATE_ONLY_ROLES = frozenset({"researcher", "council", "admin"})
#: Seconds during which an identical view by the same viewer is audited only once.
AUDIT_REPEAT_WINDOW = 300.0


class PolicyDenied(PermissionError):
    """The viewer's role may not see this personal data (the page shows aggregates instead)."""


# ------------------------------------------------------------------ decisions


@dataclasses.dataclass(frozen=True)
class Mode:
    """The incident context a decision is taken in."""

    incident_id: int | None
    emergency: bool
    drill: bool = False


def mode_of(engine: Engine, incident_id: int | None) -> Mode:
    """Emergency mode is a property of an active incident (declared, not ended)."""
    if incident_id is None:
        return Mode(None, False)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(Incident.emergency_mode, Incident.ended_at, Incident.kind).where(
                Incident.id == incident_id
            )
        ).first()
    if row is None:
        return Mode(incident_id, False)
    return Mode(incident_id, bool(row.emergency_mode and row.ended_at is None), row.kind == "drill")


def may_see_rescue_positions(viewer: Viewer, mode: Mode) -> bool:
    return viewer.role == "rescue" or (viewer.role == "hq" and mode.emergency)


def may_see_rescue_requests(viewer: Viewer) -> bool:
    return viewer.role in ("rescue", "hq")


def may_see_register(viewer: Viewer) -> bool:
    return viewer.role in ("hq", "rescue")


def register_scope(mode: Mode) -> str:
    """``"all"`` in an emergency (第49条の11第3項), else ``"consented"`` (第2項)."""
    return "all" if mode.emergency else "consented"


def may_see_live_positions(viewer: Viewer, mode: Mode) -> bool:
    return viewer.role == "rescue" or (viewer.role == "hq" and mode.emergency)


def _require(allowed: bool, viewer: Viewer, what: str) -> None:
    if not allowed:
        raise PolicyDenied(f"role {viewer.role!r} may not see {what}")


# ------------------------------------------------------------------ auditing

_recent: dict[tuple[str, str, str], float] = {}
_recent_lock = threading.Lock()


def _audit_view(
    engine: Engine,
    viewer: Viewer,
    target: str,
    citizen_ids: Iterable[int],
    details: dict[str, Any] | None = None,
) -> None:
    ids = sorted({int(c) for c in citizen_ids if c is not None and not pd.isna(c)})
    if not ids:
        return
    digest = hashlib.sha256(
        f"{engine.url}|{viewer.incident_id}|{details}|{ids}".encode()
    ).hexdigest()
    key = (viewer.subject, target, digest)
    now = time.monotonic()
    with _recent_lock:
        seen = _recent.get(key)
        if seen is not None and now - seen < AUDIT_REPEAT_WINDOW:
            return
        if len(_recent) > 10_000:
            _recent.clear()
        _recent[key] = now
    audit.record(engine, viewer, "read", target=target, citizen_ids=ids, details=details)


def forget_recent_views() -> None:
    """Audit the next view even when identical to a recent one (tests, sign-out)."""
    with _recent_lock:
        _recent.clear()


# ------------------------------------------------------------------ helpers


def _consented(data_item: str) -> sa.Select:
    return consenting_citizens(data_item, "city_hq")


def _consent_join(data_item: str, citizen_column: sa.ColumnElement):
    """(alias of consent_state, ON clause) for an outer join that finds the citizen's consent
    for ``data_item`` shared with the city in force now — by primary-key lookup per row."""
    state = ConsentState.__table__.alias(f"consent_{data_item}")
    on = sa.and_(
        state.c.citizen_id == citizen_column,
        state.c.data_item == data_item,
        state.c.share_target == "city_hq",
        state.c.event_type == "given",
        sa.or_(state.c.expires_at.is_(None), state.c.expires_at > now_utc()),
    )
    return state, on


def _register_consent_in_force(reg) -> sa.ColumnElement[bool]:
    """The register entry's normal-time consent (第49条の11第2項), unless the person has since
    withdrawn ``support_register`` for the city in the consent ledger (or it expired): the
    ledger's latest word wins on the next query."""
    state = ConsentState.__table__
    revoked = (
        sa.select(state.c.citizen_id)
        .where(
            state.c.citizen_id == reg.c.citizen_id,
            state.c.data_item == "support_register",
            state.c.share_target == "city_hq",
            sa.or_(
                state.c.event_type != "given",
                sa.and_(state.c.expires_at.is_not(None), state.c.expires_at <= now_utc()),
            ),
        )
        .exists()
    )
    return sa.and_(reg.c.normal_time_consent.is_(True), ~revoked)


def _incident_filter(column: sa.ColumnElement, incident_id: int | None) -> sa.ColumnElement[bool]:
    return column == incident_id if incident_id else column.is_(None)


# ------------------------------------------------------------------ rescue requests

RESCUE_COLUMNS = (
    "id",
    "citizen_id",
    "status",
    "priority",
    "people_count",
    "injured_count",
    "needs",
    "assigned_team",
    "requested_at",
    "updated_at",
    "version",
    "lat",
    "lon",
    "district",
    "name",
    "phone",
    "on_register",
)


#: What the rescue queue's table shows and scores: no contact details (name, phone), needs or
#: versions — the request's panel reads those for the one request it opens.
RESCUE_QUEUE_COLUMNS = tuple(
    c for c in RESCUE_COLUMNS if c not in ("name", "phone", "needs", "updated_at", "version")
)
#: What the HQ map draws and scores of a request: no names, phones or districts.
RESCUE_MAP_COLUMNS = tuple(
    c for c in RESCUE_QUEUE_COLUMNS if c not in ("district", "assigned_team")
)
RESCUE_FIELDS = {"full": RESCUE_COLUMNS, "queue": RESCUE_QUEUE_COLUMNS, "map": RESCUE_MAP_COLUMNS}


def rescue_requests(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    *,
    open_only: bool = False,
    statuses: Iterable[str] | None = None,
    request_ids: Iterable[int] | None = None,
    as_of: dt.datetime | None = None,
    fields: str = "full",
) -> pd.DataFrame:
    """Rescue requests of an incident as the viewer may see them.

    ``lat``/``lon`` are empty where the viewer may not see positions; ``name``/``phone`` where
    the citizen has not shared basic information with the city (register people excepted in an
    emergency). ``as_of`` gives the requests made by then, with their status then (replay).
    ``statuses`` keeps those statuses only (``open_only``: the open ones).

    ``fields`` says which columns are read (:data:`RESCUE_FIELDS`): ``"full"`` for a request's
    panel, ``"queue"`` for the queue's table (no contact details, so no consent lookup per
    request) and ``"map"`` for the HQ map's points (no names, phones or districts: the request
    table alone). At 1.2 M citizens and 29,000 requests the difference is 580 ms of server time
    against tens of milliseconds (docs/SCALING.md).
    """
    _require(may_see_rescue_requests(viewer), viewer, "rescue requests")
    if fields not in RESCUE_FIELDS:
        raise ValueError(f"fields must be one of {', '.join(RESCUE_FIELDS)}, not {fields!r}")
    wanted = RESCUE_FIELDS[fields]
    mode = mode_of(engine, incident_id)
    rr = RescueRequest.__table__
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    on_register = sa.exists().where(reg.c.citizen_id == rr.c.citizen_id)
    then = status_as_of(incident_id, as_of) if as_of is not None else None
    status = then.c.status if then is not None else rr.c.status
    joined = rr
    if then is not None:
        joined = joined.join(then, then.c.id == rr.c.id)
    columns: dict[str, sa.ColumnElement] = {
        "id": rr.c.id,
        "citizen_id": rr.c.citizen_id,
        "status": status.label("status"),
        "priority": rr.c.priority,
        "people_count": rr.c.people_count,
        "injured_count": rr.c.injured_count,
        "needs": rr.c.needs,
        "assigned_team": rr.c.assigned_team,
        "requested_at": rr.c.requested_at,
        "updated_at": rr.c.updated_at,
        "version": rr.c.version,
        "lat": rr.c.lat,
        "lon": rr.c.lon,
        "on_register": on_register.label("on_register"),
    }
    if "district" in wanted:
        # A lookup per request by primary key: a join lets PostgreSQL's default costs choose a
        # sequential scan of every citizen for a few thousand requests.
        home = c.alias("home")
        district = sa.select(home.c.district).where(home.c.id == rr.c.citizen_id).scalar_subquery()
        columns["district"] = district.label("district")
    if "name" in wanted:
        joined = joined.outerjoin(c, c.c.id == rr.c.citizen_id)
        basic, basic_on = _consent_join("basic_info", rr.c.citizen_id)
        joined = joined.outerjoin(basic, basic_on)
        named = sa.or_(basic.c.citizen_id.is_not(None), sa.and_(on_register, mode.emergency))
        columns["name"] = sa.case((named, c.c.name), else_=None).label("name")
        columns["phone"] = sa.case((named, c.c.phone), else_=None).label("phone")
    stmt = (
        sa.select(*[columns[name] for name in wanted])
        .select_from(joined)
        .where(_incident_filter(rr.c.incident_id, incident_id))
        .order_by(rr.c.requested_at, rr.c.id)
    )
    if open_only:
        stmt = stmt.where(status.in_(RESCUE_OPEN_STATUSES))
    if statuses is not None:
        stmt = stmt.where(status.in_(list(statuses)))
    if request_ids is not None:
        stmt = stmt.where(rr.c.id.in_(list(request_ids)))
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["on_register"] = frame["on_register"].astype(bool)
    if not may_see_rescue_positions(viewer, mode):
        frame["lat"] = None
        frame["lon"] = None
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.rescue_requests",
        frame["citizen_id"].dropna().astype(int),
        {
            "positions": may_see_rescue_positions(viewer, mode),
            "rows": len(frame),
            **({"fields": fields} if fields != "full" else {}),
        },
    )
    return frame


# ------------------------------------------------------------------ the register


def register_people(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    *,
    unconfirmed_only: bool = False,
    with_household: bool = True,
) -> pd.DataFrame:
    """Evacuation-support register entries the viewer may see, with their latest status.

    Columns: citizen_id, name, kana, district, address, lat, lon, needs, care_level,
    supporter_name, supporter_phone, supporter_relation, household_id, household_size, state,
    last_contact_at, confirmed (a safe state), normal_time_consent. (The HQ map asks
    :func:`register_map_points` instead.)
    """
    _require(may_see_register(viewer), viewer, "the evacuation-support register")
    mode = mode_of(engine, incident_id)
    reg = SupportRegisterEntry.__table__
    c = Citizen.__table__
    ls = CitizenLatestStatus.__table__
    member = c.alias("member")
    household_size = (
        sa.select(sa.func.count())
        .where(member.c.household_id == c.c.household_id)
        .scalar_subquery()
        if with_household
        else sa.null()
    )
    stmt = (
        sa.select(
            reg.c.citizen_id,
            c.c.name,
            c.c.kana,
            c.c.district,
            c.c.address,
            c.c.home_lat.label("lat"),
            c.c.home_lon.label("lon"),
            c.c.birth_date,
            reg.c.needs,
            reg.c.care_level,
            reg.c.supporter_name,
            reg.c.supporter_phone,
            reg.c.supporter_relation,
            c.c.household_id,
            household_size.label("household_size"),
            ls.c.state,
            ls.c.reported_at.label("last_contact_at"),
            _register_consent_in_force(reg).label("normal_time_consent"),
        )
        .select_from(
            reg.join(c, c.c.id == reg.c.citizen_id).outerjoin(
                ls,
                sa.and_(
                    ls.c.citizen_id == reg.c.citizen_id, ls.c.incident_key == (incident_id or 0)
                ),
            )
        )
        .order_by(ls.c.reported_at.is_not(None), ls.c.reported_at, reg.c.citizen_id)
    )
    if register_scope(mode) == "consented":
        stmt = stmt.where(_register_consent_in_force(reg))
    if unconfirmed_only:
        stmt = stmt.where(sa.or_(ls.c.state.is_(None), ls.c.state.not_in(SAFE_STATES)))
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["confirmed"] = frame["state"].isin(SAFE_STATES)
    frame["normal_time_consent"] = frame["normal_time_consent"].astype(bool)
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.register_people",
        frame["citizen_id"],
        {"scope": register_scope(mode), "unconfirmed_only": unconfirmed_only},
    )
    return frame


def register_map_points(
    engine: Engine, viewer: Viewer, incident_id: int | None, candidates: Iterable[int]
) -> np.ndarray:
    """Which of ``candidates`` the viewer may see as points on the HQ map now (sorted ids).

    The map proposes the register people it would draw — not known safe by its live status —
    and this decides, under the same role, consent and mode rules as :func:`register_people`,
    and audits the view (``map_points_only``). The map draws them at the home points it holds
    for its status cells, so a refresh reads no names, addresses or supporters and no citizen
    row: at 1.2 M citizens the register layer's read went from 640 ms (homes joined in) to a
    few tens of milliseconds (docs/SCALING.md).
    """
    _require(may_see_register(viewer), viewer, "the evacuation-support register")
    mode = mode_of(engine, incident_id)
    reg = SupportRegisterEntry.__table__
    stmt = (
        sa.select(reg.c.citizen_id)
        .where(in_ids(engine, reg.c.citizen_id, candidates))
        .order_by(reg.c.citizen_id)
    )
    if register_scope(mode) == "consented":
        stmt = stmt.where(_register_consent_in_force(reg))
    with engine.connect() as conn:
        ids = query_ids(conn, stmt)
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.register_people",
        ids,
        {"scope": register_scope(mode), "unconfirmed_only": True, "map_points_only": True},
    )
    return ids


def register_counts(engine: Engine, incident_id: int | None) -> dict[str, int]:
    """Aggregate (any role): register entries, and those not yet confirmed safe."""
    reg = SupportRegisterEntry.__table__
    ls = CitizenLatestStatus.__table__
    with engine.connect() as conn:
        total, unconfirmed = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(
                    sa.or_(ls.c.state.is_(None), ls.c.state.not_in(SAFE_STATES))
                ),
            ).select_from(
                reg.outerjoin(
                    ls,
                    sa.and_(
                        ls.c.citizen_id == reg.c.citizen_id,
                        ls.c.incident_key == (incident_id or 0),
                    ),
                )
            )
        ).one()
    return {"total": int(total), "unconfirmed": int(unconfirmed or 0)}


# ------------------------------------------------------------------ shelter arrivals


def shelter_arrivals(
    engine: Engine, viewer: Viewer, incident_id: int | None, shelter_id: int
) -> pd.DataFrame:
    """Citizens whose latest status is 'at this shelter' (name where basic info is shared)."""
    mode = mode_of(engine, incident_id)
    allowed = (viewer.role == "shelter_staff" and shelter_id in viewer.shelter_ids) or (
        viewer.role == "hq" and mode.emergency
    )
    _require(allowed, viewer, f"arrivals at shelter {shelter_id}")
    c = Citizen.__table__
    ls = CitizenLatestStatus.__table__
    basic, basic_on = _consent_join("basic_info", ls.c.citizen_id)
    named = basic.c.citizen_id.is_not(None)
    stmt = (
        sa.select(
            ls.c.citizen_id,
            sa.case((named, c.c.name), else_=None).label("name"),
            sa.case((named, c.c.kana), else_=None).label("kana"),
            c.c.household_id,
            ls.c.reported_at.label("arrived_at"),
        )
        .select_from(ls.join(c, c.c.id == ls.c.citizen_id).outerjoin(basic, basic_on))
        .where(
            ls.c.incident_key == (incident_id or 0),
            ls.c.state == "at_shelter",
            ls.c.shelter_id == shelter_id,
        )
        .order_by(ls.c.reported_at)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.shelter_arrivals",
        frame["citizen_id"],
        {"shelter_id": shelter_id},
    )
    return frame


# ------------------------------------------------------------------ live positions


def live_positions(
    engine: Engine, viewer: Viewer, incident_id: int | None, citizen_ids: Iterable[int]
) -> pd.DataFrame:
    """The newest location fix of the given citizens who share ``location`` with the city."""
    mode = mode_of(engine, incident_id)
    _require(may_see_live_positions(viewer, mode), viewer, "live positions")
    ids = sorted({int(i) for i in citizen_ids})
    lf = LocationFix.__table__
    consent = _consented("location").subquery()
    ranked = (
        sa.select(
            lf.c.citizen_id,
            lf.c.lat,
            lf.c.lon,
            lf.c.accuracy_m,
            lf.c.fixed_at,
            sa.func.row_number()
            .over(partition_by=lf.c.citizen_id, order_by=(lf.c.fixed_at.desc(), lf.c.id.desc()))
            .label("rn"),
        )
        .join(consent, consent.c.citizen_id == lf.c.citizen_id)
        .where(lf.c.citizen_id.in_(ids), _incident_filter(lf.c.incident_id, incident_id))
        .subquery()
    )
    stmt = sa.select(
        ranked.c.citizen_id, ranked.c.lat, ranked.c.lon, ranked.c.accuracy_m, ranked.c.fixed_at
    ).where(ranked.c.rn == 1)
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    _audit_view(
        engine, viewer.for_incident(incident_id), "policy.live_positions", frame["citizen_id"]
    )
    return frame


# ------------------------------------------------------------------ households


def households_unaccounted(engine: Engine, viewer: Viewer, incident_id: int | None) -> pd.DataFrame:
    """Households with at least one member not confirmed safe: household, district, address,
    members, confirmed, unaccounted (addresses only to ``hq``/``rescue`` in an emergency, and
    only where a member shares basic information with the city or is on the register)."""
    mode = mode_of(engine, incident_id)
    _require(viewer.role in ("hq", "rescue") and mode.emergency, viewer, "household details")
    c = Citizen.__table__
    h = Household.__table__
    ls = CitizenLatestStatus.__table__
    reg = SupportRegisterEntry.__table__
    basic, basic_on = _consent_join("basic_info", c.c.id)
    safe = sa.case((ls.c.state.in_(SAFE_STATES), 1), else_=0)
    # The address is basic information: shown where a member shares it with the city, or is
    # on the register (carried by law in an emergency, 第49条の11第3項).
    shares_address = sa.case(
        (sa.or_(basic.c.citizen_id.is_not(None), reg.c.id.is_not(None)), 1), else_=0
    )
    per_household = (
        sa.select(
            c.c.household_id,
            sa.func.count().label("members"),
            sa.func.sum(safe).label("confirmed"),
            sa.func.min(c.c.id).label("first_member"),
            sa.func.max(shares_address).label("address_shared"),
        )
        .select_from(
            c.outerjoin(
                ls, sa.and_(ls.c.citizen_id == c.c.id, ls.c.incident_key == (incident_id or 0))
            )
            .outerjoin(basic, basic_on)
            .outerjoin(reg, reg.c.citizen_id == c.c.id)
        )
        .where(c.c.household_id.is_not(None))
        .group_by(c.c.household_id)
        .subquery()
    )
    stmt = (
        sa.select(
            per_household.c.household_id,
            h.c.district,
            sa.case((per_household.c.address_shared == 1, h.c.address), else_=None).label(
                "address"
            ),
            per_household.c.members,
            per_household.c.confirmed,
            (per_household.c.members - per_household.c.confirmed).label("unaccounted"),
        )
        .join(h, h.c.id == per_household.c.household_id)
        .where(per_household.c.members > per_household.c.confirmed)
        .order_by(
            (per_household.c.members - per_household.c.confirmed).desc(),
            per_household.c.household_id,
        )
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
        member_ids = (
            conn.execute(
                sa.select(c.c.id).where(c.c.household_id.in_(frame["household_id"].tolist()))
            )
            .scalars()
            .all()
            if len(frame)
            else []
        )
    _audit_view(
        engine, viewer.for_incident(incident_id), "policy.households_unaccounted", member_ids
    )
    return frame


def shelter_names(engine: Engine) -> dict[int, str]:
    """Not personal: shelter id → name (for labelling personal rows)."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Shelter.id, Shelter.name)).all())


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ------------------------------------------------------------------ notification recipients

#: How a notification's recipients were chosen → the consent that must be in force.
RECIPIENT_BASES = ("everyone", "home_location", "register")
NOTIFY_ROLES = ("hq",)


def notification_recipients(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    candidate_ids: Iterable[int] | None,
    basis: str,
) -> pd.DataFrame:
    """Who a push notification would reach: ``citizen_id`` and city-OS ``subject``.

    ``basis`` says how the candidates were chosen: ``everyone`` (``candidate_ids`` None: all
    opted-in citizens), ``home_location`` (by where they live — a hazard zone, a circle, a
    shelter's catchment, households: only citizens who share their basic information, which
    holds the address, with the city) or ``register`` (the evacuation-support register, in the
    register's scope for the mode). The list is audited; pages show only its size.
    """
    _require(viewer.role in NOTIFY_ROLES, viewer, "notification recipients")
    if basis not in RECIPIENT_BASES:
        raise ValueError(f"unknown recipient basis {basis!r}")
    mode = mode_of(engine, incident_id)
    c = Citizen.__table__
    stmt = sa.select(c.c.id.label("citizen_id"), c.c.subject)
    if basis == "home_location":
        basic, basic_on = _consent_join("basic_info", c.c.id)
        stmt = stmt.select_from(c.join(basic, basic_on))
    elif basis == "register":
        reg = SupportRegisterEntry.__table__
        stmt = stmt.select_from(c.join(reg, reg.c.citizen_id == c.c.id))
        if register_scope(mode) == "consented":
            stmt = stmt.where(_register_consent_in_force(reg))
    ids = None if candidate_ids is None else sorted({int(i) for i in candidate_ids})
    frames = []
    with engine.connect() as conn:
        if ids is None:
            frames.append(query_frame(conn, stmt.order_by(c.c.id)))
        else:
            for start in range(0, len(ids), 5_000):
                chunk = ids[start : start + 5_000]
                frames.append(query_frame(conn, stmt.where(c.c.id.in_(chunk)).order_by(c.c.id)))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.notification_recipients",
        out.get("citizen_id", []),
        {"basis": basis, "count": len(out)},
    )
    return out


# ------------------------------------------------------------------ register downloads


def register_download(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_ids: Iterable[int],
    *,
    file_format: str = "csv",
    filters: dict[str, Any] | None = None,
) -> str:
    """Record that the viewer downloaded these register entries as a file; returns the
    download's id.

    A file leaves the system, so every download is audited — an identical one a minute later
    too (each gets its own id, so the repeat window never swallows it). Only entries the viewer
    may see now can be downloaded: ``hq``/``rescue``, in the register's scope for the mode
    (第49条の11第2項 in normal times, 第3項 in an emergency); anything else is refused.
    """
    _require(may_see_register(viewer), viewer, "the evacuation-support register")
    ids = sorted({int(i) for i in citizen_ids})
    mode = mode_of(engine, incident_id)
    reg = SupportRegisterEntry.__table__
    allowed = sa.select(reg.c.citizen_id)
    if register_scope(mode) == "consented":
        allowed = allowed.where(_register_consent_in_force(reg))
    with engine.connect() as conn:
        permitted: set[int] = set()
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            permitted.update(
                conn.execute(allowed.where(reg.c.citizen_id.in_(chunk))).scalars().all()
            )
    outside = [i for i in ids if i not in permitted]
    if outside:
        raise PolicyDenied(
            f"{len(outside)} of the {len(ids)} citizens are not register entries this viewer "
            f"may download (scope {register_scope(mode)!r})"
        )
    download_id = hashlib.sha256(f"{time.time_ns()}|{viewer.subject}|{ids}".encode()).hexdigest()
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.register_download",
        ids,
        {
            "scope": register_scope(mode),
            "format": file_format,
            "rows": len(ids),
            "filters": filters or {},
            "download": download_id[:16],
        },
    )
    return download_id[:16]
