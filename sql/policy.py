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
returned, the mode and the fields it disclosed — and commits it *before* the data leaves: if the
audit write fails, the call raises and returns nothing. Identical repeated views (the 10-second
auto-refresh of an unchanged map) are recorded once per :data:`AUDIT_REPEAT_WINDOW`; "identical"
means the same viewer, purpose, mode (normal / emergency / drill), disclosed fields and citizens,
so an emergency declared meanwhile, or a field newly disclosed, is always a new row.
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
    EvacuationPlan,
    EvacueeStay,
    FollowUp,
    Household,
    Incident,
    LocationFix,
    RescueRequest,
    SafetyObservation,
    Shelter,
    StatusReport,
    SupportRegisterEntry,
    WalkIn,
)
from .models.base import utcnow
from .models.vocab import RESCUE_OPEN_STATUSES, SAFE_STATES
from .queries import safety_picture
from .queries.rescue import status_as_of
from .queries.safety import per_household
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


#: Roles that see no individuals (research and reporting): every aggregate shown to them is
#: small-cell suppressed (``analytics.small_cells``) — pages, maps, charts, downloads, reports.
SMALL_CELL_ROLES = frozenset({"researcher", "council"})


def sees_exact_counts(viewer: Viewer) -> bool:
    """False for the roles whose aggregates are small-cell suppressed (:data:`SMALL_CELL_ROLES`);
    the operational roles see exact counts (they act on the people behind them)."""
    return viewer.role not in SMALL_CELL_ROLES


def may_see_household_details(viewer: Viewer, mode: Mode) -> bool:
    return viewer.role in ("hq", "rescue") and mode.emergency


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

_recent: dict[tuple[str, ...], float] = {}
_recent_lock = threading.Lock()


def mode_name(mode: Mode) -> str:
    """``normal``, ``emergency`` or ``drill`` (a drill in emergency mode: ``drill_emergency``)."""
    if mode.drill:
        return "drill_emergency" if mode.emergency else "drill"
    return "emergency" if mode.emergency else "normal"


def disclosed_fields(frame: pd.DataFrame, personal: Iterable[str]) -> list[str]:
    """The personal columns of ``frame`` that carry at least one value (what actually left)."""
    return sorted(c for c in personal if c in frame and frame[c].notna().any())


def _audit_view(
    engine: Engine,
    viewer: Viewer,
    target: str,
    citizen_ids: Iterable[int],
    details: dict[str, Any] | None = None,
    *,
    mode: Mode,
    fields: Iterable[str] = (),
) -> None:
    """Write the view's audit row and commit it — before the caller returns any data.

    An identical view (same viewer, purpose, mode, disclosed fields and citizens, same other
    details) within :data:`AUDIT_REPEAT_WINDOW` is recorded once. The "recently audited" mark
    is set only after the row is committed: if the write fails the error propagates (the
    caller returns nothing) and the next identical view writes the row.
    """
    ids = sorted({int(c) for c in citizen_ids if c is not None and not pd.isna(c)})
    if not ids:
        return
    field_set = sorted(set(fields))
    details = {**(details or {}), "mode": mode_name(mode), "fields": field_set}
    digest = hashlib.sha256(
        f"{engine.url}|{viewer.incident_id}|{sorted(details.items())}|{ids}".encode()
    ).hexdigest()
    key = (viewer.subject, viewer.role, viewer.purpose, mode_name(mode), target, digest)
    now = time.monotonic()
    with _recent_lock:
        seen = _recent.get(key)
        if seen is not None and now - seen < AUDIT_REPEAT_WINDOW:
            return
    audit.record(engine, viewer, "read", target=target, citizen_ids=ids, details=details)
    with _recent_lock:
        if len(_recent) > 10_000:
            _recent.clear()
        _recent[key] = time.monotonic()


#: The personal columns the safety loop's reads may disclose (what an audit row names).
SAFETY_PERSONAL = (
    "name",
    "kana",
    "birth_date",
    "address",
    "phone",
    "lat",
    "lon",
    "district",
    "needs",
    "supporters",
    "note",
    "place",
)


def _audit_frame(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    target: str,
    frame: pd.DataFrame,
    details: dict[str, Any] | None = None,
    *,
    mode: Mode,
    personal: Iterable[str] = SAFETY_PERSONAL,
) -> None:
    """Audit a read of ``frame``'s citizens for the incident, naming the ``personal`` fields
    that actually left (:func:`disclosed_fields`; by default the safety loop's)."""
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        target,
        frame["citizen_id"],
        details,
        mode=mode,
        fields=disclosed_fields(frame, personal),
    )


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
        sa.or_(state.c.expires_at.is_(None), state.c.expires_at > utcnow()),
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
                sa.and_(state.c.expires_at.is_not(None), state.c.expires_at <= utcnow()),
            ),
        )
        .exists()
    )
    return sa.and_(reg.c.normal_time_consent.is_(True), ~revoked)


def _query(engine: Engine, stmt) -> pd.DataFrame:
    """The statement's rows as a frame, read on a connection of their own."""
    with engine.connect() as conn:
        return query_frame(conn, stmt)


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
    "address",
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
    c for c in RESCUE_QUEUE_COLUMNS if c not in ("district", "address", "assigned_team")
)
RESCUE_FIELDS = {"full": RESCUE_COLUMNS, "queue": RESCUE_QUEUE_COLUMNS, "map": RESCUE_MAP_COLUMNS}
#: The columns of a request that say something about its person (audited as disclosed fields).
RESCUE_PERSONAL = ("lat", "lon", "address", "name", "phone", "needs", "district")


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
    if "address" in wanted:
        # Where the rescuer goes: the requester's home address (as precise as the position,
        # so shown only where the position is; see below).
        home = c.alias("home_address")
        address = sa.select(home.c.address).where(home.c.id == rr.c.citizen_id).scalar_subquery()
        columns["address"] = address.label("address")
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
    frame = _query(engine, stmt)
    frame["on_register"] = frame["on_register"].astype(bool)
    if not may_see_rescue_positions(viewer, mode):
        frame["lat"] = None
        frame["lon"] = None
        if "address" in frame:
            frame["address"] = None
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.rescue_requests",
        frame,
        {
            "positions": may_see_rescue_positions(viewer, mode),
            "rows": len(frame),
            **({"view": fields} if fields != "full" else {}),
        },
        mode=mode,
        personal=RESCUE_PERSONAL,
    )
    return frame


# ------------------------------------------------------------------ the register


