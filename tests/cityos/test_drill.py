"""A live drill end to end: scenario → reference city OS → feed → database (both backends)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa

from cityos.drill_player import run_drill
from drills.live_drill import (
    Participant,
    ScenarioError,
    ShelterSite,
    build_timeline,
    load_scenario,
)
from sql.models import CitizenLatestStatus, Drill, Incident, SourceHealth, StatusReport

NEEDS = {
    "status": ("safety_status",),
    "arrival": ("safety_status",),
    "location": ("location",),
    "rescue_request": ("safety_status", "location"),
}


def test_a_short_drill_stores_exactly_what_the_scenario_emitted(engine, client, city_os):
    scenario = load_scenario("flood")
    ticks: list[float] = []
    report = run_drill(
        engine,
        client,
        scenario,
        speed=3600,
        until_min=30,
        tick_s=0.05,
        on_tick=lambda minute, _r: ticks.append(minute),
    )
    assert len(ticks) >= 2 and ticks[-1] == 30  # it played over several ticks, live
    emitted = Counter(e.kind for e in report.events)
    assert emitted == report.emitted and sum(emitted.values()) > 50
    assert set(emitted) == {"status", "location", "arrival", "rescue_request"}
    now = dt.datetime.now(dt.UTC)
    users = city_os.state.users
    covered = Counter(
        e.kind
        for e in report.events
        if all(users[e.subject].allowed(i, "city_hq", now) for i in NEEDS[e.kind])
    )
    stored = report.stored
    assert stored["status_reports"] == covered["status"] + covered["arrival"]
    assert stored["location_fixes"] == covered["location"]
    assert stored["rescue_requests"] == covered["rescue_request"]
    assert stored["drill_events.arrived"] == covered["arrival"]
    assert stored["drill_events.location_fix"] == covered["location"]
    assert stored["drill_events.rescue_requested"] == covered["rescue_request"]
    answered = stored.get("drill_events.safety_answered", 0) + stored.get(
        "drill_events.evacuation_started", 0
    )
    assert answered == covered["status"]
    # The rest never left the city OS (its own opt-in check); none reached our boundary.
    assert sum(covered.values()) < sum(emitted.values()) and report.skipped_no_consent == 0
    # Drill data is the drill's own: its incident is a drill, nothing went elsewhere.
    with engine.connect() as conn:
        kind, ended = conn.execute(
            sa.select(Incident.kind, Incident.ended_at).where(Incident.id == report.incident_id)
        ).one()
        assert kind == "drill" and ended is not None
        assert conn.execute(sa.select(Drill.ended_at).where(Drill.id == report.drill_id)).scalar()
        elsewhere = conn.execute(
            sa.select(sa.func.count())
            .select_from(StatusReport)
            .where(
                sa.or_(
                    StatusReport.incident_id.is_(None),
                    StatusReport.incident_id != report.incident_id,
                )
            )
        ).scalar_one()
        assert elsewhere == 0
        keys = set(conn.execute(sa.select(CitizenLatestStatus.incident_key)).scalars())
        assert keys == {report.incident_id}
        sources = set(conn.execute(sa.select(StatusReport.source)).scalars())
        assert sources == {"drill"}
        # The drill's own feed cursor is gone with the drill; the real one stays.
        feeds = set(conn.execute(sa.select(SourceHealth.source)).scalars())
        assert feeds == {"cityos:test"}


def test_the_timeline_depends_only_on_the_seed_and_inputs():
    scenario = load_scenario("flood")
    people = [Participant(f"p{i:03d}", 37.49 + i * 1e-4, 139.92 + i * 1e-4) for i in range(200)]
    sites = [ShelterSite("s1", 37.50, 139.93), ShelterSite("s2", 37.48, 139.91)]
    first = build_timeline(scenario, people, sites)
    assert first == build_timeline(scenario, list(reversed(people)), sites)
    assert first != build_timeline(scenario, people, sites, seed=1)
    assert [e.minute for e in first] == sorted(e.minute for e in first)
    assert all(e.minute <= scenario.duration_min for e in first)
    arrivals = [e for e in first if e.kind == "arrival"]
    assert arrivals and all(e.status["shelter_id"] in ("s1", "s2") for e in arrivals)


def test_a_bad_scenario_names_the_file_and_field(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("volcano-on-the-moon")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nname_ja: x\nname_en: x\nhazard: flood\nduration_min: -5\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match=r"bad.yaml: duration_min: -5.0 is outside"):
        load_scenario(bad)
