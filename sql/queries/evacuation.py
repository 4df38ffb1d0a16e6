"""Read side of evacuation information: areas, stations, water levels, what is in force.

Aggregates and public data only (area shapes, station readings, the levels HQ issued); the
counts of people per area go through :func:`sql.policy.evacuation_coverage`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..frames import query_frame
from ..models import EvacuationArea, EvacuationIssuance, RiverStation, WaterLevelObservation


def _by_code(engine: Engine, table: sa.Table, municipality_code: str | None) -> pd.DataFrame:
    """Every row of ``table`` (of the municipality, when one is given), in code order."""
    stmt = sa.select(table).order_by(table.c.code)
    if municipality_code is not None:
        stmt = stmt.where(table.c.municipality_code == municipality_code)
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def areas_frame(engine: Engine, municipality_code: str | None = None) -> pd.DataFrame:
    """Every issuance area: id, code, kind, names, WKB geometry and bounding box."""
    frame = _by_code(engine, EvacuationArea.__table__, municipality_code)
    if "geom_wkb" in frame:
        frame["geom_wkb"] = [bytes(g) for g in frame["geom_wkb"]]
    return frame


def stations_frame(engine: Engine, municipality_code: str | None = None) -> pd.DataFrame:
    """Every river station with its thresholds."""
    return _by_code(engine, RiverStation.__table__, municipality_code)


def recent_observations(
    engine: Engine,
    since: dt.datetime,
    until: dt.datetime | None = None,
    incident_id: int | None = None,
) -> pd.DataFrame:
    """Observations since ``since`` (up to ``until``): station code, time, level. For a real
    incident of real data (``incident_id`` neither a drill nor synthetic) synthetic readings —
    a drill's played gauges, the demo's — are left out: they never reach a real board."""
    from ..models import Incident

    st = RiverStation.__table__
    obs = WaterLevelObservation.__table__
    stmt = (
        sa.select(st.c.code.label("station"), obs.c.observed_at, obs.c.level_m)
        .select_from(obs.join(st, st.c.id == obs.c.station_id))
        .where(obs.c.observed_at >= since)
        .order_by(st.c.code, obs.c.observed_at)
    )
    if until is not None:
        stmt = stmt.where(obs.c.observed_at <= until)
    with engine.connect() as conn:
        if incident_id is not None:
            kind, synthetic = conn.execute(
                sa.select(Incident.kind, Incident.is_synthetic).where(Incident.id == incident_id)
            ).one()
            if kind != "drill" and not synthetic:
                stmt = stmt.where(obs.c.is_synthetic.is_(False))
        return query_frame(conn, stmt)


@dataclasses.dataclass(frozen=True)
class InForce:
    """The level in force in one area: the issue row that set it."""

    area_id: int
    level: int
    issuance_id: int
    decision_key: str
    issued_at: dt.datetime
    issued_by: str
    reason: str
    is_exercise: bool


def latest_rows(
    conn: Connection,
    incident_id: int,
    area_ids: list[int] | None = None,
    as_of: dt.datetime | None = None,
) -> dict[int, Any]:
    """The newest issuance row per area of an incident (issue or lift), at ``as_of`` when
    given (rows issued by then)."""
    i = EvacuationIssuance.__table__
    newest = (
        sa.select(sa.func.max(i.c.id)).where(i.c.incident_id == incident_id).group_by(i.c.area_id)
    )
    if area_ids is not None:
        newest = newest.where(i.c.area_id.in_(area_ids))
    if as_of is not None:
        newest = newest.where(i.c.issued_at <= as_of)
    rows = conn.execute(sa.select(i).where(i.c.id.in_(newest.scalar_subquery()))).all()
    return {int(r.area_id): r for r in rows}


def in_force_conn(
    conn: Connection, incident_id: int, as_of: dt.datetime | None = None
) -> dict[int, InForce]:
    return {
        area: InForce(
            area,
            int(r.level),
            int(r.id),
            r.decision_key,
            r.issued_at,
            r.issued_by,
            r.reason,
            bool(r.is_exercise),
        )
        for area, r in latest_rows(conn, incident_id, as_of=as_of).items()
        if r.action == "issue"
    }


def in_force(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> dict[int, InForce]:
    """Area id → the level in force for an incident (areas without one are absent), now or
    at ``as_of`` (the replay)."""
    if incident_id is None:
        return {}
    with engine.connect() as conn:
        return in_force_conn(conn, incident_id, as_of)


def issuance_history(engine: Engine, incident_id: int | None) -> pd.DataFrame:
    """Every issuance row of an incident, oldest first, with the area's code and name."""
    i = EvacuationIssuance.__table__
    a = EvacuationArea.__table__
    if incident_id is None:
        return pd.DataFrame()
    stmt = (
        sa.select(
            i,
            a.c.code.label("area_code"),
            a.c.name_ja.label("area_name_ja"),
            a.c.name_en.label("area_name_en"),
        )
        .select_from(i.join(a, a.c.id == i.c.area_id))
        .where(i.c.incident_id == incident_id)
        .order_by(i.c.id)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def decision_rows(engine: Engine, decision_key: str) -> pd.DataFrame:
    """The rows of one decision with their areas' geometry (for its CAP message)."""
    i = EvacuationIssuance.__table__
    a = EvacuationArea.__table__
    stmt = (
        sa.select(
            i,
            a.c.code.label("area_code"),
            a.c.name_ja.label("area_name_ja"),
            a.c.name_en.label("area_name_en"),
            a.c.geom_wkb,
        )
        .select_from(i.join(a, a.c.id == i.c.area_id))
        .where(i.c.decision_key == decision_key)
        .order_by(i.c.id)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    if "geom_wkb" in frame:
        frame["geom_wkb"] = [bytes(g) for g in frame["geom_wkb"]]
    return frame


def decision_keys(engine: Engine, incident_id: int | None) -> list[str]:
    """The decisions of an incident in the order they were taken."""
    if incident_id is None:
        return []
    i = EvacuationIssuance.__table__
    stmt = (
        sa.select(i.c.decision_key, sa.func.min(i.c.id).label("first"))
        .where(i.c.incident_id == incident_id)
        .group_by(i.c.decision_key)
        .order_by(sa.text("first"))
    )
    with engine.connect() as conn:
        return [r.decision_key for r in conn.execute(stmt)]


@dataclasses.dataclass(frozen=True)
class DecisionRef:
    """An earlier decision a message refers to: its first row (the identifier) and time."""

    first_id: int
    issued_at: dt.datetime
    incident_id: int


def decision_ref(engine: Engine, decision_key: str) -> DecisionRef | None:
    i = EvacuationIssuance.__table__
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(i.c.id, i.c.issued_at, i.c.incident_id)
            .where(i.c.decision_key == decision_key)
            .order_by(i.c.id)
            .limit(1)
        ).first()
    return None if row is None else DecisionRef(int(row.id), row.issued_at, int(row.incident_id))


def referenced_decisions(engine: Engine, decision_key: str) -> list[DecisionRef]:
    """The earlier decisions a decision updates or cancels: for each of its rows, the issue
    row that was in force in the area before it (a lift's ``lifts_id``)."""
    i = EvacuationIssuance.__table__
    earlier = i.alias("earlier")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(i.c.id, i.c.area_id, i.c.incident_id, i.c.lifts_id, i.c.previous_level).where(
                i.c.decision_key == decision_key
            )
        ).all()
        before_ids = set()
        for r in rows:
            if r.lifts_id is not None:
                before_ids.add(int(r.lifts_id))
            elif r.previous_level is not None:
                prior = conn.execute(
                    sa.select(sa.func.max(earlier.c.id)).where(
                        earlier.c.incident_id == r.incident_id,
                        earlier.c.area_id == r.area_id,
                        earlier.c.id < r.id,
                        earlier.c.action == "issue",
                    )
                ).scalar()
                if prior is not None:
                    before_ids.add(int(prior))
        if not before_ids:
            return []
        keys = (
            conn.execute(
                sa.select(i.c.decision_key).where(i.c.id.in_(sorted(before_ids))).distinct()
            )
            .scalars()
            .all()
        )
        first = conn.execute(
            sa.select(sa.func.min(i.c.id).label("first_id"), i.c.decision_key)
            .where(i.c.decision_key.in_(keys))
            .group_by(i.c.decision_key)
        ).all()
        ids = [int(r.first_id) for r in first]
        found = conn.execute(
            sa.select(i.c.id, i.c.issued_at, i.c.incident_id)
            .where(i.c.id.in_(ids))
            .order_by(i.c.id)
        ).all()
    return [DecisionRef(int(r.id), r.issued_at, int(r.incident_id)) for r in found]