#: The columns of a register entry that say something about its person.
REGISTER_PERSONAL = (
    "name",
    "kana",
    "district",
    "address",
    "lat",
    "lon",
    "birth_date",
    "needs",
    "care_level",
    "supporter_name",
    "supporter_phone",
    "supporter_relation",
    "household_id",
)


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
    frame = _query(engine, stmt)
    frame["confirmed"] = frame["state"].isin(SAFE_STATES)
    frame["normal_time_consent"] = frame["normal_time_consent"].astype(bool)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.register_people",
        frame,
        {"scope": register_scope(mode), "unconfirmed_only": unconfirmed_only},
        mode=mode,
        personal=REGISTER_PERSONAL,
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
        mode=mode,
        fields=("lat", "lon"),
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
    frame = _query(engine, stmt)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.shelter_arrivals",
        frame,
        {"shelter_id": shelter_id},
        mode=mode,
        personal=("name", "kana", "household_id", "arrived_at"),
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
    frame = _query(engine, stmt)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.live_positions",
        frame,
        mode=mode,
        personal=("lat", "lon", "accuracy_m", "fixed_at"),
    )
    return frame


# ------------------------------------------------------------------ households


def households_unaccounted(engine: Engine, viewer: Viewer, incident_id: int | None) -> pd.DataFrame:
    """Households with at least one member not confirmed safe: household, district, address,
    members, confirmed, unaccounted (addresses only to ``hq``/``rescue`` in an emergency, and
    only where a member shares basic information with the city or is on the register)."""
    mode = mode_of(engine, incident_id)
    _require(may_see_household_details(viewer, mode), viewer, "household details")
    c = Citizen.__table__
    h = Household.__table__
    reg = SupportRegisterEntry.__table__
    basic, basic_on = _consent_join("basic_info", c.c.id)
    # The address is basic information: shown where a member shares it with the city, or is
    # on the register (carried by law in an emergency, 第49条の11第3項).
    shares_address = sa.case(
        (sa.or_(basic.c.citizen_id.is_not(None), reg.c.id.is_not(None)), 1), else_=0
    )
    households = per_household(
        incident_id,
        sa.func.max(shares_address).label("address_shared"),
        joined=lambda members: members.outerjoin(basic, basic_on).outerjoin(
            reg, reg.c.citizen_id == c.c.id
        ),
    )
    unaccounted = households.c.members - households.c.confirmed
    stmt = (
        sa.select(
            households.c.household_id,
            h.c.district,
            sa.case((households.c.address_shared == 1, h.c.address), else_=None).label("address"),
            households.c.members,
            households.c.confirmed,
            unaccounted.label("unaccounted"),
        )
        .join(h, h.c.id == households.c.household_id)
        .where(unaccounted > 0)
        .order_by(unaccounted.desc(), households.c.household_id)
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
        engine,
        viewer.for_incident(incident_id),
        "policy.households_unaccounted",
        member_ids,
        mode=mode,
        fields=disclosed_fields(frame, ("district", "address", "members", "confirmed")),
    )
    return frame


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
        mode=mode,
        fields=("subject",),
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
        mode=mode,
        fields=REGISTER_PERSONAL,
    )
    return download_id[:16]


# ======================================================================================
# The safety loop (issue 18): shelter reception, the unaccounted-for list, evacuation plans
# ======================================================================================
#
# Rules, in addition to those at the top of this module:
#
# - Shelter reception (受付): ``shelter_staff`` at their own shelters and ``hq`` (any shelter,
#   emergency mode only, as for arrivals), during an active incident. They may *find* citizens
#   who share ``basic_info`` with the city — and, in an emergency, register people (第49条の11
#   第3項) — by name, kana or birth date; at most :data:`RECEPTION_SEARCH_LIMIT` rows, without
#   phone or address. A citizen who shows their app's QR code is found by subject whatever
#   their consent (they presented it), but their name shows only under the same rule. The
#   people staying at a shelter are shown to its staff (walk-ins with the names staff typed).
# - The unaccounted-for list: ``hq`` and ``rescue``. Rows (number, district, state, source,
#   time) always; names, kana, phone and address only in emergency mode, where the person
#   shares ``basic_info`` or is on the register (by law); register supporters in the register's
#   scope for the mode. The same for one person's safety history.
# - Individual evacuation plans (個別避難計画, 第49条の14): ``admin`` maintains them (purpose
#   administration: the municipality prepares them), so sees every plan with the register
#   person's name; ``hq``/``rescue`` see plans within the register's scope for the mode.
# - Every call appends an audit row naming the citizens it returned (repeats within
#   :data:`AUDIT_REPEAT_WINDOW` once); aggregates of the safety loop live in
#   ``sql.queries.safety_picture`` and need no audit.

RECEPTION_SEARCH_LIMIT = 20
SAFETY_LOOP_ROLES = ("hq", "rescue")
PLAN_READ_ROLES = ("admin", "hq", "rescue")
_KANA_SHIFT = ord("ァ") - ord("ぁ")


def may_run_reception(viewer: Viewer, mode: Mode, shelter_id: int) -> bool:
    """Shelter staff at their own shelters in an incident; headquarters in an emergency."""
    if mode.incident_id is None:
        return False
    if viewer.role == "shelter_staff":
        return shelter_id in viewer.shelter_ids
    return viewer.role == "hq" and mode.emergency


def may_see_unaccounted(viewer: Viewer) -> bool:
    return viewer.role in SAFETY_LOOP_ROLES


