"""The demo city: deterministic, idempotent, realistic enough to drive every screen."""

from __future__ import annotations

import collections
import datetime as dt

import numpy as np
import pytest
import sqlalchemy as sa

from bosai.cli import main
from drills.demo_city import DemoParams, generate
from sql.city_config import active_city
from sql.content_hash import content_hash
from sql.demo_store import demo_state, load_demo

#: Bookkeeping stamps written at setup time, not part of the demo's content.
BOOKKEEPING = {"cities": {"updated_at"}, "meta": {"updated_at"}}
SMALL = 1500


@pytest.fixture(scope="module")
def city(sqlite_template):
    from sql.engine import make_engine

    engine = make_engine(f"sqlite:///{sqlite_template}")
    yield active_city(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def demo(city):
    return generate(DemoParams(citizens=SMALL), city)


def test_same_seed_same_rows_different_seed_different_rows(city, demo):
    again = generate(DemoParams(citizens=SMALL), city)
    other = generate(DemoParams(citizens=SMALL, seed=7), city)
    assert again.tables == demo.tables
    assert other.tables["citizens"] != demo.tables["citizens"]


def test_same_seed_gives_the_same_database_content_hash(tmp_path, sqlite_template, city):
    import shutil

    from sql.engine import make_engine

    hashes = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        data = generate(DemoParams(citizens=SMALL), city)
        load_demo(engine, data.tables, data.params.as_meta())
        hashes.append(content_hash(engine, exclude=BOOKKEEPING))
        engine.dispose()
    assert hashes[0] == hashes[1]


@pytest.mark.pg
def test_postgresql_holds_exactly_what_sqlite_holds(pg_engine, sqlite_engine, city):
    for engine in (sqlite_engine, pg_engine):
        data = generate(DemoParams(citizens=SMALL), city)
        load_demo(engine, data.tables, data.params.as_meta())
    assert content_hash(pg_engine, exclude=BOOKKEEPING) == content_hash(
        sqlite_engine, exclude=BOOKKEEPING
    )


def test_households_register_and_consent_look_like_the_city(demo):
    sizes = collections.Counter(c["household_id"] for c in demo.tables["citizens"])
    assert set(sizes.values()) <= {1, 2, 3, 4, 5}
    assert len(demo.tables["citizens"]) == SMALL
    register_share = demo.count("support_register") / SMALL
    assert 0.03 < register_share < 0.08
    # Consent to location falls with age.
    by_citizen = {c["id"]: c for c in demo.tables["citizens"]}
    ref = demo.params.start.date()
    location = {
        e["citizen_id"] for e in demo.tables["consent_events"] if e["data_item"] == "location"
    }
    young = [c for c in by_citizen.values() if (ref - c["birth_date"]).days < 40 * 365]
    old = [c for c in by_citizen.values() if (ref - c["birth_date"]).days >= 70 * 365]
    share = lambda group: sum(c["id"] in location for c in group) / len(group)  # noqa: E731
    assert share(young) > share(old)
    kinds = collections.Counter(e["event_type"] for e in demo.tables["consent_events"])
    assert kinds["withdrawn"] > 0 and kinds["given"] > SMALL
    t0 = demo.params.start
    during = [
        e
        for e in demo.tables["consent_events"]
        if e["event_type"] == "withdrawn" and e["occurred_at"] >= t0
    ]
    assert during, "some citizens withdraw consent during the incident"


def test_homes_lie_in_the_city_and_names_are_marked_synthetic(demo, city):
    lat = np.array([c["home_lat"] for c in demo.tables["citizens"]])
    lon = np.array([c["home_lon"] for c in demo.tables["citizens"]])
    assert (lat > city.bbox_south).all() and (lat < city.bbox_north).all()
    assert (lon > city.bbox_west).all() and (lon < city.bbox_east).all()
    assert abs(np.median(lat) - 37.495) < 0.03 and abs(np.median(lon) - 139.930) < 0.03
    assert all(c["is_synthetic"] for c in demo.tables["citizens"])
    assert all(" " in c["name"] and c["kana"] for c in demo.tables["citizens"])


def test_shelters_zones_and_warnings(demo):
    assert 280 <= demo.count("shelters") <= 320
    kinds = collections.Counter(z["kind"] for z in demo.tables["hazard_zones"])
    assert kinds["flood"] >= 3 and kinds["landslide"] >= 10
    flood = [z for z in demo.tables["hazard_zones"] if z["kind"] == "flood"]
    assert {z["rank_label"] for z in flood} >= {"0.5m以上3.0m未満", "3.0m以上5.0m未満"}
    # Landslide zones lie in the eastern hills.
    assert all(
        z["min_lon"] > 139.96 for z in demo.tables["hazard_zones"] if z["kind"] == "landslide"
    )
    issued = sorted(demo.tables["jma_warnings"], key=lambda w: w["report_time"])
    first_seen = []
    for w in issued:
        if w["kind_name"] not in first_seen and w["status"] != "継続":
            first_seen.append(w["kind_name"])
    assert (
        first_seen.index("大雨注意報") < first_seen.index("大雨警報") < first_seen.index("洪水警報")
    )


def test_a_three_hour_timeline(demo):
    t0 = demo.params.start
    end = t0 + dt.timedelta(hours=3)
    times = [r["reported_at"] for r in demo.tables["status_reports"]]
    assert min(times) >= t0 and max(times) <= end
    states = collections.Counter(r["state"] for r in demo.tables["status_reports"])
    assert {"evacuating", "at_shelter", "needs_rescue", "safe_at_home"} <= set(states)
    statuses = collections.Counter(r["status"] for r in demo.tables["rescue_requests"])
    assert statuses["resolved"] > 0 and statuses["new"] > 0
    # Every request's history starts with "new" and its last event is its current status.
    history = collections.defaultdict(list)
    for ev in demo.tables["rescue_request_events"]:
        history[ev["request_id"]].append(ev)
    for rr in demo.tables["rescue_requests"]:
        events = sorted(history[rr["id"]], key=lambda e: e["at"])
        assert events[0]["to_status"] == "new" and events[-1]["to_status"] == rr["status"]
        assert rr["version"] == len(events)
    # Occupancy is observed every 15 minutes at open shelters and grows over time overall.
    totals = collections.Counter()
    for o in demo.tables["shelter_occupancy"]:
        totals[o["observed_at"]] += o["head_count"]
    series = [totals[k] for k in sorted(totals)]
    assert series[-1] > series[0]


def test_location_fixes_only_while_location_consent_is_in_force(demo):
    from sql.consent import ConsentFact, derive_current

    facts = [
        ConsentFact(
            e["citizen_id"],
            e["data_item"],
            e["share_target"],
            e["event_type"],
            e["occurred_at"],
            e["expires_at"],
            e["id"],
        )
        for e in demo.tables["consent_events"]
    ]
    for fix in demo.tables["location_fixes"][:400]:
        state = derive_current(
            [f for f in facts if f.citizen_id == fix["citizen_id"]], fix["fixed_at"]
        )
        assert state.get((fix["citizen_id"], "location", "city_hq")) is True


def test_status_reports_only_from_citizens_sharing_their_safety_status(demo):
    sharing = {
        e["citizen_id"]
        for e in demo.tables["consent_events"]
        if e["data_item"] == "safety_status" and e["share_target"] == "city_hq"
    }
    assert {r["citizen_id"] for r in demo.tables["status_reports"]} <= sharing


def test_the_cli_is_idempotent_and_refuses_to_mix(sqlite_url, capsys):
    assert main(["--database-url", sqlite_url, "demo", "--citizens", "300"]) == 0
    from sql.engine import make_engine

    engine = make_engine(sqlite_url)
    before = content_hash(engine)
    assert main(["--database-url", sqlite_url, "demo", "--citizens", "300"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert content_hash(engine) == before
    assert main(["--database-url", sqlite_url, "demo", "--citizens", "300", "--seed", "5"]) == 1
    assert "add --replace" in capsys.readouterr().err
    assert content_hash(engine) == before
    assert (
        main(
            ["--database-url", sqlite_url, "demo", "--citizens", "300", "--seed", "5", "--replace"]
        )
        == 0
    )
    assert demo_state(engine)["seed"] == 5
    assert main(["--database-url", sqlite_url, "demo", "--if-empty"]) == 0
    assert "not empty" in capsys.readouterr().out
    engine.dispose()


def test_the_demo_refuses_a_database_with_real_data(sqlite_url, capsys):
    from sql.engine import make_engine
    from sql.models import Citizen

    engine = make_engine(sqlite_url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(Citizen).values(subject="real-1", created_at=now, updated_at=now))
    assert main(["--database-url", sqlite_url, "demo", "--citizens", "100"]) == 1
    assert "already holds data" in capsys.readouterr().err
    engine.dispose()
