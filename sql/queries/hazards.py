"""Hazard zones and the city's JMA warnings (not personal data).

A VPWW54 telegram states the *whole* current set of warnings for an area, so the city's
warnings in force are those of its newest telegram (at or before ``as_of``) whose status is not
a lifting (解除) or "none in force" (発表警報・注意報はなし).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..frames import query_frame
from ..models import HazardZone, JmaTelegram, JmaWarning
from .status_snapshot import Fingerprint

ENDED_STATUSES = ("解除", "発表警報・注意報はなし")


def zones_fingerprint(engine: Engine) -> Fingerprint:
    z = HazardZone.__table__
    with engine.connect() as conn:
        n, top, total, newest = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.max(z.c.id), 0),
                sa.func.coalesce(sa.func.sum(z.c.id), 0),
                sa.func.max(z.c.imported_at),
            )
        ).one()
    return Fingerprint(int(n), int(top), int(total), str(newest) if newest else None)


def hazard_zones(engine: Engine, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Zones with ``geom_wkb`` (WGS84): id, kind, rank_code, rank_label, depth_min_m,
    depth_max_m, phenomenon, source_dataset, name, bbox, is_synthetic."""
    z = HazardZone.__table__
    stmt = sa.select(
        z.c.id,
        z.c.kind,
        z.c.rank_code,
        z.c.rank_label,
        z.c.depth_min_m,
        z.c.depth_max_m,
        z.c.phenomenon,
        z.c.source_dataset,
        z.c.name,
        z.c.min_lon,
        z.c.min_lat,
        z.c.max_lon,
        z.c.max_lat,
        z.c.is_synthetic,
        z.c.geom_wkb,
    ).order_by(z.c.id)
    if kinds:
        stmt = stmt.where(z.c.kind.in_(kinds))
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def warning_history(
    engine: Engine, area_codes: tuple[str, ...], as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """Every warning row for the city's area codes, newest telegram first: report_time,
    telegram_id, area_code, area_name, area_level, kind_code, kind_name, status, headline, title."""
    w = JmaWarning.__table__
    t = JmaTelegram.__table__
    stmt = (
        sa.select(
            w.c.report_time,
            w.c.telegram_id,
            w.c.area_code,
            w.c.area_name,
            w.c.area_level,
            w.c.kind_code,
            w.c.kind_name,
            w.c.status,
            t.c.headline,
            t.c.title,
            t.c.is_synthetic,
        )
        .join(t, t.c.id == w.c.telegram_id)
        .where(w.c.area_code.in_(area_codes))
        .order_by(w.c.report_time.desc(), w.c.telegram_id.desc(), w.c.kind_code)
    )
    if as_of is not None:
        stmt = stmt.where(w.c.report_time <= as_of)
    with engine.connect() as conn:
        return query_frame(conn, stmt)


def warnings_in_force(
    engine: Engine,
    area_codes: tuple[str, ...],
    as_of: dt.datetime | None = None,
    *,
    synthetic: bool = True,
) -> pd.DataFrame:
    """The warnings of the newest telegram for the city, without lifted ones.

    ``synthetic=False`` leaves out synthetic telegrams (the demo's, a drill's): they belong to
    the incident or drill they were made for, and once it has ended the state now comes from
    real telegrams only."""
    history = warning_history(engine, area_codes, as_of)
    if not synthetic and not history.empty:
        history = history[~history["is_synthetic"].astype(bool)]
    if history.empty:
        return history
    newest = history["telegram_id"].iloc[0]
    current = history[history["telegram_id"] == newest]
    return current[~current["status"].isin(ENDED_STATUSES)].reset_index(drop=True)