def _on_register(citizen_column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    reg = SupportRegisterEntry.__table__.alias("on_register")
    return sa.exists().where(reg.c.citizen_id == citizen_column)


def _named(basic, citizen_column: sa.ColumnElement, mode: Mode) -> sa.ColumnElement[bool]:
    """Names may be shown: basic information shared with the city, or a register person in an
    emergency (第49条の11第3項)."""
    shared = basic.c.citizen_id.is_not(None)
    if not mode.emergency:
        return shared
    return sa.or_(shared, _on_register(citizen_column))


def _compact(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    return sa.func.replace(sa.func.replace(column, " ", ""), "\u3000", "")


def normalise_search(text: str) -> str:
    """A name or kana as typed, for matching: no spaces, hiragana as katakana.

    >>> normalise_search(" さとう　まこと ")
    'サトウマコト'
    """
    compact = "".join(text.split())
    return "".join(chr(ord(ch) + _KANA_SHIFT) if "ぁ" <= ch <= "ゖ" else ch for ch in compact)


def _reception_columns(c, basic, mode: Mode) -> list[sa.ColumnElement]:
    named = _named(basic, c.c.id, mode)
    st = EvacueeStay.__table__.alias("current_stay")
    s = Shelter.__table__.alias("current_shelter")
    member = c.alias("household_member")
    size = (
        sa.select(sa.func.count())
        .where(member.c.household_id == c.c.household_id)
        .scalar_subquery()
    )
    # The citizen's stay in the incident that has not ended: where they are staying now.
    open_stay = sa.and_(
        st.c.citizen_id == c.c.id,
        st.c.incident_key == (mode.incident_id or 0),
        st.c.left_at.is_(None),
    )
    current = sa.select(st.c.place_kind).where(open_stay).limit(1).scalar_subquery()
    current_shelter = (
        sa.select(s.c.id)
        .select_from(st.join(s, s.c.id == st.c.shelter_id))
        .where(open_stay)
        .limit(1)
        .scalar_subquery()
    )
    return [
        c.c.id.label("citizen_id"),
        sa.case((named, c.c.name), else_=None).label("name"),
        sa.case((named, c.c.kana), else_=None).label("kana"),
        sa.case((named, c.c.birth_date), else_=None).label("birth_date"),
        c.c.district,
        c.c.household_id,
        size.label("household_size"),
        _on_register(c.c.id).label("on_register"),
        current.label("staying"),
        current_shelter.label("staying_shelter_id"),
    ]


def _reception_mode(
    engine: Engine, viewer: Viewer, incident_id: int | None, shelter_id: int
) -> Mode:
    """The incident's mode, once the viewer may run reception at the shelter (else refused)."""
    mode = mode_of(engine, incident_id)
    _require(may_run_reception(viewer, mode, shelter_id), viewer, f"reception at {shelter_id}")
    return mode


def _reception_select(mode: Mode) -> tuple[sa.Select, Any]:
    """Citizens with the reception columns and their basic-information consent joined (the
    caller says which citizens); and that consent's alias, for the naming rule."""
    c = Citizen.__table__
    basic, basic_on = _consent_join("basic_info", c.c.id)
    stmt = sa.select(*_reception_columns(c, basic, mode)).select_from(c.outerjoin(basic, basic_on))
    return stmt, basic


def _reception_frame(engine: Engine, stmt) -> pd.DataFrame:
    frame = _query(engine, stmt)
    frame["on_register"] = frame["on_register"].astype(bool)
    return frame


def _audit_search(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    frame: pd.DataFrame,
    details: dict[str, Any],
    mode: Mode,
) -> None:
    """Audit the people a reception search found (by name, birth date or QR code)."""
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.reception_search",
        frame,
        details,
        mode=mode,
    )


def reception_search(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    shelter_id: int,
    text: str = "",
    birth_date: dt.date | None = None,
) -> pd.DataFrame:
    """Citizens a reception desk may find by name or kana (two characters at least, spaces
    and hiragana/katakana ignored) and/or birth date, at most :data:`RECEPTION_SEARCH_LIMIT`.

    Columns: citizen_id, name, kana, birth_date, district, household_id, household_size,
    on_register, staying (``shelter``/``home``/``car`` or empty), staying_shelter_id;
    ``frame.attrs["more"]`` is True when more people matched (narrow the search).
    """
    mode = _reception_mode(engine, viewer, incident_id, shelter_id)
    wanted = normalise_search(text or "")
    if len(wanted) < 2 and birth_date is None:
        raise ValueError("search with at least two characters of a name or kana, or a birth date")
    c = Citizen.__table__
    stmt, basic = _reception_select(mode)
    stmt = (
        stmt.where(_named(basic, c.c.id, mode))
        .order_by(c.c.kana, c.c.id)
        .limit(RECEPTION_SEARCH_LIMIT + 1)
    )
    if wanted:
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                _compact(c.c.name).like(pattern, escape="\\"),
                _compact(c.c.kana).like(pattern, escape="\\"),
            )
        )
    if birth_date is not None:
        stmt = stmt.where(c.c.birth_date == birth_date)
    frame = _reception_frame(engine, stmt)
    more = len(frame) > RECEPTION_SEARCH_LIMIT
    frame = frame.head(RECEPTION_SEARCH_LIMIT)
    frame.attrs["more"] = more
    _audit_search(
        engine,
        viewer,
        incident_id,
        frame,
        {"shelter_id": shelter_id, "by": "name" if wanted else "birth_date", "rows": len(frame)},
        mode,
    )
    return frame


def reception_by_subject(
    engine: Engine, viewer: Viewer, incident_id: int | None, shelter_id: int, subject: str
) -> pd.DataFrame:
    """The citizen whose app QR code carries this city-OS subject (one row, or none)."""
    mode = _reception_mode(engine, viewer, incident_id, shelter_id)
    stmt, _basic = _reception_select(mode)
    frame = _reception_frame(engine, stmt.where(Citizen.__table__.c.subject == subject))
    _audit_search(engine, viewer, incident_id, frame, {"shelter_id": shelter_id, "by": "qr"}, mode)
    return frame


def reception_household(
    engine: Engine, viewer: Viewer, incident_id: int | None, shelter_id: int, citizen_id: int
) -> pd.DataFrame:
    """The household of a citizen found at reception (to check them in together): every
    member, with names under the same rule (a member without one is listed unnamed)."""
    mode = _reception_mode(engine, viewer, incident_id, shelter_id)
    c = Citizen.__table__
    me = c.alias("found")
    household = sa.select(me.c.household_id).where(me.c.id == citizen_id).scalar_subquery()
    stmt, _basic = _reception_select(mode)
    stmt = stmt.where(sa.or_(c.c.id == citizen_id, c.c.household_id == household)).order_by(
        c.c.id != citizen_id, c.c.birth_date, c.c.id
    )
    frame = _reception_frame(engine, stmt)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.reception_household",
        frame,
        {"shelter_id": shelter_id},
        mode=mode,
    )
    return frame


def shelter_people(
    engine: Engine, viewer: Viewer, incident_id: int | None, shelter_id: int
) -> pd.DataFrame:
    """Who is checked in at a shelter now: stay_id, citizen_id or walk_in_id, name, kana
    (citizens under the naming rule; walk-ins as typed by the staff), age_band and needs
    (walk-ins), household_size (1 for a citizen), party, method, arrived_at, arrived_by."""
    mode = _reception_mode(engine, viewer, incident_id, shelter_id)
    st = EvacueeStay.__table__
    wi = WalkIn.__table__
    c = Citizen.__table__
    basic, basic_on = _consent_join("basic_info", st.c.citizen_id)
    named = _named(basic, st.c.citizen_id, mode)
    stmt = (
        sa.select(
            st.c.id.label("stay_id"),
            st.c.citizen_id,
            st.c.walk_in_id,
            sa.case((st.c.walk_in_id.is_not(None), wi.c.name), (named, c.c.name), else_=None).label(
                "name"
            ),
            sa.case((st.c.walk_in_id.is_not(None), wi.c.kana), (named, c.c.kana), else_=None).label(
                "kana"
            ),
            wi.c.age_band,
            wi.c.needs,
            sa.func.coalesce(wi.c.household_size, 1).label("household_size"),
            st.c.party,
            st.c.method,
            st.c.arrived_at,
            st.c.arrived_by,
        )
        .select_from(
            st.outerjoin(wi, wi.c.id == st.c.walk_in_id)
            .outerjoin(c, c.c.id == st.c.citizen_id)
            .outerjoin(basic, basic_on)
        )
        .where(
            st.c.incident_key == (incident_id or 0),
            st.c.shelter_id == shelter_id,
            st.c.place_kind == "shelter",
            st.c.left_at.is_(None),
        )
        .order_by(st.c.arrived_at.desc(), st.c.id.desc())
    )
    frame = _query(engine, stmt)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.shelter_people",
        frame,
        {"shelter_id": shelter_id, "walk_ins": int(frame["walk_in_id"].notna().sum())},
        mode=mode,
    )
    return frame


