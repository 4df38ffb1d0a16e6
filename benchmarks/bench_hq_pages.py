"""The register, safety and warnings pages' data at 120,000 citizens (12,000 with --quick).

- ``warnings.zone_counts``: one refresh of "people per hazard-zone rank by status" with the
  point-in-polygon step kept (:class:`analytics.zone_exposure.ZoneMembership`, cached by the page
  while homes and zones are unchanged), against the same refresh that rebuilds it every time.
- ``safety.aggregates``: the page's aggregate SQL (district × age band × status, households)
  plus the rates, against reading every citizen and latest status into pandas and grouping there.
- ``register.rows``: the policy-filtered register with its work order (value only, with the
  number of entries).
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from .core import BenchContext, Result, best_of, load_demo_city


def _naive_safety(engine, incident_id: int, day: dt.date):
    """Baseline: every citizen with its latest status into pandas; the same three groupings
    and the households computed there."""
    import sqlalchemy as sa

    from sql.frames import query_frame
    from sql.models import Citizen, CitizenLatestStatus

    c = Citizen.__table__
    ls = CitizenLatestStatus.__table__
    stmt = sa.select(
        c.c.id, c.c.district, c.c.birth_date, c.c.household_id, ls.c.state
    ).select_from(
        c.outerjoin(ls, sa.and_(ls.c.citizen_id == c.c.id, ls.c.incident_key == incident_id))
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    birth = pd.to_datetime(frame["birth_date"])
    age = (
        day.year
        - birth.dt.year
        - ((birth.dt.month * 100 + birth.dt.day) > day.month * 100 + day.day)
    )
    frame["age_band"] = pd.cut(age, [-1, 14, 39, 64, 74, 200], labels=False)
    frame["safe"] = frame["state"].isin(("safe_at_home", "at_shelter", "elsewhere_safe"))
    frame["answered"] = frame["state"].notna()
    tables = [
        frame.groupby(by, dropna=False)[["answered", "safe"]].agg(["size", "sum"])
        for by in (["district"], ["age_band"], ["district", "age_band"])
    ]
    households = frame.groupby("household_id")["safe"].agg(["size", "sum"])
    return tables, households


def run(ctx: BenchContext) -> list[Result]:
    from analytics import safety_rates
    from analytics.support_register import work_order
    from analytics.zone_exposure import ZoneMembership
    from sql import policy
    from sql.engine import make_engine
    from sql.queries import hazards, safety, status_snapshot
    from sql.viewer import Viewer

    n = 12_000 if ctx.quick else 120_000
    url = ctx.sqlite_url("hq_pages")
    load_demo_city(url, n)
    engine = make_engine(url)
    incident_id = 1

    points = status_snapshot.home_points(engine)
    zones = hazards.hazard_zones(engine)
    membership = ZoneMembership(points.ids, points.lat, points.lon, zones)

    def cached_refresh():
        states = status_snapshot.latest_states(engine, incident_id)
        return membership.counts(states.citizen_ids, states.states)

    def rebuilt_refresh():
        p = status_snapshot.home_points(engine)
        m = ZoneMembership(p.ids, p.lat, p.lon, hazards.hazard_zones(engine))
        states = status_snapshot.latest_states(engine, incident_id)
        return m.counts(states.citizen_ids, states.states)

    cached = best_of(cached_refresh)
    rebuilt = best_of(rebuilt_refresh)
    start = time.perf_counter()
    ZoneMembership(points.ids, points.lat, points.lon, zones)
    build = time.perf_counter() - start

    day = safety.incident_reference_date(engine, incident_id)

    def aggregates():
        counts = safety.safety_counts(engine, incident_id, day)
        safety.household_counts(engine, incident_id)
        for by in (["district"], ["age_band"], ["district", "age_band"]):
            safety_rates.rates(counts, by)

    sql_side = best_of(aggregates)
    naive = best_of(lambda: _naive_safety(engine, incident_id, day))

    hq = Viewer(role="hq", subject="bench")
    policy.forget_recent_views()
    start = time.perf_counter()
    people = policy.register_people(engine, hq, incident_id)
    work_order(people, dt.datetime.now(dt.UTC))
    register = time.perf_counter() - start
    engine.dispose()
    return [
        Result(
            f"warnings.zone_counts.{n}_citizens",
            cached,
            "s",
            baseline=rebuilt,
            note=f"refresh with the zone membership cached vs rebuilt ({len(zones)} zones); "
            f"ratio < 1 is faster; building it once takes {build:.3f} s",
        ),
        Result(
            f"safety.aggregates.{n}_citizens",
            sql_side,
            "s",
            baseline=naive,
            note="aggregate SQL + rates vs every citizen into pandas; ratio < 1 is faster",
        ),
        Result(
            f"register.rows.{n}_citizens",
            register,
            "s",
            note=f"{len(people):,} entries through the policy (audited) and the work order",
        ),
    ]
