"""The safety loop at city scale: 120,000 opted-in citizens with 20,000 shelter check-ins,
2,000 supporter and family reports (12,000 / 2,000 / 200 with --quick), on SQLite.

- ``safety.merge_and_list_ms``: server time of the merge (every source, every person) and the
  unaccounted-for list (priority order, districts, key figures) as a page refresh does it:
  the people, their home zones and the merge's inputs cached and brought up to date
  incrementally (``SafetyCache``), the merge and the list computed whole; against a naive per-person merge in the same run: for each
  person, their newest own answer, their recorded observations and their rescue requests read
  by their id and folded in Python (:func:`analytics.safety_merge.merge_one`), measured on a
  random sample of people and scaled to the whole population. ``ratio`` = ours / naive.
- ``safety.cold_build_ms``: the same with an empty cache (the people and their hazard zones
  read and indexed first), value only.
- ``safety.check_in_ms``: one check-in at a shelter's reception (checks, stay, observation,
  activity log and audit chain in one transaction), the median of 30, against the same
  check-in run as separate transactions without the write lock taken first (the shape of a
  naive desk), which the race tests show can double a person.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import numpy as np

from .core import BenchContext, Result, best_of, load_demo_city


def _add_checkins(engine, checkins: int, reports: int) -> None:
    """Bring the check-ins at the open shelters up to ``checkins`` people and add supporter
    and family reports, straight into the tables (as reception and headquarters would have)."""
    import sqlalchemy as sa

    from sql.bulk import bulk_insert
    from sql.models import Citizen, EvacueeStay, SafetyObservation, ShelterOperation

    rng = np.random.default_rng(18)
    t0 = dt.datetime(2026, 7, 10, 0, 30, tzinfo=dt.UTC)
    with engine.begin() as conn:
        shelters = (
            conn.execute(
                sa.select(ShelterOperation.shelter_id).where(ShelterOperation.incident_id == 1)
            )
            .scalars()
            .all()
        )
        staying = set(
            conn.execute(
                sa.select(EvacueeStay.citizen_id).where(EvacueeStay.citizen_id.is_not(None))
            ).scalars()
        )
        top = conn.execute(sa.select(sa.func.max(EvacueeStay.id))).scalar() or 0
        # The demo checked some people in already: add the rest up to ``checkins``.
        checkins = max(checkins - len(staying), 0)
        ids = [i for i in conn.execute(sa.select(Citizen.id)).scalars() if i not in staying]
        chosen = rng.choice(np.array(ids), size=checkins + reports, replace=False)
        stays = []
        for k, citizen in enumerate(chosen[:checkins].tolist()):
            stays.append(
                {
                    "id": top + k + 1,
                    "incident_key": 1,
                    "citizen_id": citizen,
                    "place_kind": "shelter",
                    "shelter_id": int(rng.choice(shelters)),
                    "party": f"bench-{k}",
                    "method": "search",
                    "arrived_at": t0 + dt.timedelta(minutes=float(rng.random() * 150)),
                    "arrived_by": "bench",
                }
            )
        bulk_insert(conn, EvacueeStay.__table__, stays)
        observed = [
            {
                "incident_key": 1,
                "citizen_id": s["citizen_id"],
                "source": "reception",
                "outcome": "checked_in",
                "observed_at": s["arrived_at"],
                "recorded_at": s["arrived_at"],
                "recorded_by": "bench",
                "shelter_id": s["shelter_id"],
                "stay_id": s["id"],
            }
            for s in stays
        ]
        for citizen in chosen[checkins:].tolist():
            observed.append(
                {
                    "incident_key": 1,
                    "citizen_id": citizen,
                    "source": str(rng.choice(["supporter", "family"])),
                    "outcome": str(rng.choice(["safe", "needs_help"], p=[0.9, 0.1])),
                    "observed_at": t0 + dt.timedelta(minutes=float(rng.random() * 170)),
                    "recorded_at": t0,
                    "recorded_by": "bench",
                    "shelter_id": None,
                    "stay_id": None,
                }
            )
        bulk_insert(conn, SafetyObservation.__table__, observed)


def naive_person(conn, citizen_id: int):
    """Baseline: one person's sources read by their id, folded in Python."""
    import sqlalchemy as sa

    from analytics.safety_merge import (
        DETAIL_CATEGORY,
        SOURCE_STANDING,
        Observation,
        merge_one,
    )
    from sql.models import CitizenLatestStatus, RescueRequest, SafetyObservation

    ls = CitizenLatestStatus.__table__
    so = SafetyObservation.__table__
    rr = RescueRequest.__table__
    found = []
    for state, at in conn.execute(
        sa.select(ls.c.state, ls.c.reported_at).where(
            ls.c.citizen_id == citizen_id, ls.c.incident_key == 1
        )
    ):
        found.append(Observation(at.timestamp(), SOURCE_STANDING["app"], DETAIL_CATEGORY[state]))
    for source, outcome, at in conn.execute(
        sa.select(so.c.source, so.c.outcome, so.c.observed_at).where(
            so.c.citizen_id == citizen_id, so.c.incident_key == 1
        )
    ):
        found.append(Observation(at.timestamp(), SOURCE_STANDING[source], DETAIL_CATEGORY[outcome]))
    for status, requested, updated in conn.execute(
        sa.select(rr.c.status, rr.c.requested_at, rr.c.updated_at).where(
            rr.c.citizen_id == citizen_id, rr.c.incident_id == 1
        )
    ):
        if status != "cancelled":
            found.append(Observation(requested.timestamp(), 2, DETAIL_CATEGORY["rescue_requested"]))
        if status == "resolved":
            found.append(Observation(updated.timestamp(), 3, DETAIL_CATEGORY["rescued"]))
    return merge_one(found)