# ------------------------------------------------------------------ the unaccounted-for list


def _list_named(mode: Mode, basic, citizen_column) -> sa.ColumnElement[bool]:
    if not mode.emergency:
        return sa.false()
    return sa.or_(basic.c.citizen_id.is_not(None), _on_register(citizen_column))


def unaccounted_details(
    engine: Engine, viewer: Viewer, incident_id: int | None, citizen_ids: Iterable[int]
) -> pd.DataFrame:
    """What the list shows of the people it is about to show (the page passes the rows of
    the page it draws): citizen_id, name, kana, phone, address (where the rules allow, else
    empty), supporter_name, supporter_phone (register people, in the register's scope),
    follow_up_status, assignee, method, attempts, follow_up_version. Audited."""
    _require(may_see_unaccounted(viewer), viewer, "the unaccounted-for list")
    mode = mode_of(engine, incident_id)
    frame = _unaccounted_frame(engine, mode, incident_id, citizen_ids)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.unaccounted",
        frame,
        {"names": bool(mode.emergency), "rows": len(frame)},
        mode=mode,
    )
    return frame


def unaccounted_download(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None,
    citizen_ids: Iterable[int],
    *,
    filters: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The list's rows for a file the follow-up teams take with them: the same columns and
    rules as :func:`unaccounted_details` (names and contacts only in an emergency, where the
    person shares them or is on the register).

    A file leaves the system, so every download is audited — an identical one a minute later
    too (each gets its own id, so the repeat window never swallows it); the audit row is
    committed before the rows return. ``hq`` and ``rescue`` only.
    """
    _require(may_see_unaccounted(viewer), viewer, "the unaccounted-for list")
    mode = mode_of(engine, incident_id)
    frame = _unaccounted_frame(engine, mode, incident_id, citizen_ids)
    download_id = hashlib.sha256(
        f"{time.time_ns()}|{viewer.subject}|{frame['citizen_id'].tolist()}".encode()
    ).hexdigest()
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.unaccounted_download",
        frame,
        {
            "names": bool(mode.emergency),
            "format": "csv",
            "rows": len(frame),
            "filters": filters or {},
            "download": download_id[:16],
        },
        mode=mode,
    )
    return frame


def _unaccounted_frame(
    engine: Engine, mode: Mode, incident_id: int | None, citizen_ids: Iterable[int]
) -> pd.DataFrame:
    """The list's details of these people under the mode's rules (not audited: the callers
    audit what they return)."""
    ids = sorted({int(i) for i in citizen_ids})
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    fu = FollowUp.__table__
    basic, basic_on = _consent_join("basic_info", c.c.id)
    named = _list_named(mode, basic, c.c.id)
    supporter_shown = (
        sa.true() if register_scope(mode) == "all" else _register_consent_in_force(reg)
    )
    stmt = (
        sa.select(
            c.c.id.label("citizen_id"),
            sa.case((named, c.c.name), else_=None).label("name"),
            sa.case((named, c.c.kana), else_=None).label("kana"),
            sa.case((named, c.c.phone), else_=None).label("phone"),
            sa.case((named, c.c.address), else_=None).label("address"),
            sa.case((supporter_shown, reg.c.supporter_name), else_=None).label("supporter_name"),
            sa.case((supporter_shown, reg.c.supporter_phone), else_=None).label("supporter_phone"),
            fu.c.status.label("follow_up_status"),
            fu.c.assignee,
            fu.c.method,
            fu.c.attempts,
            fu.c.version.label("follow_up_version"),
        )
        .select_from(
            c.outerjoin(basic, basic_on)
            .outerjoin(reg, reg.c.citizen_id == c.c.id)
            .outerjoin(
                fu, sa.and_(fu.c.citizen_id == c.c.id, fu.c.incident_key == (incident_id or 0))
            )
        )
        .where(in_ids(engine, c.c.id, ids))
        .order_by(c.c.id)
    )
    return _query(engine, stmt)


def unaccounted_households(
    engine: Engine, viewer: Viewer, incident_id: int | None, household_ids: Iterable[int]
) -> list[int]:
    """Record that the viewer sees these households' roll-up on the list (numbers and counts,
    no names): audited with their members; returns the member ids."""
    _require(may_see_unaccounted(viewer), viewer, "the unaccounted-for list")
    ids = sorted({int(i) for i in household_ids})
    c = Citizen.__table__
    with engine.connect() as conn:
        members = query_ids(conn, sa.select(c.c.id).where(in_ids(engine, c.c.household_id, ids)))
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.unaccounted_households",
        members,
        {"households": len(ids)},
        mode=mode_of(engine, incident_id),
        fields=(),
    )
    return members.tolist()


def safety_history(
    engine: Engine, viewer: Viewer, incident_id: int | None, citizen_id: int
) -> pd.DataFrame:
    """One person's safety history in the incident, newest first: at, source (``app`` for
    their own answers), detail, shelter (name), place, note, recorded_by. Audited."""
    _require(may_see_unaccounted(viewer), viewer, "a person's safety history")
    sr = StatusReport.__table__
    so = SafetyObservation.__table__
    s = Shelter.__table__
    key = incident_id or 0
    answers = (
        sa.select(
            sr.c.reported_at.label("at"),
            sa.literal("app").label("source"),
            sr.c.state.label("detail"),
            s.c.name.label("shelter"),
            sa.null().label("place"),
            sa.null().label("note"),
            sr.c.source.label("recorded_by"),
        )
        .select_from(sr.outerjoin(s, s.c.id == sr.c.shelter_id))
        .where(
            sr.c.citizen_id == citizen_id,
            sr.c.incident_id == incident_id if incident_id else sr.c.incident_id.is_(None),
        )
    )
    recorded = (
        sa.select(
            so.c.observed_at.label("at"),
            so.c.source,
            so.c.outcome.label("detail"),
            s.c.name.label("shelter"),
            so.c.place,
            so.c.note,
            so.c.recorded_by,
        )
        .select_from(so.outerjoin(s, s.c.id == so.c.shelter_id))
        .where(so.c.citizen_id == citizen_id, so.c.incident_key == key)
    )
    union = sa.union_all(answers, recorded).subquery()
    stmt = sa.select(union).order_by(union.c.at.desc())
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(
        rows, columns=["at", "source", "detail", "shelter", "place", "note", "recorded_by"]
    )
    if len(frame):
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
    _audit_view(
        engine,
        viewer.for_incident(incident_id),
        "policy.safety_history",
        [citizen_id],
        {"rows": len(frame)},
        mode=mode_of(engine, incident_id),
        fields=disclosed_fields(frame, SAFETY_PERSONAL),
    )
    return frame


# ------------------------------------------------------------------ evacuation plans


def evacuation_plans(
    engine: Engine,
    viewer: Viewer,
    incident_id: int | None = None,
    citizen_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Individual evacuation plans with the register person they are for: citizen_id, name,
    kana, district, needs, destination_kind, destination_shelter_id, destination (shelter
    name), destination_note, supporters (list of dicts), transport, transport_note, notes,
    source, updated_at, updated_by, version. ``admin`` sees every plan; ``hq``/``rescue`` the
    register's scope for the mode. Audited."""
    _require(viewer.role in PLAN_READ_ROLES, viewer, "individual evacuation plans")
    mode = mode_of(engine, incident_id)
    p = EvacuationPlan.__table__
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    s = Shelter.__table__
    stmt = (
        sa.select(
            p.c.citizen_id,
            c.c.name,
            c.c.kana,
            c.c.district,
            reg.c.needs,
            p.c.destination_kind,
            p.c.destination_shelter_id,
            s.c.name.label("destination"),
            p.c.destination_note,
            p.c.supporters,
            p.c.transport,
            p.c.transport_note,
            p.c.notes,
            p.c.source,
            p.c.updated_at,
            p.c.updated_by,
            p.c.version,
        )
        .select_from(
            p.join(c, c.c.id == p.c.citizen_id)
            .outerjoin(reg, reg.c.citizen_id == p.c.citizen_id)
            .outerjoin(s, s.c.id == p.c.destination_shelter_id)
        )
        .order_by(c.c.district, c.c.kana, p.c.citizen_id)
    )
    if viewer.role != "admin" and register_scope(mode) == "consented":
        stmt = stmt.where(_register_consent_in_force(reg))
    if citizen_ids is not None:
        stmt = stmt.where(in_ids(engine, p.c.citizen_id, citizen_ids))
    frame = _query(engine, stmt)
    _audit_frame(
        engine,
        viewer,
        incident_id,
        "policy.evacuation_plans",
        frame,
        {"scope": "all" if viewer.role == "admin" else register_scope(mode), "rows": len(frame)},
        mode=mode,
    )
    return frame


