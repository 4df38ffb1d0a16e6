"""The demo's evacuation information (issue 17, item 6): its rivers' gauges rise past their
thresholds, HQ issues レベル3 then レベル4 for the river areas at the times the city's rules
propose, recorded as HQ's actions record them (issuances, activity log, audit chain, CAP)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from lxml import etree

from analytics.evacuation_rules import Thresholds, evaluate
from bosai.cli import main
from bosai.cli.demo import city_evacuation_rules
from drills.demo_city import DemoParams, generate
from drills.demo_evacuation import DECISION_DELAY_MIN
from sql import audit
from sql.city_config import active_city
from sql.demo_store import load_demo, remove_demo
from sql.engine import make_engine

XSD = Path(__file__).parents[1] / "data" / "CAP-v1.2.xsd"
SMALL = 300


@pytest.fixture(scope="module")
def city(sqlite_template):
    engine = make_engine(f"sqlite:///{sqlite_template}")
    found = active_city(engine)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def rules(city):
    return city_evacuation_rules(city)


@pytest.fixture(scope="module")
def demo(city, rules):
    return generate(DemoParams(citizens=SMALL, evacuation=True), city, evacuation_rules=rules)


def observations(demo) -> pd.DataFrame:
    code = {s["id"]: s["code"] for s in demo.tables["river_stations"]}
    return pd.DataFrame(
        {
            "station": [code[o["station_id"]] for o in demo.tables["water_level_observations"]],
            "observed_at": [o["observed_at"] for o in demo.tables["water_level_observations"]],
            "level_m": [o["level_m"] for o in demo.tables["water_level_observations"]],
        }
    )


def thresholds(demo) -> dict[str, Thresholds]:
    return {
        s["code"]: Thresholds(
            s["standby_m"], s["caution_m"], s["judgement_m"], s["danger_m"], s["name_ja"]
        )
        for s in demo.tables["river_stations"]
    }


def test_the_gauges_rise_past_their_thresholds_within_their_range(demo):
    obs = observations(demo)
    for s in demo.tables["river_stations"]:
        levels = obs[obs["station"] == s["code"]].sort_values("observed_at")["level_m"]
        assert levels.is_monotonic_increasing
        assert levels.iloc[0] < s["standby_m"] and levels.iloc[-1] > s["danger_m"]
        assert s["range_min_m"] <= levels.min() and levels.max() <= s["range_max_m"]


def test_level_3_then_4_for_the_river_areas(demo):
    code = {a["id"]: a["code"] for a in demo.tables["evacuation_areas"]}
    rows = demo.tables["evacuation_issuances"]
    t0 = demo.tables["incidents"][0]["declared_at"]
    by_level = {
        level: sorted(code[r["area_id"]] for r in rows if r["level"] == level) for level in (3, 4)
    }
    assert by_level[3] == by_level[4] == ["AG-1", "AG-2", "YU-1", "YU-2", "YU-3"]
    threes = {r["issued_at"] for r in rows if r["level"] == 3}
    fours = {r["issued_at"] for r in rows if r["level"] == 4}
    assert max(threes) < min(fours)
    # the order (避難指示) goes out before the demo's push carrying it, at 45 minutes
    assert max(fours) <= t0 + dt.timedelta(minutes=45)
    assert all(r["previous_level"] == 3 for r in rows if r["level"] == 4)
    assert all(r["is_exercise"] and r["action"] == "issue" for r in rows)


def test_each_decision_is_what_the_rules_proposed_at_its_trigger(demo, rules):
    """Replaying the rules on the readings up to each trigger proposes exactly the decision's
    level for exactly its areas, reached at the decision's trigger time."""
    obs = observations(demo)
    stations = thresholds(demo)
    code = {a["id"]: a["code"] for a in demo.tables["evacuation_areas"]}
    decisions: dict[str, list[dict]] = {}
    for r in demo.tables["evacuation_issuances"]:
        decisions.setdefault(r["decision_key"], []).append(r)
    in_force: dict[str, int] = {}
    for rows in sorted(decisions.values(), key=lambda rs: (rs[0]["issued_at"], rs[0]["id"])):
        first = rows[0]
        reached = dt.datetime.fromisoformat(first["trigger"]["triggered_at"])
        assert first["issued_at"] - reached == dt.timedelta(minutes=DECISION_DELAY_MIN)
        seen = obs[obs["observed_at"] <= first["issued_at"]]
        proposed = evaluate(rules, stations, seen, {}, in_force)
        mine = [p for p in proposed if first["trigger"]["rules"][0] in p.rule_ids]
        assert sorted(p.area for p in mine) == sorted(code[r["area_id"]] for r in rows)
        assert {p.level for p in mine} == {first["level"]}
        assert {p.triggered_at for p in mine} == {reached}
        for r in rows:
            in_force[code[r["area_id"]]] = r["level"]


