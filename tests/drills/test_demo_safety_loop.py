"""The demo city's safety loop: plans, reception at the demo shelter staff's shelters,
walk-ins, supporter confirmations, people at home or in cars — consistent and deterministic."""

from __future__ import annotations

from collections import Counter

from drills.demo_city import DemoParams, generate
from sql.city_config import active_city


def test_the_demo_fills_the_safety_loop(sqlite_engine):
    city = active_city(sqlite_engine)
    demo = generate(DemoParams(citizens=3000), city)
    again = generate(DemoParams(citizens=3000), city)
    t = demo.tables
    assert t["evacuee_stays"] == again.tables["evacuee_stays"]
    register = {e["citizen_id"] for e in t["support_register"]}
    plans = t["evacuation_plans"]
    assert plans and {p["citizen_id"] for p in plans} <= register
    assert 0.6 < len(plans) / len(register) < 0.9
    staff = next(s for s in t["staff"] if s["role"] == "shelter_staff")
    used = {s["shelter_id"] for s in t["evacuee_stays"] if s["place_kind"] == "shelter"}
    assert set(staff["shelter_ids"]) & used
    open_people = Counter(
        s["citizen_id"] for s in t["evacuee_stays"] if s["citizen_id"] and s["left_at"] is None
    )
    assert max(open_people.values()) == 1
    kinds = Counter(s["place_kind"] for s in t["evacuee_stays"])
    assert kinds["shelter"] and kinds["home"] + kinds["car"]
    assert t["walk_ins"]
    sources = Counter(o["source"] for o in t["safety_observations"])
    assert sources["reception"] and sources["supporter"]
    assert t["follow_ups"] and len(t["follow_up_events"]) >= len(t["follow_ups"])
