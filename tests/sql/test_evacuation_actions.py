"""Issue and lift evacuation information: recorded per area with who, when, reason, trigger and
previous level, in the incident activity log and the audit chain; a lift names what it lifts;
a repeat is idempotent; drills are exercises; the coverage per area (issue 17)."""

from __future__ import annotations

import pytest
import shapely
import shapely.ops
import sqlalchemy as sa

from sql import audit
from sql.actions.evacuation import EvacuationRefused, issue, lift
from sql.actions.incidents import declare_incident, end_incident
from sql.models import (
    AuditLog,
    Citizen,
    EvacuationArea,
    EvacuationIssuance,
    IncidentActivity,
    Shelter,
    SupportRegisterEntry,
)
from sql.policy import evacuation_coverage
from sql.queries.evacuation import in_force, issuance_history
from sql.viewer import Viewer

HQ = Viewer(role="hq", subject="hq-1")
RESEARCHER = Viewer(role="researcher", subject="r-1")
TRIGGER = {"kind": "river_level", "station": "yugawa-01", "level_m": 2.45}


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2])


def area_ids(engine, *codes: str) -> list[int]:
    with engine.connect() as conn:
        found = dict(
            conn.execute(
                sa.select(EvacuationArea.code, EvacuationArea.id).where(
                    EvacuationArea.code.in_(codes)
                )
            ).all()
        )
    return [found[c] for c in codes]


def rows(engine, model, *where):
    with engine.connect() as conn:
        return conn.execute(sa.select(model).where(*where).order_by(model.id)).all()


def test_issue_raise_and_lift_are_recorded_with_previous_levels(evacuation_engine):
    e = evacuation_engine
    yu1, yu2 = area_ids(e, "YU-1", "YU-2")
    first = issue(
        e, HQ, 1, [yu1, yu2], 3, "湯川 避難判断水位", idempotency_key="k1", trigger=TRIGGER
    )
    assert [(c.area_code, c.result, c.level, c.previous_level) for c in first.changes] == [
        ("YU-1", "issued", 3, None),
        ("YU-2", "issued", 3, None),
    ]
    assert not first.is_exercise and not first.repeated
    second = issue(e, HQ, 1, [yu1, yu2], 4, "氾濫危険水位", idempotency_key="k2")
    assert [(c.result, c.level, c.previous_level) for c in second.changes] == [
        ("issued", 4, 3),
        ("issued", 4, 3),
    ]
    assert {a: f.level for a, f in in_force(e, 1).items()} == {yu1: 4, yu2: 4}
    lifted = lift(e, HQ, 1, [yu1], "水位低下", idempotency_key="k3")
    (change,) = lifted.changes
    assert change.result == "lifted" and change.previous_level == 4
    assert change.lifts_id == second.changes[0].issuance_id
    assert {a: f.level for a, f in in_force(e, 1).items()} == {yu2: 4}
    history = issuance_history(e, 1)
    assert list(history["action"]) == ["issue", "issue", "issue", "issue", "lift"]
    assert list(history["issued_by"].unique()) == ["hq-1"]
    assert history.iloc[0]["trigger"] == TRIGGER
    # every decision in the incident activity log and the audit chain
    activity = rows(e, IncidentActivity, IncidentActivity.action.like("evacuation_%"))
    assert [(a.action, a.target_id, a.details["areas"]) for a in activity] == [
        ("evacuation_issued", "k1", ["YU-1", "YU-2"]),
        ("evacuation_issued", "k2", ["YU-1", "YU-2"]),
        ("evacuation_lifted", "k3", ["YU-1"]),
    ]
    assert activity[2].details["lifts"] == [second.changes[0].issuance_id]
    assert activity[1].details["previous_levels"] == {"YU-1": 3, "YU-2": 3}
    trail = rows(e, AuditLog, AuditLog.target.like("evacuation_decision:%"))
    assert [a.target for a in trail] == [
        "evacuation_decision:k1",
        "evacuation_decision:k2",
        "evacuation_decision:k3",
    ]
    assert audit.verify(e).ok


def test_a_repeat_is_idempotent(evacuation_engine):
    e = evacuation_engine
    (yu1,) = area_ids(e, "YU-1")
    first = issue(e, HQ, 1, [yu1], 4, "理由", idempotency_key="same")
    again = issue(e, HQ, 1, [yu1], 4, "理由", idempotency_key="same")
    assert again.repeated and again.changes == first.changes
    # the same level again under a new key leaves the area as it is
    other = issue(e, HQ, 1, [yu1], 4, "再確認", idempotency_key="other")
    assert [c.result for c in other.changes] == ["unchanged"]
    assert len(rows(e, EvacuationIssuance)) == 1
    assert len(rows(e, IncidentActivity, IncidentActivity.action.like("evacuation_%"))) == 1
    lift(e, HQ, 1, [yu1], "解除", idempotency_key="lift")
    assert lift(e, HQ, 1, [yu1], "解除", idempotency_key="lift").repeated
    with pytest.raises(EvacuationRefused) as excinfo:
        lift(e, HQ, 1, [yu1], "解除", idempotency_key="lift-again")
    assert excinfo.value.key == "evacuation.refused.nothing_to_lift"
    assert len(rows(e, EvacuationIssuance)) == 2


