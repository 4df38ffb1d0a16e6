"""The safety loop's inputs and aggregates: every source of a person's safety as observations,
evacuees by place, shelter head counts from reception, plans and their tracking.

What leaves here is for merging and counting (ids, codes, times), never shown: names and
contact details are read through :mod:`sql.policy`. Times of the whole-population reads come as
epoch seconds straight from the database (``julianday`` on SQLite, ``extract(epoch)`` on
PostgreSQL), so 120,000 latest statuses are read without a Python datetime per row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.vocab import STAY_PLACES

from ..frames import query_columns, query_frame
from ..models import (
    Citizen,
    CitizenLatestStatus,
    EvacuationPlan,
    EvacueeStay,
    FollowUp,
    Incident,
    RescueRequest,
    RescueRequestEvent,
    SafetyObservation,
    StatusReport,
    SupportRegisterEntry,
    WalkIn,
)
from .rescue import status_as_of

#: Columns of :func:`observations`.
OBSERVATION_COLUMNS = ("citizen_id", "at", "source", "detail", "shelter_id")


def epoch_seconds(conn: Connection, column: sa.ColumnElement) -> sa.ColumnElement[float]:
    """``column`` (a stored UTC time) as seconds since 1970 on the connection's database."""
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.extract("epoch", column), sa.Float)
    return (sa.func.julianday(column) - 2440587.5) * 86400.0


def to_utc(seconds: np.ndarray) -> pd.Series:
    """Epoch seconds (float, NaN for none) as UTC times, to the millisecond."""
    values = np.asarray(seconds, dtype=float)
    millis = np.round(values * 1000)
    missing = ~np.isfinite(millis)
    stamps = np.where(missing, 0, millis).astype(np.int64).view("datetime64[ms]").copy()
    stamps[missing] = np.datetime64("NaT")
    return pd.Series(pd.DatetimeIndex(stamps).tz_localize("UTC"))


# ------------------------------------------------------------------ people


def people(engine: Engine) -> pd.DataFrame:
    """Every citizen as the list needs them: ``citizen_id``, ``district``, ``household_id``,
    ``lat``, ``lon`` (home), ``on_register``. Sorted by id."""
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    stmt = (
        sa.select(
            c.c.id,
            c.c.district,
            c.c.household_id,
            c.c.home_lat,
            c.c.home_lon,
            reg.c.citizen_id.is_not(None).label("on_register"),
        )
        .select_from(c.outerjoin(reg, reg.c.citizen_id == c.c.id))
        .order_by(c.c.id)
    )
    with engine.connect() as conn:
        cols = query_columns(conn, stmt)
    return pd.DataFrame(
        {
            "citizen_id": cols["id"].astype(np.int64),
            "district": cols["district"].astype(object),
            "household_id": pd.to_numeric(pd.Series(cols["household_id"]), errors="coerce"),
            "lat": pd.to_numeric(pd.Series(cols["home_lat"]), errors="coerce"),
            "lon": pd.to_numeric(pd.Series(cols["home_lon"]), errors="coerce"),
            "on_register": cols["on_register"].astype(bool),
        }
    )


def people_fingerprint(engine: Engine) -> tuple[int, int, int, str | None]:
    """Cheap change check of :func:`people`: citizens (count, top id), register entries (count)
    and the newest citizen or register update."""
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(c)).scalar_one()
        top = conn.execute(sa.select(sa.func.max(c.c.id))).scalar() or 0
        registered, newest = conn.execute(
            sa.select(sa.func.count(), sa.func.max(reg.c.updated_at))
        ).one()
    return int(n), int(top), int(registered), str(newest) if newest else None


# ------------------------------------------------------------------ observations


def _incident_key(incident_id: int | None) -> int:
    return incident_id or 0


def _app_answers(conn: Connection, incident_id: int | None, as_of: dt.datetime | None):
    """Each person's newest own answer (app or city OS), as of ``as_of`` or now."""
    if as_of is None:
        ls = CitizenLatestStatus.__table__
        return sa.select(
            ls.c.citizen_id,
            epoch_seconds(conn, ls.c.reported_at).label("at"),
            ls.c.state.label("detail"),
            ls.c.shelter_id,
        ).where(ls.c.incident_key == _incident_key(incident_id))
    sr = StatusReport.__table__
    ranked = (
        sa.select(
            sr.c.citizen_id,
            sr.c.reported_at,
            sr.c.state,
            sr.c.shelter_id,
            sa.func.row_number()
            .over(partition_by=sr.c.citizen_id, order_by=(sr.c.reported_at.desc(), sr.c.id.desc()))
            .label("rn"),
        )
        .where(
            sr.c.incident_id == incident_id if incident_id else sr.c.incident_id.is_(None),
            sr.c.reported_at <= as_of,
        )
        .subquery()
    )
    return sa.select(
        ranked.c.citizen_id,
        epoch_seconds(conn, ranked.c.reported_at).label("at"),
        ranked.c.state.label("detail"),
        ranked.c.shelter_id,
    ).where(ranked.c.rn == 1)


