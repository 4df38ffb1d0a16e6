"""Citizens' latest status as arrays, for the map's aggregation (aggregates only leave here).

The HQ map refreshes every few seconds. Instead of reading every citizen each time, callers keep
the home points (which rarely change) and fetch only the latest-status rows that changed since
their last read: a row of ``citizen_latest_status`` only ever changes by pointing at a *newer*
report, and reports get increasing ids, so ``report_id > last_seen`` finds every change. A
:class:`Fingerprint` tells when that shortcut is not enough (rows deleted or rebuilt) and the
caller must read everything again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import STATUS_STATES

from ..frames import query_ids
from ..models import Citizen, CitizenLatestStatus, StatusReport
from .overview import _as_datetime

#: Integer code of each state in the arrays (index in STATUS_STATES); -1 means no report.
STATE_CODES = {state: i for i, state in enumerate(STATUS_STATES)}
NO_REPORT = -1


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    rows: int
    max_key: int
    key_sum: int
    newest: str | None = None


@dataclasses.dataclass(frozen=True)
class HomePoints:
    """Every citizen with a home location: sorted ids and their coordinates."""

    fingerprint: Fingerprint
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray


@dataclasses.dataclass(frozen=True)
class StateRows:
    citizen_ids: np.ndarray
    states: np.ndarray  # int8 codes (STATE_CODES)
    report_ids: np.ndarray


def citizens_fingerprint(engine: Engine, thorough: bool = False) -> Fingerprint:
    """Count and highest id of the citizens (cheap: both come from the primary key);
    ``thorough`` adds the id sum and the newest ``updated_at`` (a table scan), which also
    catches a moved home or a removed-and-added citizen."""
    c = Citizen.__table__
    with engine.connect() as conn:
        # Two statements: SQLite answers each from the b-tree alone, not both together.
        n = conn.execute(sa.select(sa.func.count()).select_from(c)).scalar_one()
        top = conn.execute(sa.select(sa.func.max(c.c.id))).scalar() or 0
        if not thorough:
            return Fingerprint(int(n), int(top), 0)
        total, newest = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(c.c.id), 0), sa.func.max(c.c.updated_at))
        ).one()
    return Fingerprint(int(n), int(top), int(total), str(newest) if newest else None)


def home_points(engine: Engine) -> HomePoints:
    c = Citizen.__table__
    fingerprint = citizens_fingerprint(engine, thorough=True)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.c.id, c.c.home_lat, c.c.home_lon)
            .where(c.c.home_lat.is_not(None), c.c.home_lon.is_not(None))
            .order_by(c.c.id)
        ).all()
    if rows:
        # Rows to tuples first: numpy probing SQLAlchemy Row objects is ~25x slower.
        arr = np.asarray([tuple(r) for r in rows], dtype=float)
        ids, lat, lon = arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]
    else:
        ids, lat, lon = np.empty(0, np.int64), np.empty(0), np.empty(0)
    return HomePoints(fingerprint, ids, lat, lon)


@dataclasses.dataclass(frozen=True)
class FeedPosition:
    """Where the status feed stands: the highest report id and when that report arrived,
    and how many citizens have a latest status in the incident."""

    top_report_id: int
    newest_received_at: dt.datetime | None
    latest_rows: int


def feed_position(engine: Engine, incident_id: int | None) -> FeedPosition:
    sr = StatusReport.__table__
    ls = CitizenLatestStatus.__table__
    with engine.connect() as conn:
        top = conn.execute(sa.select(sa.func.max(sr.c.id))).scalar() or 0
        received = (
            conn.execute(sa.select(sr.c.received_at).where(sr.c.id == top)).scalar()
            if top
            else None
        )
        rows = conn.execute(
            sa.select(sa.func.count()).where(ls.c.incident_key == (incident_id or 0))
        ).scalar_one()
    return FeedPosition(int(top), received, int(rows))


def latest_states(engine: Engine, incident_id: int | None, after_report_id: int = 0) -> StateRows:
    """Latest status rows of an incident; with ``after_report_id``, only those of citizens who
    sent a report with a higher id since (the rows that can have changed)."""
    ls = CitizenLatestStatus.__table__
    sr = StatusReport.__table__
    stmt = sa.select(ls.c.citizen_id, ls.c.state, ls.c.report_id).where(
        ls.c.incident_key == (incident_id or 0)
    )
    if after_report_id:
        changed = sa.select(sr.c.citizen_id).where(sr.c.id > after_report_id)
        stmt = stmt.where(ls.c.citizen_id.in_(changed))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return _state_rows(rows)


def states_as_of(engine: Engine, incident_id: int | None, at: dt.datetime) -> StateRows:
    """Each citizen's newest report at or before ``at`` (replay), from the reports themselves."""
    sr = StatusReport.__table__
    ranked = (
        sa.select(
            sr.c.citizen_id,
            sr.c.state,
            sr.c.id,
            sa.func.row_number()
            .over(partition_by=sr.c.citizen_id, order_by=(sr.c.reported_at.desc(), sr.c.id.desc()))
            .label("rn"),
        )
        .where(
            sr.c.incident_id == incident_id if incident_id else sr.c.incident_id.is_(None),
            sr.c.reported_at <= at,
        )
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ranked.c.citizen_id, ranked.c.state, ranked.c.id).where(ranked.c.rn == 1)
        ).all()
    return _state_rows(rows)


def _state_rows(rows) -> StateRows:
    if not rows:
        empty = np.empty(0, np.int64)
        return StateRows(empty, np.empty(0, np.int8), empty)
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    states = np.fromiter((STATE_CODES[r[1]] for r in rows), np.int8, len(rows))
    reports = np.fromiter((r[2] for r in rows), np.int64, len(rows))
    return StateRows(ids, states, reports)


def report_time_range(
    engine: Engine, incident_id: int | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last report time of an incident (the replay slider's range)."""
    sr = StatusReport.__table__
    with engine.connect() as conn:
        first, last = conn.execute(
            sa.select(sa.func.min(sr.c.reported_at), sa.func.max(sr.c.reported_at)).where(
                sr.c.incident_id == incident_id if incident_id else sr.c.incident_id.is_(None)
            )
        ).one()
    return _as_datetime(first), _as_datetime(last)


def register_member_ids(engine: Engine) -> np.ndarray:
    """Ids of the citizens on the evacuation-support register (for counting only)."""
    from ..models import SupportRegisterEntry

    column = SupportRegisterEntry.__table__.c.citizen_id
    with engine.connect() as conn:
        return query_ids(conn, sa.select(column).order_by(column))


def heading_citizen_ids(engine: Engine, incident_id: int | None) -> np.ndarray:
    """Ids of citizens evacuating towards a named shelter (for counting only)."""
    ls = CitizenLatestStatus.__table__
    with engine.connect() as conn:
        ids = (
            conn.execute(
                sa.select(ls.c.citizen_id).where(
                    ls.c.incident_key == (incident_id or 0),
                    ls.c.state == "evacuating",
                    ls.c.shelter_id.is_not(None),
                )
            )
            .scalars()
            .all()
        )
    return np.asarray(ids, dtype=np.int64)
