"""A live drill end to end: scenario → reference city OS → feed → database (both backends)."""

from __future__ import annotations

import datetime as dt
import json
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
    water_level_timeline,
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
    # the city has no river stations here: the scenario's gauges are left out, and said so
    assert report.water_levels == 0 and report.unknown_stations == ("agagawa-01", "yugawa-01")
    assert "stations not imported, left out: agagawa-01, yugawa-01" in report.summary()
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


GOOD = (
    "id: x\nname_ja: x\nname_en: x\nhazard: flood\nduration_min: 30\nseed: 1\n"
    "participation: 0.5\nanswer_delay_mean_min: 5\nlocation_fix_every_min: 4\n"
    "walk_m_per_min: 60\narrival_rate: 0.8\n"
)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("water_levels: [1, 2]", r"water_levels: expected every_min and a stations mapping"),
        (
            "water_levels: {every_min: 0, stations: {s1: [[0, 1.0]]}}",
            r"water_levels.every_min: expected minutes in 0.5..600",
        ),
        (
            "water_levels: {stations: {s1: [[0, 1.0], [0, 2.0]]}}",
            r"water_levels.stations.s1: minutes must start at 0 or later and increase",
        ),
        (
            "water_levels: {stations: {s1: [[0, high]]}}",
            r"water_levels.stations.s1: expected a list of \[minute, level_m\]",
        ),
    ],
)
def test_a_bad_water_level_section_names_the_file_and_field(tmp_path, section, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + section + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.yaml: " + message):
        load_scenario(bad)


def test_water_levels_are_read_every_few_minutes_between_the_points(tmp_path):
    path = tmp_path / "gauges.yaml"
    path.write_text(
        GOOD + "water_levels: {every_min: 10, stations: {s1: [[0, 1.0], [20, 2.0], [60, 5.0]]}}\n",
        encoding="utf-8",
    )
    readings = water_level_timeline(load_scenario(path))
    # read up to the drill's end (30 min), interpolated between the points
    assert [(r.minute, r.level_m) for r in readings] == [(0, 1.0), (10, 1.5), (20, 2.0), (30, 2.75)]
    assert {(r.station, r.row) for r in readings} == {("s1", 1)}


def test_the_drill_plays_the_water_levels_and_the_board_proposes_live(engine, client, city_os):
    """The real player with the city's stations and areas imported: the gauges' readings are
    stored as they are played, and the decision board of the drill's incident proposes レベル3
    for the 湯川 areas once its 避難判断水位 is reached and レベル4 after its 氾濫危険水位."""
    from dashboard.evacuation_state import build_board
    from importers.evacuation import read_areas, read_stations
    from sql.city_config import active_city
    from sql.imports.evacuation import import_areas, import_stations
    from sql.models import WaterLevelObservation
    from sql.viewer import SYSTEM, Viewer
    from tests.conftest import EVACUATION_DATA

    for name in ("areas.geojson", "areas.csv"):
        import_areas(engine, SYSTEM, read_areas(EVACUATION_DATA / name), name)
    stations = read_stations(EVACUATION_DATA / "stations.csv")
    import_stations(engine, SYSTEM, stations, "stations.csv")
    city = active_city(engine)
    hq = Viewer(role="hq", subject="hq-drill")
    seen: list[tuple[float, dict[str, int]]] = []

    def on_tick(minute: float, report) -> None:
        board = build_board(engine, hq, report.incident_id, city)
        seen.append((minute, {p.area: p.level for p in board.proposals if p.area.startswith("YU")}))

    report = run_drill(
        engine,
        client,
        load_scenario("flood"),
        speed=600,  # ten scenario minutes a second: ticks land in each 15-minute band
        until_min=45,
        tick_s=0.05,
        on_tick=on_tick,
    )
    assert report.water_levels == 20 and report.unknown_stations == ()  # 0, 5 … 45 min × 2
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(WaterLevelObservation.source, WaterLevelObservation.is_synthetic)
        ).all()
    assert set(stored) == {(f"drill:{report.exercise}", True)} and len(stored) == 20
    # 湯川橋: 2.20 m at 20 min, 2.50 m (≥ 2.40 避難判断) at 25, 3.00 m (≥ 2.90 氾濫危険) at 40
    before = [p for m, p in seen if m < 25]
    judged = [p for m, p in seen if 25 <= m < 40]
    danger = [p for m, p in seen if m >= 40]
    assert before and judged and danger
    assert all(p == {} for p in before)
    assert all(p == {"YU-1": 3, "YU-2": 3, "YU-3": 3} for p in judged)
    assert all(p == {"YU-1": 4, "YU-2": 4, "YU-3": 4} for p in danger)
    # the drill's played readings never reach a real incident's board
    from sql.actions.incidents import declare_incident

    real = declare_incident(engine, hq, "real", "大雨")
    assert build_board(engine, hq, real, city).proposals == []