def _recorded(conn: Connection, incident_id: int | None, as_of: dt.datetime | None):
    so = SafetyObservation.__table__
    stmt = sa.select(
        so.c.citizen_id,
        epoch_seconds(conn, so.c.observed_at).label("at"),
        so.c.source,
        so.c.outcome.label("detail"),
        so.c.shelter_id,
    ).where(so.c.incident_key == _incident_key(incident_id))
    if as_of is not None:
        stmt = stmt.where(so.c.observed_at <= as_of)
    return stmt


def _rescue(conn: Connection, incident_id: int | None, as_of: dt.datetime | None):
    """Requests not cancelled (the person asked for help) and resolutions (rescued)."""
    rr = RescueRequest.__table__
    ev = RescueRequestEvent.__table__
    incident = rr.c.incident_id == incident_id if incident_id else rr.c.incident_id.is_(None)
    if as_of is None:
        requested = sa.select(
            rr.c.citizen_id, epoch_seconds(conn, rr.c.requested_at).label("at")
        ).where(incident, rr.c.citizen_id.is_not(None), rr.c.status != "cancelled")
    else:
        then = status_as_of(incident_id, as_of)
        requested = (
            sa.select(rr.c.citizen_id, epoch_seconds(conn, rr.c.requested_at).label("at"))
            .select_from(rr.join(then, then.c.id == rr.c.id))
            .where(rr.c.citizen_id.is_not(None), then.c.status != "cancelled")
        )
    resolved = (
        sa.select(rr.c.citizen_id, epoch_seconds(conn, ev.c.at).label("at"))
        .select_from(ev.join(rr, rr.c.id == ev.c.request_id))
        .where(incident, rr.c.citizen_id.is_not(None), ev.c.to_status == "resolved")
    )
    if as_of is not None:
        resolved = resolved.where(ev.c.at <= as_of)
    return requested, resolved


