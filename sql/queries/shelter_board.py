"""Shelters as the headquarters see them: open or not, latest head count, occupancy history.

Not personal data. ``as_of`` gives the state at a past moment (replay).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import CitizenLatestStatus, Shelter, ShelterOccupancy, ShelterOperation
from ..models.shelters import shelter_columns

#: The board's shelter columns: name … capacity, the hazard flags and kinds, whom it takes.
SHELTER_COLUMNS = (
    "id",
    *shelter_columns("name", "pets_allowed"),
    "source",
    "is_synthetic",
    "standard_id",
    "gsi_id",
)


def shelter_names(engine: Engine) -> dict[int, str]:
    """Shelter id → name (for labelling rows that name shelters by id)."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Shelter.id, Shelter.name)).all())


def shelter_board(
    engine: Engine, incident_id: int | None, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """One row per shelter: its data, ``is_open`` (an operation of the incident covering
    ``as_of``/now), ``opened_at``, the latest ``head_count`` and ``observed_at`` (at or before
    ``as_of``), ``reported_here`` (citizens whose latest status is at this shelter) and
    ``heading_here`` (citizens evacuating towards it)."""
    s = Shelter.__table__
    op = ShelterOperation.__table__
    occ = ShelterOccupancy.__table__
    ls = CitizenLatestStatus.__table__
    op_cond = [op.c.incident_id == incident_id] if incident_id else [op.c.incident_id.is_(None)]
    if as_of is not None:
        op_cond += [
            op.c.opened_at <= as_of,
            sa.or_(op.c.closed_at.is_(None), op.c.closed_at > as_of),
        ]
    else:
        op_cond.append(op.c.closed_at.is_(None))
    open_ops = (
        sa.select(op.c.shelter_id, sa.func.min(op.c.opened_at).label("opened_at"))
        .where(*op_cond)
        .group_by(op.c.shelter_id)
        .subquery()
    )
    occ_cond = [occ.c.incident_id == incident_id] if incident_id else [occ.c.incident_id.is_(None)]
    if as_of is not None:
        occ_cond.append(occ.c.observed_at <= as_of)
    newest = (
        sa.select(occ.c.shelter_id, sa.func.max(occ.c.observed_at).label("observed_at"))
        .where(*occ_cond)
        .group_by(occ.c.shelter_id)
        .subquery()
    )
    # Several sources may report at the same moment: take the largest count then.
    latest_occ = (
        sa.select(
            occ.c.shelter_id,
            sa.func.max(occ.c.head_count).label("head_count"),
            occ.c.observed_at,
        )
        .join(
            newest,
            sa.and_(
                newest.c.shelter_id == occ.c.shelter_id, newest.c.observed_at == occ.c.observed_at
            ),
        )
        .where(*occ_cond)
        .group_by(occ.c.shelter_id, occ.c.observed_at)
        .subquery()
    )
    here = (
        sa.select(
            ls.c.shelter_id,
            sa.func.count().filter(ls.c.state == "at_shelter").label("reported_here"),
            sa.func.count().filter(ls.c.state == "evacuating").label("heading_here"),
        )
        .where(
            ls.c.incident_key == (incident_id or 0),
            ls.c.state.in_(("at_shelter", "evacuating")),
            ls.c.shelter_id.is_not(None),
        )
        .group_by(ls.c.shelter_id)
        .subquery()
    )
    stmt = (
        sa.select(
            *(s.c[c] for c in SHELTER_COLUMNS),
            open_ops.c.opened_at,
            latest_occ.c.head_count,
            latest_occ.c.observed_at,
            here.c.reported_here,
            here.c.heading_here,
        )
        .select_from(
            s.outerjoin(open_ops, open_ops.c.shelter_id == s.c.id)
            .outerjoin(latest_occ, latest_occ.c.shelter_id == s.c.id)
            .outerjoin(here, here.c.shelter_id == s.c.id)
        )
        .order_by(s.c.id)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["is_open"] = frame["opened_at"].notna()
    frame["reported_here"] = frame["reported_here"].fillna(0).astype(int)
    frame["heading_here"] = frame["heading_here"].fillna(0).astype(int)
    return _counts_from_reception(engine, frame, incident_id, as_of)


def _counts_from_reception(
    engine: Engine, frame: pd.DataFrame, incident_id: int | None, as_of: dt.datetime | None
) -> pd.DataFrame:
    """Where a shelter uses reception (anyone checked in there), its head count is the people
    checked in (walk-ins with their households), as of the newest arrival or departure; the
    other shelters keep their manual counts. ``head_count_source``: ``reception``, ``manual``
    or None (no count)."""
    from .safety_picture import reception_shelters

    counted = reception_shelters(engine, incident_id, as_of).set_index("shelter_id")
    uses = frame["id"].isin(counted.index)
    frame["head_count_source"] = np.where(
        uses, "reception", np.where(frame["head_count"].notna(), "manual", None)
    )
    if uses.any():
        frame["head_count"] = frame["head_count"].astype(object)
        frame.loc[uses, "head_count"] = frame.loc[uses, "id"].map(counted["head_count"])
        frame.loc[uses, "observed_at"] = frame.loc[uses, "id"].map(counted["observed_at"])
        frame["head_count"] = pd.to_numeric(frame["head_count"])
    return frame


def occupancy_history(engine: Engine, shelter_id: int, incident_id: int | None) -> pd.DataFrame:
    """The head counts of one shelter over time (observed_at, head_count, source, entered_by)."""
    occ = ShelterOccupancy.__table__
    cond = occ.c.incident_id == incident_id if incident_id else occ.c.incident_id.is_(None)
    stmt = (
        sa.select(occ.c.observed_at, occ.c.head_count, occ.c.source, occ.c.entered_by)
        .where(occ.c.shelter_id == shelter_id, cond)
        .order_by(occ.c.observed_at, occ.c.id)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def operations_log(engine: Engine, shelter_id: int, incident_id: int | None) -> pd.DataFrame:
    op = ShelterOperation.__table__
    cond = op.c.incident_id == incident_id if incident_id else op.c.incident_id.is_(None)
    stmt = (
        sa.select(op.c.opened_at, op.c.closed_at, op.c.opened_by, op.c.closed_by, op.c.reason)
        .where(op.c.shelter_id == shelter_id, cond)
        .order_by(op.c.opened_at)
    )
    with engine.connect() as conn:
        return query_frame(conn, stmt)