def test_the_drill_evaluation_measures_trigger_issuance_opened_safe(engine, client, city_os):
    """HQ takes the rules' proposal during a live drill and pushes it; the drill evaluation
    (composition, council report) gives per decision the minutes from trigger to issuance and,
    among the citizens the push reached, who opened it and reported safe — checked against a
    plain count of the stored rows."""
    import compositions.drill
    from cityos.evacuation_push import push_decision
    from dashboard.evacuation_state import build_board
    from importers.evacuation import read_areas, read_stations
    from reports import council
    from sql.actions.evacuation import issue
    from sql.city_config import active_city
    from sql.imports.evacuation import import_areas, import_stations
    from sql.viewer import SYSTEM, Viewer
    from tests.conftest import EVACUATION_DATA

    for name in ("areas.geojson", "areas.csv"):
        import_areas(engine, SYSTEM, read_areas(EVACUATION_DATA / name), name)
    import_stations(engine, SYSTEM, read_stations(EVACUATION_DATA / "stations.csv"), "stations.csv")
    city = active_city(engine)
    hq = Viewer(role="hq", subject="hq-drill")
    decided: list[str] = []

    def on_tick(_minute: float, report) -> None:
        board = build_board(engine, hq, report.incident_id, city)
        chosen = [p for p in board.proposals if p.level == 3]
        if decided or not chosen:
            return
        first = chosen[0]
        trigger = {**first.trigger, "triggered_at": first.triggered_at.isoformat()}
        decision = issue(
            engine,
            hq.for_incident(report.incident_id),
            report.incident_id,
            [board.code_to_id[p.area] for p in chosen],
            3,
            "訓練: 避難判断水位",
            idempotency_key="drill-l3",
            trigger=trigger,
        )
        push_decision(engine, client, hq, decision.decision_key)
        decided.append(decision.decision_key)

    report = run_drill(
        engine,
        client,
        load_scenario("flood"),
        speed=600,
        until_min=60,
        tick_s=0.05,
        on_tick=on_tick,
    )
    assert decided == ["drill-l3"]
    researcher = Viewer(role="researcher", subject="r-1")
    table = compositions.drill.evaluate(engine, researcher, report.drill_id).tables["evacuation"]
    assert len(table) == 1
    row = table.iloc[0]
    # the oracle: the stored rows, counted plainly
    with engine.connect() as conn:
        issued_at, trigger = conn.execute(
            sa.text(
                "SELECT issued_at, trigger FROM evacuation_issuances "
                "WHERE decision_key = 'drill-l3' ORDER BY id LIMIT 1"
            )
        ).one()
        events = conn.execute(
            sa.text(
                "SELECT e.citizen_id, e.event, e.at FROM notification_events e "
                "JOIN notification_requests r ON r.id = e.request_id "
                "WHERE r.idempotency_key = 'bosai:evacuation:drill-l3'"
            )
        ).all()
        reports = conn.execute(
            sa.text(
                "SELECT citizen_id, state, reported_at FROM status_reports WHERE incident_id = :i"
            ),
            {"i": report.incident_id},
        ).all()

    def aware(v):
        v = v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))
        return v if v.tzinfo else v.replace(tzinfo=dt.UTC)

    issued_at = aware(issued_at)
    trigger = trigger if isinstance(trigger, dict) else json.loads(trigger)
    reached = {c for c, ev, _ in events if c is not None and ev in ("delivered", "opened")}
    opened = {c for c, ev, _ in events if c in reached and ev == "opened"}
    safe = {
        c
        for c, state, at in reports
        if c in reached
        and state in ("safe_at_home", "at_shelter", "elsewhere_safe")
        and aware(at) >= issued_at
    }
    assert row["reached"] == len(reached) > 0
    assert row["opened"] == len(opened) > 0
    assert row["safe"] == len(safe)
    expected = (issued_at - dt.datetime.fromisoformat(trigger["triggered_at"])).total_seconds()
    assert row["trigger_to_issue_min"] == round(expected / 60, 1)
    assert row["level"] == 3 and row["action"] == "issue" and row["areas"] == 3
    assert row["issue_to_opened_median_min"] > 0
    # the council report of the drill carries the same table
    built = council.build(engine, drill=report.drill_id, draw_charts=False)
    (shown,) = [tb for s in built.sections for tb in s.tables if tb.key == "drill_evacuation"]
    assert list(shown.frame["reached"]) == [len(reached)]
    assert list(shown.frame["decision"]) == ["警戒レベル3 高齢者等避難"]