def current_decision_keys(engine: Engine, incident_id: int | None) -> list[str]:
    """Decisions whose rows are the newest in at least one area (what a feed shows now)."""
    if incident_id is None:
        return []
    with engine.connect() as conn:
        rows = latest_rows(conn, incident_id)
    ordered = sorted(rows.values(), key=lambda r: r.id)
    seen: dict[str, None] = {}
    for r in ordered:
        seen.setdefault(r.decision_key, None)
    return list(seen)


#: The key :mod:`cityos.evacuation_push` sends a decision's push under.
PUSH_KEY_PREFIX = "bosai:evacuation:"


def decision_responses(engine: Engine, incident_id: int | None) -> pd.DataFrame:
    """For each decision's push, one row per citizen it reached (delivered or opened):
    ``decision_key``, ``opened_at`` (first opening, NaT if never) and ``safe_at`` (first
    report in a safe state at or after the decision, NaT if none) — times only, no one's id
    leaves the query (the drill evaluation's trigger → issuance → opened → safe)."""
    from bosai.vocab import SAFE_STATES

    from ..models import NotificationEvent, NotificationRequest, StatusReport

    columns = ["decision_key", "opened_at", "safe_at"]
    if incident_id is None:
        return pd.DataFrame(columns=columns)
    i = EvacuationIssuance.__table__
    r = NotificationRequest.__table__
    e = NotificationEvent.__table__
    s = StatusReport.__table__
    decisions = (
        sa.select(i.c.decision_key, sa.func.min(i.c.issued_at).label("issued_at"))
        .where(i.c.incident_id == incident_id)
        .group_by(i.c.decision_key)
        .subquery()
    )
    reached = (
        sa.select(
            decisions.c.decision_key,
            decisions.c.issued_at,
            e.c.citizen_id,
            sa.func.min(sa.case((e.c.event == "opened", e.c.at))).label("opened_at"),
        )
        .select_from(
            decisions.join(
                r, r.c.idempotency_key == sa.literal(PUSH_KEY_PREFIX) + decisions.c.decision_key
            ).join(e, e.c.request_id == r.c.id)
        )
        .where(e.c.citizen_id.is_not(None), e.c.event.in_(("delivered", "opened")))
        .group_by(decisions.c.decision_key, decisions.c.issued_at, e.c.citizen_id)
        .subquery()
    )
    safe = (
        sa.select(sa.func.min(s.c.reported_at))
        .where(
            s.c.citizen_id == reached.c.citizen_id,
            s.c.incident_id == incident_id,
            s.c.state.in_(SAFE_STATES),
            s.c.reported_at >= reached.c.issued_at,
        )
        .scalar_subquery()
    )
    stmt = sa.select(reached.c.decision_key, reached.c.opened_at, safe.label("safe_at")).order_by(
        reached.c.decision_key
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    return frame if len(frame) else pd.DataFrame(columns=columns)


def trigger_rows(
    engine: Engine, as_of: dt.datetime | None = None, incident_id: int | None = None
) -> pd.DataFrame:
    """The stored JMA triggers (土砂災害警戒情報, 指定河川洪水予報) up to ``as_of``, oldest first:
    kind, subject_code, subject_name, forecast, in_force, report_time (public data). Drill
    telegrams (訓練) count only for a drill's incident, never for a real one."""
    from ..models import EvacuationTrigger, Incident

    t = EvacuationTrigger.__table__
    stmt = sa.select(
        t.c.kind, t.c.subject_code, t.c.subject_name, t.c.forecast, t.c.in_force, t.c.report_time
    ).order_by(t.c.report_time, t.c.id)
    if as_of is not None:
        stmt = stmt.where(t.c.report_time <= as_of)
    with engine.connect() as conn:
        kind = (
            conn.execute(sa.select(Incident.kind).where(Incident.id == incident_id)).scalar()
            if incident_id is not None
            else None
        )
        if kind != "drill":
            stmt = stmt.where(t.c.is_drill.is_(False))
        return query_frame(conn, stmt)