def observations(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """Everything known about people's safety in an incident (at ``as_of``, or now), one row
    per observation: ``citizen_id``, ``at`` (epoch seconds), ``source`` (``app``,
    ``reception``, ``supporter``, ``family``, ``rescue``, ``follow_up``, ``hq``), ``detail``
    (the app's state, the recorded outcome, ``rescue_requested`` or ``rescued``),
    ``shelter_id``.

    The person's own answers count by their newest one only: under the merge rule
    (:mod:`analytics.safety_merge`) an older answer of the same source never decides.
    """
    parts: list[pd.DataFrame] = []
    with engine.connect() as conn:
        app = query_columns(conn, _app_answers(conn, incident_id, as_of))
        parts.append(_frame(app, "app"))
        parts.append(_frame(query_columns(conn, _recorded(conn, incident_id, as_of)), None))
        requested, resolved = _rescue(conn, incident_id, as_of)
        parts.append(_frame(query_columns(conn, requested), "app", "rescue_requested"))
        parts.append(_frame(query_columns(conn, resolved), "rescue", "rescued"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {
                "citizen_id": pd.Series(dtype=np.int64),
                "at": pd.Series(dtype=float),
                "source": pd.Series(dtype=object),
                "detail": pd.Series(dtype=object),
                "shelter_id": pd.Series(dtype=object),
            }
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["citizen_id"] = frame["citizen_id"].astype(np.int64)
    frame["at"] = frame["at"].astype(float)
    return frame[list(OBSERVATION_COLUMNS)]


def _frame(cols: dict[str, np.ndarray], source: str | None, detail: str | None = None):
    n = len(cols["citizen_id"])
    if n == 0:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "citizen_id": cols["citizen_id"],
            "at": cols["at"],
            "source": cols["source"] if source is None else np.full(n, source, dtype=object),
            "detail": cols["detail"] if detail is None else np.full(n, detail, dtype=object),
            "shelter_id": cols.get("shelter_id", np.full(n, None, dtype=object)),
        }
    )


# ------------------------------------------------------------------ evacuees by place


def _open_at(stay, as_of: dt.datetime | None):
    if as_of is None:
        return stay.c.left_at.is_(None)
    return sa.and_(
        stay.c.arrived_at <= as_of, sa.or_(stay.c.left_at.is_(None), stay.c.left_at > as_of)
    )


def evacuees_by_place(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """Evacuees staying now (or at ``as_of``): one row per place kind and shelter —
    ``place_kind`` (shelter, home, car), ``shelter_id`` (None for home and car), ``people``
    (known citizens plus walk-ins with their households), ``citizens``, ``walk_ins``."""
    st = EvacueeStay.__table__
    wi = WalkIn.__table__
    size = sa.case((st.c.walk_in_id.is_not(None), wi.c.household_size), else_=1)
    stmt = (
        sa.select(
            st.c.place_kind,
            st.c.shelter_id,
            sa.func.sum(size).label("people"),
            sa.func.count(st.c.citizen_id).label("citizens"),
            sa.func.count(st.c.walk_in_id).label("walk_ins"),
        )
        .select_from(st.outerjoin(wi, wi.c.id == st.c.walk_in_id))
        .where(st.c.incident_key == _incident_key(incident_id), _open_at(st, as_of))
        .group_by(st.c.place_kind, st.c.shelter_id)
        .order_by(st.c.place_kind, st.c.shelter_id)
    )
    with engine.connect() as conn:
        counts = query_frame(conn, stmt)
    for column in ("people", "citizens", "walk_ins"):
        counts[column] = pd.to_numeric(counts[column]).fillna(0).astype(int)
    return counts


def reception_shelters(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """Shelters that use reception in the incident (anyone checked in there by ``as_of``):
    ``shelter_id``, ``head_count`` (people staying now or then), ``observed_at`` (the newest
    arrival or departure). A shelter without check-ins keeps its manual counts."""
    st = EvacueeStay.__table__
    wi = WalkIn.__table__
    size = sa.case((st.c.walk_in_id.is_not(None), wi.c.household_size), else_=1)
    staying = sa.case((_open_at(st, as_of), size), else_=0)
    events = [st.c.arrived_at]
    if as_of is None:
        events.append(sa.func.coalesce(st.c.left_at, st.c.arrived_at))
    else:
        events.append(sa.case((st.c.left_at <= as_of, st.c.left_at), else_=st.c.arrived_at))
    stmt = (
        sa.select(
            st.c.shelter_id,
            sa.func.sum(staying).label("head_count"),
            sa.func.max(events[1]).label("observed_at"),
        )
        .select_from(st.outerjoin(wi, wi.c.id == st.c.walk_in_id))
        .where(
            st.c.incident_key == _incident_key(incident_id),
            st.c.place_kind == "shelter",
            st.c.shelter_id.is_not(None),
        )
        .group_by(st.c.shelter_id)
    )
    if as_of is not None:
        stmt = stmt.where(st.c.arrived_at <= as_of)
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["head_count"] = pd.to_numeric(frame["head_count"]).fillna(0).astype(int)
    return frame


def place_totals(evacuees: pd.DataFrame) -> dict[str, int]:
    """People per place kind (shelter, home, car) from :func:`evacuees_by_place`."""
    totals = {kind: 0 for kind in STAY_PLACES}
    if len(evacuees):
        for kind, n in evacuees.groupby("place_kind")["people"].sum().items():
            totals[str(kind)] = int(n)
    return totals


def walk_in_count(engine: Engine, incident_id: int | None) -> dict[str, int]:
    """Walk-ins registered in the incident and the people they came with."""
    wi = WalkIn.__table__
    with engine.connect() as conn:
        n, people = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(wi.c.household_size), 0)).where(
                wi.c.incident_key == _incident_key(incident_id)
            )
        ).one()
    return {"walk_ins": int(n), "people": int(people)}


# ------------------------------------------------------------------ plans and their tracking


def plans(engine: Engine) -> pd.DataFrame:
    """Every individual evacuation plan, without names: ``citizen_id``, ``destination_kind``,
    ``destination_shelter_id``, ``transport``, ``supporters`` (how many)."""
    p = EvacuationPlan.__table__
    with engine.connect() as conn:
        frame = query_frame(
            conn,
            sa.select(
                p.c.citizen_id,
                p.c.destination_kind,
                p.c.destination_shelter_id,
                p.c.transport,
                p.c.supporters,
            ).order_by(p.c.citizen_id),
        )
    frame["supporters"] = [len(s or []) for s in frame["supporters"]]
    return frame