def run(ctx: BenchContext) -> list[Result]:
    from analytics import unaccounted
    from compositions.safety_state import SafetyCache, build_safety_state, person_rows
    from sql.actions.reception import check_in
    from sql.city_config import active_city
    from sql.engine import make_engine
    from sql.queries.incidents import incident_clock
    from sql.viewer import Viewer

    n = 12_000 if ctx.quick else 120_000
    checkins = 2_000 if ctx.quick else 20_000
    reports = 200 if ctx.quick else 2_000
    url = ctx.sqlite_url("safety")
    load_demo_city(url, n)
    engine = make_engine(url)
    _add_checkins(engine, checkins, reports)
    city = active_city(engine)
    now = incident_clock(engine, 1)

    cache = SafetyCache()
    start = time.perf_counter()
    state = build_safety_state(engine, cache, 1, city)
    cold = time.perf_counter() - start
    people = cache.people(engine, state.zone_kinds)

    def merge_and_list():
        rows = person_rows(people, cache.observations(engine, 1))
        board = unaccounted.unaccounted(rows, now)
        unaccounted.by_district(board)
        unaccounted.accounted_counts(rows)
        return board

    ours = best_of(merge_and_list, repeat=7)
    whole = best_of(lambda: build_safety_state(engine, cache, 1, city))

    sample = np.random.default_rng(7).choice(
        people["citizen_id"].to_numpy(), 1_000 if ctx.quick else 3_000, replace=False
    )
    with engine.connect() as conn:
        start = time.perf_counter()
        for citizen in sample.tolist():
            naive_person(conn, citizen)
        per_person = (time.perf_counter() - start) / len(sample)
    naive = per_person * len(people)

    # One check-in at reception: a person not yet checked in, at an open shelter.
    import sqlalchemy as sa

    from sql.models import EvacueeStay, ShelterOperation

    with engine.connect() as conn:
        shelter = conn.execute(
            sa.select(ShelterOperation.shelter_id).where(ShelterOperation.incident_id == 1).limit(1)
        ).scalar_one()
        staying = set(conn.execute(sa.select(EvacueeStay.citizen_id)).scalars().all())
    fresh = [int(i) for i in people["citizen_id"] if int(i) not in staying][:60]
    desk = Viewer(role="shelter_staff", subject="bench-desk", shelter_ids=(shelter,))
    timings = []
    for citizen in fresh[:30]:
        start = time.perf_counter()
        check_in(engine, desk, 1, shelter, [citizen])
        timings.append(time.perf_counter() - start)
    one = statistics.median(timings)
    naive_timings = [_naive_check_in(engine, shelter, c) for c in fresh[30:60]]
    engine.dispose()
    unaccounted_n = len(state.board)
    return [
        Result(
            f"safety.merge_and_list_ms.{n}_citizens",
            ours * 1000,
            "ms",
            baseline=naive * 1000,
            note=f"{checkins:,} check-ins, {reports:,} reports; {unaccounted_n:,} unaccounted; "
            f"naive per-person merge {per_person * 1000:.2f} ms/person × {len(people):,} "
            f"(sampled {len(sample):,}); the whole picture with plans {whole * 1000:.0f} ms; "
            "ratio < 1 is faster",
        ),
        Result(f"safety.cold_build_ms.{n}_citizens", cold * 1000, "ms", note="empty cache"),
        Result(
            "safety.check_in_ms",
            one * 1000,
            "ms",
            baseline=statistics.median(naive_timings) * 1000,
            note="median of 30 check-ins (lock, checks, stay, observation, activity, audit) "
            "against the same writes without the lock and checks; ratio ≈ the cost of safety",
        ),
    ]


def _naive_check_in(engine, shelter_id: int, citizen_id: int) -> float:
    import sqlalchemy as sa

    from sql.models import EvacueeStay, SafetyObservation
    from sql.models.base import utcnow

    start = time.perf_counter()
    with engine.begin() as conn:
        now = utcnow()
        stay = conn.execute(
            sa.insert(EvacueeStay.__table__)
            .values(
                incident_key=1,
                citizen_id=citizen_id,
                place_kind="shelter",
                shelter_id=shelter_id,
                party="naive",
                method="search",
                arrived_at=now,
                arrived_by="bench",
            )
            .returning(EvacueeStay.__table__.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(SafetyObservation.__table__).values(
                incident_key=1,
                citizen_id=citizen_id,
                source="reception",
                outcome="checked_in",
                observed_at=now,
                recorded_by="bench",
                stay_id=stay,
            )
        )
    return time.perf_counter() - start