def test_a_drill_is_recorded_as_an_exercise(evacuation_engine):
    e = evacuation_engine
    end_incident(e, HQ, 1)
    drill = declare_incident(e, HQ, "drill", "水害訓練")
    (ag1,) = area_ids(e, "AG-1")
    decision = issue(e, HQ, drill, [ag1], 3, "訓練: 避難判断水位", idempotency_key="drill-1")
    assert decision.is_exercise
    (row,) = rows(e, EvacuationIssuance, EvacuationIssuance.incident_id == drill)
    assert row.is_exercise
    (activity,) = rows(e, IncidentActivity, IncidentActivity.action == "evacuation_issued")
    assert activity.details["exercise"] is True
    # the drill's levels are its own
    assert in_force(e, 1) == {}


@pytest.mark.parametrize(
    ("viewer", "areas", "level", "reason", "key"),
    [
        (RESEARCHER, ["YU-1"], 3, "r", "evacuation.refused.role"),
        (HQ, [], 3, "r", "evacuation.refused.no_areas"),
        (HQ, ["YU-1"], 2, "r", "evacuation.refused.bad_level"),
        (HQ, ["YU-1"], 3, "  ", "evacuation.refused.no_reason"),
    ],
)
def test_refusals_write_nothing(evacuation_engine, viewer, areas, level, reason, key):
    ids = area_ids(evacuation_engine, *areas)
    with pytest.raises(EvacuationRefused) as excinfo:
        issue(evacuation_engine, viewer, 1, ids, level, reason, idempotency_key="x")
    assert excinfo.value.key == key
    assert rows(evacuation_engine, EvacuationIssuance) == []


def test_unknown_areas_and_no_incident_are_refused(evacuation_engine):
    with pytest.raises(EvacuationRefused) as excinfo:
        issue(evacuation_engine, HQ, 1, [99999], 3, "r", idempotency_key="x")
    assert excinfo.value.key == "evacuation.refused.unknown_area"
    (yu1,) = area_ids(evacuation_engine, "YU-1")
    with pytest.raises(EvacuationRefused) as excinfo:
        issue(evacuation_engine, HQ, None, [yu1], 3, "r", idempotency_key="y")
    assert excinfo.value.key == "evacuation.refused.no_incident"


def test_the_database_refuses_a_level_outside_3_to_5(evacuation_engine):
    (yu1,) = area_ids(evacuation_engine, "YU-1")
    issue(evacuation_engine, HQ, 1, [yu1], 3, "r", idempotency_key="ok")
    with pytest.raises(sa.exc.IntegrityError), evacuation_engine.begin() as conn:
        conn.execute(sa.update(EvacuationIssuance).values(level=2))


def test_coverage_counts_people_households_register_and_shelters_inside(evacuation_engine):
    e = evacuation_engine
    with e.connect() as conn:
        areas = conn.execute(sa.select(EvacuationArea.id, EvacuationArea.geom_wkb)).all()
        homes = conn.execute(
            sa.select(Citizen.id, Citizen.household_id, Citizen.home_lon, Citizen.home_lat)
        ).all()
        registered = set(conn.execute(sa.select(SupportRegisterEntry.citizen_id)).scalars())
        shelters = conn.execute(sa.select(Shelter.id, Shelter.lon, Shelter.lat)).all()
    coverage = evacuation_coverage(e, HQ, {a.id: bytes(a.geom_wkb) for a in areas})
    assert len(coverage) == 6
    assert coverage["people"].sum() > 0 and coverage["shelters_near"].sum() > 0
    for area, got in zip(areas, coverage.to_dict("records"), strict=True):
        geom = shapely.from_wkb(bytes(area.geom_wkb))
        inside = [
            h
            for h in homes
            if h.home_lon is not None and geom.intersects(shapely.Point(h.home_lon, h.home_lat))
        ]
        assert got["area_id"] == area.id
        assert got["people"] == len(inside)
        assert got["households"] == len({h.household_id for h in inside if h.household_id}) + sum(
            1 for h in inside if h.household_id is None
        )
        assert got["register_people"] == sum(1 for h in inside if h.id in registered)
        assert got["shelter_ids"] == [
            s.id for s in shelters if geom.intersects(shapely.Point(s.lon, s.lat))
        ]
        # near: outside, within 1 km (checked with a geodesic distance to the nearest point)
        near = []
        for s in shelters:
            point = shapely.Point(s.lon, s.lat)
            if geom.intersects(point):
                continue
            nearest = shapely.ops.nearest_points(geom, point)[0]
            if geodesic_m(s.lat, s.lon, nearest.y, nearest.x) <= 1000:
                near.append(s.id)
        assert len(set(got["near_shelter_ids"]) ^ set(near)) <= 1  # one right at the 1 km edge
        assert got["shelters_near"] == len(got["near_shelter_ids"])