def _planned(column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    return column.in_(sa.select(EvacuationPlan.__table__.c.citizen_id))


def supporter_confirmations(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """The first confirmation by each planned person's supporter: ``citizen_id``,
    ``confirmed_at``, ``outcome`` (of that first confirmation)."""
    so = SafetyObservation.__table__
    stmt = (
        sa.select(so.c.citizen_id, so.c.observed_at.label("confirmed_at"), so.c.outcome)
        .where(
            so.c.incident_key == _incident_key(incident_id),
            so.c.source == "supporter",
            _planned(so.c.citizen_id),
        )
        .order_by(so.c.citizen_id, so.c.observed_at, so.c.id)
    )
    if as_of is not None:
        stmt = stmt.where(so.c.observed_at <= as_of)
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    return frame.drop_duplicates("citizen_id").reset_index(drop=True)


def shelter_arrivals(
    engine: Engine,
    incident_id: int | None,
    as_of: dt.datetime | None = None,
    *,
    planned_only: bool = False,
) -> pd.DataFrame:
    """Each known citizen's first check-in at each shelter: ``citizen_id``, ``shelter_id``,
    ``arrived_at`` (for the drill's arrival times; ``planned_only``: people with an
    individual evacuation plan, for plan tracking)."""
    st = EvacueeStay.__table__
    stmt = (
        sa.select(
            st.c.citizen_id, st.c.shelter_id, sa.func.min(st.c.arrived_at).label("arrived_at")
        )
        .where(
            st.c.incident_key == _incident_key(incident_id),
            st.c.citizen_id.is_not(None),
            st.c.place_kind == "shelter",
        )
        .group_by(st.c.citizen_id, st.c.shelter_id)
    )
    if as_of is not None:
        stmt = stmt.where(st.c.arrived_at <= as_of)
    if planned_only:
        stmt = stmt.where(_planned(st.c.citizen_id))
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def incident_start(engine: Engine, incident_id: int | None) -> dt.datetime | None:
    if incident_id is None:
        return None
    with engine.connect() as conn:
        return conn.execute(
            sa.select(Incident.declared_at).where(Incident.id == incident_id)
        ).scalar()


def follow_up_counts(engine: Engine, incident_id: int | None) -> dict[str, int]:
    """Follow-ups of the incident by status."""
    fu = FollowUp.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(fu.c.status, sa.func.count())
            .where(fu.c.incident_key == _incident_key(incident_id))
            .group_by(fu.c.status)
        ).all()
    return {str(s): int(n) for s, n in rows}


# ------------------------------------------------------------------ incremental reads


def app_answers_since(engine: Engine, incident_id: int | None, after_report_id: int = 0):
    """Latest own answers of the incident as arrays (``citizen_id``, ``at`` seconds,
    ``state``, ``report_id``); with ``after_report_id``, only of the people who reported since
    (a latest status only ever moves to a newer report, whose id is higher)."""
    ls = CitizenLatestStatus.__table__
    sr = StatusReport.__table__
    with engine.connect() as conn:
        stmt = sa.select(
            ls.c.citizen_id,
            epoch_seconds(conn, ls.c.reported_at).label("at"),
            ls.c.state,
            ls.c.report_id,
        ).where(ls.c.incident_key == _incident_key(incident_id))
        if after_report_id:
            stmt = stmt.where(
                ls.c.citizen_id.in_(sa.select(sr.c.citizen_id).where(sr.c.id > after_report_id))
            )
        return query_columns(conn, stmt)


def recorded_since(engine: Engine, incident_id: int | None, after_id: int = 0):
    """Recorded observations of the incident with an id above ``after_id`` (the table is
    append-only), as arrays: ``id``, ``citizen_id``, ``at`` (seconds), ``source``,
    ``outcome``; and how many the incident has in all (a smaller count than the cached one
    means rows were removed)."""
    so = SafetyObservation.__table__
    key = _incident_key(incident_id)
    with engine.connect() as conn:
        cols = query_columns(
            conn,
            sa.select(
                so.c.id,
                so.c.citizen_id,
                epoch_seconds(conn, so.c.observed_at).label("at"),
                so.c.source,
                so.c.outcome,
            )
            .where(so.c.incident_key == key, so.c.id > after_id)
            .order_by(so.c.id),
        )
        total = conn.execute(
            sa.select(sa.func.count()).where(so.c.incident_key == key)
        ).scalar_one()
    return cols, int(total)


def rescue_observations(engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None):
    """Rescue requests as observations (arrays ``citizen_id``, ``at``): those not cancelled
    (``requested``) and their resolutions (``resolved``)."""
    with engine.connect() as conn:
        requested, resolved = _rescue(conn, incident_id, as_of)
        return query_columns(conn, requested), query_columns(conn, resolved)