def test_the_rest_of_the_demo_is_unchanged(city, rules, demo):
    plain = generate(DemoParams(citizens=SMALL), city)
    evacuation = {
        "evacuation_areas",
        "river_stations",
        "water_level_observations",
        "evacuation_issuances",
    }
    for name, rows in plain.tables.items():
        if name == "incident_activity" or name in evacuation:
            assert name == "incident_activity" or (rows == [] and demo.tables[name]), name
            continue
        assert demo.tables[name] == rows, name
    extra = [a for a in demo.tables["incident_activity"] if a["action"].startswith("evacuation")]
    assert len(demo.tables["incident_activity"]) == len(plain.tables["incident_activity"]) + len(
        extra
    )
    assert "evacuation" not in plain.params.as_meta() and demo.params.as_meta()["evacuation"]


def test_loaded_as_hq_records_a_decision(engine, demo):
    load_demo(engine, demo.tables, demo.params.as_meta())
    with engine.connect() as conn:
        activity = conn.execute(
            sa.text(
                "SELECT target_id, details FROM incident_activity "
                "WHERE action = 'evacuation_issued' ORDER BY at, id"
            )
        ).all()
        audited = conn.execute(
            sa.text(
                "SELECT target, role, incident_id FROM audit_log "
                "WHERE action = 'write:evacuation_issued' ORDER BY id"
            )
        ).all()
        keys = conn.execute(
            sa.text("SELECT DISTINCT decision_key FROM evacuation_issuances")
        ).scalars()
        keys = sorted(keys)
    assert sorted(a.target_id for a in activity) == keys and len(keys) == 4
    assert [a.target for a in audited] == [f"evacuation_decision:{a.target_id}" for a in activity]
    assert {(a.role, a.incident_id) for a in audited} == {("hq", 1)}
    assert audit.verify(engine, key=False).ok
    details = activity[-1].details
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["level"] == 4 and details["exercise"] is True
    assert set(details["previous_levels"].values()) == {3}
    # removing the demo removes its evacuation rows too
    remove_demo(engine)
    with engine.connect() as conn:
        for table in ("evacuation_issuances", "evacuation_areas", "river_stations"):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0


def test_the_demo_s_cap_messages_are_exercises_and_valid(sqlite_url):
    from reports.cap import CAP_NS, atom_feed, decision_message

    assert main(["--database-url", sqlite_url, "demo", "--citizens", "300", "--evacuation"]) == 0
    engine = make_engine(sqlite_url)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    with engine.connect() as conn:
        keys = conn.execute(
            sa.text(
                "SELECT decision_key FROM evacuation_issuances GROUP BY decision_key "
                "ORDER BY MIN(id)"
            )
        ).scalars()
        keys = list(keys)
    types = []
    for key in keys:
        doc = etree.fromstring(decision_message(engine, key))
        assert schema.validate(doc), schema.error_log
        assert doc.findtext(f"{{{CAP_NS}}}status") == "Exercise"
        types.append(doc.findtext(f"{{{CAP_NS}}}msgType"))
    assert types == ["Alert", "Alert", "Update", "Update"]
    assert b"<entry>" in atom_feed(engine, 1, "https://example.invalid/cap")
    engine.dispose()