def plan_candidates(engine: Engine, viewer: Viewer) -> pd.DataFrame:
    """Register people an administrator can write a plan for: citizen_id, name, kana,
    district, needs, has_plan. ``admin`` only. Audited."""
    _require(viewer.role == "admin", viewer, "the register for evacuation plans")
    reg = SupportRegisterEntry.__table__
    c = Citizen.__table__
    p = EvacuationPlan.__table__
    stmt = (
        sa.select(
            reg.c.citizen_id,
            c.c.name,
            c.c.kana,
            c.c.district,
            reg.c.needs,
            sa.exists().where(p.c.citizen_id == reg.c.citizen_id).label("has_plan"),
        )
        .select_from(reg.join(c, c.c.id == reg.c.citizen_id))
        .order_by(c.c.district, c.c.kana, reg.c.citizen_id)
    )
    frame = _query(engine, stmt)
    frame["has_plan"] = frame["has_plan"].astype(bool)
    _audit_frame(
        engine,
        viewer,
        viewer.incident_id,
        "policy.plan_candidates",
        frame,
        {"rows": len(frame)},
        mode=mode_of(engine, viewer.incident_id),
    )
    return frame


# ------------------------------------------------------------------ evacuation coverage


def _inside(geometries: list[Any], lon: np.ndarray, lat: np.ndarray) -> list[np.ndarray]:
    """For each area geometry, which of the points lie in it (boundary included)."""
    import shapely

    out = []
    for geom in geometries:
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        near = np.flatnonzero(
            (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
        )
        mask = np.zeros(len(lon), dtype=bool)
        if near.size:
            shapely.prepare(geom)
            mask[near] = shapely.intersects_xy(geom, lon[near], lat[near])
        out.append(mask)
    return out


def _homes(engine: Engine) -> pd.DataFrame:
    """Every citizen with a known home: ``citizen_id``, ``household_id``, ``lat``, ``lon``,
    ``on_register`` (the safety picture's read of the people, homes unknown left out)."""
    people = safety_picture.people(engine)
    return people[people["lat"].notna() & people["lon"].notna()].reset_index(drop=True)


COVERAGE_COLUMNS = [
    "area_id",
    "people",
    "households",
    "register_people",
    "shelters",
    "shelter_ids",
    "shelters_near",
    "near_shelter_ids",
]
#: How far outside an issuance area a shelter still counts as "near" it (metres).
SHELTER_NEAR_M = 1000.0


def _near(
    geometries: list[Any], lon: np.ndarray, lat: np.ndarray, metres: float
) -> list[np.ndarray]:
    """For each area, which points lie outside it but within ``metres`` of it (distances on a
    local equirectangular projection around the area: good to a few metres at city scale)."""
    import shapely

    out = []
    for geom in geometries:
        lat0 = geom.centroid.y
        kx = 111_320.0 * np.cos(np.radians(lat0))
        ky = 110_574.0
        local = shapely.transform(geom, lambda xy, kx=kx, ky=ky: xy * [kx, ky])
        points = shapely.points(lon * kx, lat * ky)
        distance = shapely.distance(local, points) if len(lon) else np.zeros(0)
        out.append((distance > 0) & (distance <= metres))
    return out


def evacuation_coverage(
    engine: Engine, viewer: Viewer, area_wkbs: dict[int, bytes]
) -> pd.DataFrame:
    """What an issuance would cover, per area: ``people`` (citizens living there),
    ``households``, ``register_people`` (on the evacuation-support register), ``shelters``
    inside and ``shelters_near`` (outside, within :data:`SHELTER_NEAR_M`), with their ids
    (aggregates only: no person leaves this function, so nothing is audited).

    Homes are read here and counted in Python (the same on SQLite and PostgreSQL); a home on
    an area's boundary is in the area. Researchers and council get the small-cell rule where
    they are shown (:func:`sees_exact_counts`).
    """
    import shapely

    s = Shelter.__table__
    ids = sorted(area_wkbs)
    geometries = [shapely.from_wkb(area_wkbs[i]) for i in ids]
    homes = _homes(engine)
    shelters = _query(engine, sa.select(s.c.id, s.c.lat, s.c.lon))
    lon = homes["lon"].to_numpy(dtype=float)
    lat = homes["lat"].to_numpy(dtype=float)
    household = homes["household_id"].to_numpy(dtype=float)
    registered = homes["on_register"].to_numpy(dtype=bool)
    shelter_lon = shelters["lon"].to_numpy(dtype=float) if len(shelters) else np.zeros(0)
    shelter_lat = shelters["lat"].to_numpy(dtype=float) if len(shelters) else np.zeros(0)
    home_masks = _inside(geometries, lon, lat)
    shelter_masks = _inside(geometries, shelter_lon, shelter_lat)
    near_masks = _near(geometries, shelter_lon, shelter_lat, SHELTER_NEAR_M)
    rows = []
    for area_id, mask, smask, nmask in zip(ids, home_masks, shelter_masks, near_masks, strict=True):
        inside_households = household[mask]
        known = inside_households[~np.isnan(inside_households)]
        rows.append(
            {
                "area_id": area_id,
                "people": int(mask.sum()),
                "households": int(len(np.unique(known)) + np.isnan(inside_households).sum()),
                "register_people": int((mask & registered).sum()),
                "shelters": int(smask.sum()),
                "shelter_ids": [int(x) for x in shelters["id"].to_numpy()[smask]]
                if len(shelters)
                else [],
                "shelters_near": int(nmask.sum()),
                "near_shelter_ids": [int(x) for x in shelters["id"].to_numpy()[nmask]]
                if len(shelters)
                else [],
            }
        )
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def evacuation_recipients(
    engine: Engine, viewer: Viewer, incident_id: int | None, area_wkbs: dict[int, bytes]
) -> tuple[pd.DataFrame, int]:
    """Who a push for an issuance reaches: the citizens living in the areas (``candidates``,
    the second value) narrowed to those who share their basic information, which holds the
    address, with the city (:func:`notification_recipients`, basis ``home_location``:
    consent at query time, audited). Returns ``citizen_id``/``subject`` and the candidate
    count."""
    import shapely

    _require(viewer.role in NOTIFY_ROLES, viewer, "notification recipients")
    homes = _homes(engine)
    if homes.empty or not area_wkbs:
        return pd.DataFrame(columns=["citizen_id", "subject"]), 0
    masks = _inside(
        [shapely.from_wkb(w) for w in area_wkbs.values()],
        homes["lon"].to_numpy(dtype=float),
        homes["lat"].to_numpy(dtype=float),
    )
    inside = np.logical_or.reduce(masks)
    candidates = homes["citizen_id"].to_numpy()[inside]
    if not len(candidates):
        return pd.DataFrame(columns=["citizen_id", "subject"]), 0
    recipients = notification_recipients(
        engine, viewer, incident_id, candidates.tolist(), "home_location"
    )
    return recipients, int(len(candidates))


# ======================================================================================
# Research (issue 16): participant attributes for models, de-identified microdata exports
# ======================================================================================
#
# Rules, in addition to those at the top of this module:
#
# - Only ``researcher`` and ``admin``; everyone else is refused (PolicyDenied).
# - :func:`research_attributes` returns rows keyed by the internal citizen id (pseudonymised
#   as the research reads of ``sql.queries.research``): an age band, whether on the register
#   and the danger level of the home's worst hazard zone — never a name, address, birth date,
#   phone or position. The zone level is decided by the caller's ``zone_level`` function
#   (``analytics.hazards.ZoneIndex``) *inside* this module: the home point never leaves, and
#   whatever the function returns is read as a level 0–3.
# - :func:`microdata_export` is the only way row-level records leave for researchers: drill,
#   consent and status records under a pseudonym drawn at random for this export (a citizen
#   has another pseudonym in the next export), quasi-identifiers generalised (age band,
#   district, a coarse H3 cell of the home, times rounded), no names, addresses, subjects,
#   phones, birth dates, positions or free text; people whose combination of
#   quasi-identifiers is shared by fewer than ``k`` people in a table are suppressed from it
#   (reported). Each export is recorded in the audit chain with its purpose and requester,
#   the people it carries and what was suppressed — committed before the rows are returned.

RESEARCH_ROLES = ("researcher", "admin")
#: The smallest equivalence class a microdata export may hold (people, per table).
MICRODATA_K = 5
#: Default H3 resolution of the home cell in an export (about 36 km² a cell).
MICRODATA_H3_RESOLUTION = 6
#: Default rounding of times in an export (minutes; times are floored).
MICRODATA_TIME_STEP = 5
#: Which place of the home an export carries: the district, the coarse H3 cell, or both
#: (each one more quasi-identifier: more people suppressed).
MICRODATA_LOCATIONS = {
    "cell": ("home_cell",),
    "district": ("district",),
    "both": ("district", "home_cell"),
}
#: The quasi-identifiers of each table of an export (k is checked on these, in people).
MICRODATA_QUASI = {
    "drill": ("age_band", "sex", "district", "home_cell", "group"),
    "consent": ("age_band", "sex", "district", "home_cell"),
    "status": ("age_band", "sex", "district", "home_cell"),
}
#: Columns that never appear in an export (the test checks them).
DIRECT_IDENTIFIERS = (
    "citizen_id",
    "subject",
    "name",
    "kana",
    "address",
    "phone",
    "birth_date",
    "home_lat",
    "home_lon",
    "lat",
    "lon",
    "message",
    "details",
)
_ZONE_LEVELS = ("none", "1", "2", "3")


def may_export_microdata(viewer: Viewer) -> bool:
    return viewer.role in RESEARCH_ROLES


def _zone_labels(zone_level, lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """The caller's zone level per home (0 none … 3), as a label; no home: None."""
    if zone_level is None:
        return [None] * len(lat)
    known = ~(np.isnan(lat) | np.isnan(lon))
    levels = np.zeros(len(lat))
    if known.any():
        levels[known] = np.asarray(zone_level(lat[known], lon[known]), dtype=float)
    levels = np.clip(np.nan_to_num(np.round(levels)), 0, 3).astype(int)
    return [_ZONE_LEVELS[v] if k else None for v, k in zip(levels, known, strict=True)]


def research_attributes(
    engine: Engine,
    viewer: Viewer,
    on: dt.date,
    citizen_ids: Iterable[int],
    zone_level=None,
) -> pd.DataFrame:
    """``citizen_id, age_band, sex, register, hazard_zone`` of the given citizens, for models.

    ``age_band`` at ``on``; ``register`` ``yes``/``no``; ``hazard_zone`` the danger level
    (``none``, ``1``–``3``) of the home's worst zone by ``zone_level(lat, lon)`` (None when no
    function is given or no home is known). Researcher and admin only; audited.
    """
    from .queries.research import age_band

    _require(may_export_microdata(viewer), viewer, "research attributes")
    ids = sorted({int(i) for i in citizen_ids if i is not None and not pd.isna(i)})
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    rows: list[tuple] = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            rows += conn.execute(
                sa.select(
                    c.c.id,
                    c.c.birth_date,
                    c.c.sex,
                    c.c.home_lat,
                    c.c.home_lon,
                    sa.exists().where(reg.c.citizen_id == c.c.id).label("register"),
                ).where(c.c.id.in_(chunk))
            ).all()
    rows.sort()
    lat = np.array([r[3] if r[3] is not None else np.nan for r in rows], dtype=float)
    lon = np.array([r[4] if r[4] is not None else np.nan for r in rows], dtype=float)
    frame = pd.DataFrame(
        {
            "citizen_id": [r[0] for r in rows],
            "age_band": [age_band(r[1], on) for r in rows],
            "sex": [r[2] for r in rows],
            "register": ["yes" if r[5] else "no" for r in rows],
            "hazard_zone": _zone_labels(zone_level, lat, lon),
        },
        columns=["citizen_id", "age_band", "sex", "register", "hazard_zone"],
    )
    audit.record(
        engine,
        viewer,
        "read",
        target="policy.research_attributes",
        citizen_ids=frame["citizen_id"].tolist(),
        details={"rows": len(frame), "pseudonymised": True, "purpose": viewer.purpose},
    )
    return frame


@dataclasses.dataclass(frozen=True)
class MicrodataExport:
    """A de-identified export: its random id, its tables, the k-anonymity report per table
    (``table, k, quasi_identifiers, rows, people, classes, smallest_class, rows_suppressed,
    people_suppressed, rows_exported, people_exported``) and the parameters used."""

    export_id: str
    tables: dict[str, pd.DataFrame]
    report: pd.DataFrame
    parameters: dict[str, Any]


def _month(values: pd.Series) -> pd.Series:
    """The month of each time in Japan time, as text ``YYYY-MM``."""
    return pd.to_datetime(values, utc=True).dt.tz_convert("Asia/Tokyo").dt.strftime("%Y-%m")


def _floor_time(values: pd.Series, step: int) -> pd.Series:
    """Times floored to ``step`` minutes in Japan time, as text ``YYYY-MM-DD HH:MM``."""
    jst = pd.to_datetime(values, utc=True).dt.tz_convert("Asia/Tokyo")
    return jst.dt.floor(f"{int(step)}min").dt.strftime("%Y-%m-%d %H:%M")


def _k_suppress(
    frame: pd.DataFrame, quasi: tuple[str, ...], time_column: str, k: int
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep only what at least ``k`` people share: each person's combination of the
    quasi-identifiers (missing values are a level of their own: ``unknown``), and each row's
    combination of those with its rounded time — a row whose moment fewer than ``k`` people of
    its class share is dropped. Dropping rows can leave a class with fewer than ``k`` people,
    so both checks repeat until nothing more is dropped."""
    keyed = frame.assign(**{q: frame[q].fillna("unknown").astype(str) for q in quasi})
    moment = keyed[time_column].astype("string").fillna("unknown")
    kept = keyed
    while True:
        small = _people_in_small_classes(kept, quasi, k)
        kept = kept[~kept["pseudonym"].isin(small)]
        rare = _rows_at_rare_moments(kept, quasi, moment.loc[kept.index], k)
        if not small and not rare.any():
            break
        kept = kept[~rare]
    class_sizes = kept.drop_duplicates("pseudonym").groupby(list(quasi)).size()
    people, exported = int(frame["pseudonym"].nunique()), int(kept["pseudonym"].nunique())
    return kept.reset_index(drop=True), {
        "rows": len(frame),
        "people": people,
        "classes": int(len(class_sizes)),
        "smallest_class": int(class_sizes.min()) if len(class_sizes) else 0,
        "rows_suppressed": len(frame) - len(kept),
        "people_suppressed": people - exported,
        "rows_exported": len(kept),
        "people_exported": exported,
    }


def _people_in_small_classes(frame: pd.DataFrame, quasi: tuple[str, ...], k: int) -> set:
    """Pseudonyms whose combination of ``quasi`` fewer than ``k`` people share, and those whose
    rows carry two combinations (e.g. a group that changed: they keep neither)."""
    people = frame.drop_duplicates(["pseudonym", *quasi])
    sizes = people.groupby(list(quasi), dropna=False)["pseudonym"].transform("nunique")
    small = set(people.loc[sizes < k, "pseudonym"])
    per_person = people.groupby("pseudonym").size()
    return small | set(per_person[per_person > 1].index)


def _rows_at_rare_moments(
    frame: pd.DataFrame, quasi: tuple[str, ...], moment: pd.Series, k: int
) -> pd.Series:
    """True for the rows whose class and rounded time fewer than ``k`` people share."""
    keys = [frame[q] for q in quasi] + [moment]
    sizes = frame.groupby(keys, dropna=False)["pseudonym"].transform("nunique")
    return sizes < k


def microdata_export(
    engine: Engine,
    viewer: Viewer,
    *,
    purpose: str,
    requester: str,
    drill_id: int | None = None,
    incident_id: int | None = None,
    tables: Iterable[str] = ("drill", "consent", "status"),
    k: int = MICRODATA_K,
    h3_resolution: int = MICRODATA_H3_RESOLUTION,
    time_step: int = MICRODATA_TIME_STEP,
    location: str = "cell",
    on: dt.date | None = None,
) -> MicrodataExport:
    """De-identified drill, consent and status records for researchers (see the rules above).

    ``drill``: the events of ``drill_id`` (minutes from the drill's start, floored to
    ``time_step``); ``consent``: the consent ledger; ``status``: status reports (of
    ``incident_id`` when given). Age bands at ``on`` (default: the drill's start date, else
    today in Japan). ``location``: ``district``, ``cell`` or ``both`` (see
    :data:`MICRODATA_LOCATIONS`); the other is not exported. ``k`` at least 2; ``purpose`` and
    ``requester`` required.
    """
    import secrets

    import h3

    from .models import ConsentEvent, Drill, DrillEvent
    from .queries.research import age_band

    _require(may_export_microdata(viewer), viewer, "de-identified microdata")
    purpose, requester = (purpose or "").strip(), (requester or "").strip()
    if not purpose or not requester:
        raise ValueError("a microdata export needs its purpose and its requester")
    if int(k) < 2:
        raise ValueError("k must be at least 2")
    if not 0 <= int(h3_resolution) <= 9:
        raise ValueError("the home cell's H3 resolution must be 0–9 (coarse)")
    if int(time_step) < 1:
        raise ValueError("times are rounded to at least one minute")
    if location not in MICRODATA_LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(MICRODATA_LOCATIONS)}")
    left_out = {"district", "home_cell"} - set(MICRODATA_LOCATIONS[location])
    quasi_of = {
        name: tuple(q for q in quasi if q not in left_out)
        for name, quasi in MICRODATA_QUASI.items()
    }
    wanted = [t for t in ("drill", "consent", "status") if t in set(tables)]
    unknown = set(tables) - set(MICRODATA_QUASI)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; choose from drill, consent, status")
    if "drill" in wanted and drill_id is None:
        raise ValueError("the drill table needs a drill")
    raw: dict[str, pd.DataFrame] = {}
    drill_start = None
    with engine.connect() as conn:
        if "drill" in wanted:
            d = Drill.__table__
            drill_start = conn.execute(
                sa.select(d.c.started_at).where(d.c.id == drill_id)
            ).scalar_one_or_none()
            if drill_start is None:
                raise ValueError(f"no drill {drill_id}")
            e = DrillEvent.__table__
            frame = query_frame(
                conn,
                sa.select(e.c.citizen_id, e.c.participant_group, e.c.event_type, e.c.at).where(
                    e.c.drill_id == drill_id, e.c.citizen_id.is_not(None)
                ),
            )
            raw["drill"] = frame.rename(columns={"participant_group": "group"})
        if "consent" in wanted:
            ev = ConsentEvent.__table__
            raw["consent"] = query_frame(
                conn,
                sa.select(
                    ev.c.citizen_id,
                    ev.c.data_item,
                    ev.c.share_target,
                    ev.c.event_type,
                    ev.c.collection_method,
                    ev.c.occurred_at,
                ),
            )
        if "status" in wanted:
            sr = StatusReport.__table__
            stmt = sa.select(
                sr.c.citizen_id, sr.c.incident_id, sr.c.state, sr.c.source, sr.c.reported_at
            )
            if incident_id is not None:
                stmt = stmt.where(sr.c.incident_id == incident_id)
            raw["status"] = query_frame(conn, stmt)
        ids = sorted({int(i) for f in raw.values() for i in f["citizen_id"].dropna()})
        c = Citizen.__table__
        people: list[tuple] = []
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            people += conn.execute(
                sa.select(
                    c.c.id, c.c.birth_date, c.c.sex, c.c.district, c.c.home_lat, c.c.home_lon
                ).where(c.c.id.in_(chunk))
            ).all()
    if on is None:
        on = (
            pd.Timestamp(drill_start).tz_convert("Asia/Tokyo").date()
            if drill_start is not None and pd.Timestamp(drill_start).tzinfo
            else dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9))).date()
        )
    # A pseudonym per person, drawn at random for this export only.
    shuffled = [p[0] for p in people]
    secrets.SystemRandom().shuffle(shuffled)
    pseudonyms: dict[int, str] = {}
    taken: set[str] = set()
    for cid in shuffled:
        code = secrets.token_hex(5)
        while code in taken:
            code = secrets.token_hex(5)
        taken.add(code)
        pseudonyms[cid] = f"P{code}"
    attributes = pd.DataFrame(
        {
            "citizen_id": [p[0] for p in people],
            "pseudonym": [pseudonyms[p[0]] for p in people],
            "age_band": [age_band(p[1], on) for p in people],
            "sex": [p[2] for p in people],
            "district": [p[3] for p in people],
            "home_cell": [
                h3.latlng_to_cell(p[4], p[5], int(h3_resolution))
                if p[4] is not None and p[5] is not None
                else None
                for p in people
            ],
        },
        columns=["citizen_id", "pseudonym", "age_band", "sex", "district", "home_cell"],
    )
    out: dict[str, pd.DataFrame] = {}
    report = []
    exported: set[int] = set()
    for name in wanted:
        frame = raw[name].merge(attributes, on="citizen_id", how="inner")
        if name == "drill":
            minutes = (
                pd.to_datetime(frame["at"], utc=True) - pd.Timestamp(drill_start).tz_convert("UTC")
                if pd.Timestamp(drill_start).tzinfo
                else pd.to_datetime(frame["at"], utc=True) - pd.Timestamp(drill_start, tz="UTC")
            ).dt.total_seconds() / 60
            frame["minutes"] = (minutes // time_step * time_step).astype("Int64")
            frame["group"] = frame["group"].fillna("unknown")
            columns = ["pseudonym", *quasi_of[name], "event_type", "minutes"]
            order = ["pseudonym", "minutes", "event_type"]
            moment = "minutes"
        elif name == "consent":
            # Consent events spread over months: at minutes (or days) nearly every event's
            # moment is its own in a class of k people, so the month is the rounded time.
            frame["occurred"] = _month(frame["occurred_at"])
            columns = [
                "pseudonym",
                *quasi_of[name],
                "data_item",
                "share_target",
                "event_type",
                "collection_method",
                "occurred",
            ]
            order = ["pseudonym", "occurred", "data_item", "share_target"]
            moment = "occurred"
        else:
            frame["reported"] = _floor_time(frame["reported_at"], time_step)
            frame["incident_id"] = frame["incident_id"].astype("Int64")
            columns = [
                "pseudonym",
                *quasi_of[name],
                "incident_id",
                "state",
                "source",
                "reported",
            ]
            order = ["pseudonym", "reported", "state"]
            moment = "reported"
        kept, counts = _k_suppress(frame, quasi_of[name], moment, int(k))
        exported |= set(
            attributes.loc[attributes["pseudonym"].isin(set(kept["pseudonym"])), "citizen_id"]
        )
        out[name] = kept[columns].sort_values(order, kind="stable").reset_index(drop=True)
        report.append(
            {
                "table": name,
                "k": int(k),
                "quasi_identifiers": ", ".join([*quasi_of[name], moment]),
                **counts,
            }
        )
    export_id = secrets.token_hex(8)
    parameters = {
        "k": int(k),
        "h3_resolution": int(h3_resolution),
        "time_step_minutes": int(time_step),
        "location": location,
        "age_bands_on": on.isoformat(),
        "drill_id": drill_id,
        "incident_id": incident_id,
        "tables": wanted,
    }
    report_frame = pd.DataFrame(report)
    audit.record(
        engine,
        viewer,
        "export",
        target="policy.microdata_export",
        citizen_ids=sorted(exported),
        details={
            "export": export_id,
            "purpose": purpose,
            "requester": requester,
            **parameters,
            "suppressed": {
                r["table"]: {"rows": r["rows_suppressed"], "people": r["people_suppressed"]}
                for r in report
            },
            "rows": {r["table"]: r["rows_exported"] for r in report},
        },
    )
    return MicrodataExport(
        export_id, out, report_frame, {**parameters, "purpose": purpose, "requester": requester}
    )
