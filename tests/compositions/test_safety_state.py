"""The safety picture's composer: the incremental refresh equals a full read after new
check-ins, reports and app answers; replay at a moment; the map's district points."""

from __future__ import annotations

import datetime as dt

import numpy as np

from compositions.safety_state import (
    Observations,
    SafetyCache,
    build_safety_state,
    district_points,
    person_rows,
)
from sql.actions.follow_up import record_report
from sql.actions.reception import check_in
from sql.city_config import active_city
from sql.ingest import ingest_status_reports
from sql.queries import safety_picture
from sql.viewer import Viewer

HQ = Viewer(role="hq", subject="hq-1")


def full_rows(engine, cache, kinds):
    people = cache.people(engine, kinds)
    return person_rows(people, Observations.from_frame(safety_picture.observations(engine, 1)))


def test_an_incremental_refresh_equals_a_full_read(demo_engine):
    engine = demo_engine
    city = active_city(engine)
    cache = SafetyCache()
    first = build_safety_state(engine, cache, 1, city)
    unaccounted = first.board["citizen_id"].head(6).tolist()
    staff = Viewer(role="shelter_staff", subject="desk", shelter_ids=(1, 2, 3))
    with engine.connect() as conn:
        shelter = conn.exec_driver_sql(
            "SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 LIMIT 1"
        ).scalar()
    check_in(engine, Viewer(role="hq", subject="hq-desk"), 1, shelter, unaccounted[:2])
    record_report(engine, HQ, 1, unaccounted[2:4], "supporter", "safe")
    ingest_status_reports(
        engine,
        [
            {
                "idempotency_key": f"t:{c}",
                "citizen_id": c,
                "incident_id": 1,
                "state": "needs_rescue",
                "source": "app",
                "reported_at": dt.datetime.now(dt.UTC),
            }
            for c in unaccounted[4:6]
        ],
    )
    cache.CHECK_EVERY = 0.0
    again = build_safety_state(engine, cache, 1, city)
    full = full_rows(engine, cache, again.zone_kinds)
    assert (again.rows["state"].to_numpy() == full["state"].to_numpy()).all()
    assert again.rows["source"].astype(object).fillna("").tolist() == (
        full["source"].astype(object).fillna("").tolist()
    )
    by_id = again.rows.set_index("citizen_id")
    assert set(by_id.loc[unaccounted[:2], "source"]) == {"reception"}
    assert set(by_id.loc[unaccounted[2:4], "source"]) == {"supporter"}
    assert set(by_id.loc[unaccounted[4:6], "state"]) == {"needs_help"}
    assert again.counts["accounted"] == first.counts["accounted"] + 4
    assert not set(unaccounted[:4]) & set(again.board["citizen_id"])
    del staff


def test_replay_at_a_moment_and_the_map_points(demo_engine):
    engine = demo_engine
    city = active_city(engine)
    cache = SafetyCache()
    live = build_safety_state(engine, cache, 1, city)
    start = safety_picture.incident_start(engine, 1)
    early = build_safety_state(engine, cache, 1, city, as_of=start + dt.timedelta(minutes=20))
    assert early.counts["accounted"] < live.counts["accounted"]
    points = district_points(live)
    assert points["unaccounted"].sum() == len(live.board)
    assert np.isfinite(points[["lat", "lon"]].to_numpy()).all()
