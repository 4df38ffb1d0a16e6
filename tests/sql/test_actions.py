"""Staff actions (sql/actions/): rescue transitions with optimistic concurrency, shelters,
incidents — each logged in the activity log and the audit chain, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sql import audit
from sql.actions import ActionRefused, ConflictError
from sql.actions.incidents import declare_incident, end_incident, set_emergency_mode
from sql.actions.rescue import change_rescue_request
from sql.actions.shelters import close_shelter, open_shelter, record_head_count
from sql.models import (
    Incident,
    IncidentActivity,
    RescueRequest,
    RescueRequestEvent,
    Shelter,
    ShelterOccupancy,
    ShelterOperation,
)
from sql.viewer import Viewer

T0 = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
HQ = Viewer(role="hq", subject="hq-1")
HQ2 = Viewer(role="hq", subject="hq-2")
RESCUE = Viewer(role="rescue", subject="rescue-1")


@pytest.fixture
def incident(engine) -> int:
    return declare_incident(engine, HQ, "real", "大雨 2026-07", "Heavy rain")


@pytest.fixture
def request_id(engine, incident) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(RescueRequest)
            .values(
                idempotency_key="rr-1",
                incident_id=incident,
                lat=37.49,
                lon=139.92,
                people_count=2,
                requested_at=T0,
                updated_at=T0,
                version=1,
            )
            .returning(RescueRequest.id)
        ).scalar_one()


@pytest.fixture
def shelter_id(engine) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.insert(Shelter)
            .values(
                local_id="s-1",
                name="鶴城小学校",
                lat=37.48,
                lon=139.92,
                capacity=500,
                source="test",
            )
            .returning(Shelter.id)
        ).scalar_one()


def row(engine, model, key):
    with engine.connect() as conn:
        return conn.execute(sa.select(model).where(model.id == key)).one()


def activity(engine, incident):
    with engine.connect() as conn:
        return [
            r.action
            for r in conn.execute(
                sa.select(IncidentActivity)
                .where(IncidentActivity.incident_id == incident)
                .order_by(IncidentActivity.id)
            )
        ]


def test_assigning_a_team_moves_the_request_and_logs_it(engine, incident, request_id):
    version = change_rescue_request(engine, RESCUE, request_id, 1, "assigned", team="第1救助隊")
    assert version == 2
    saved = row(engine, RescueRequest, request_id)
    assert (saved.status, saved.assigned_team, saved.version) == ("assigned", "第1救助隊", 2)
    with engine.connect() as conn:
        history = conn.execute(
            sa.select(RescueRequestEvent).where(RescueRequestEvent.request_id == request_id)
        ).all()
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        ("new", "assigned", "rescue-1")
    ]
    assert activity(engine, incident)[-1] == "rescue_assigned"
    assert audit.verify(engine).ok


def test_a_second_change_from_the_same_version_is_a_conflict_and_loses_nothing(
    engine, incident, request_id
):
    change_rescue_request(engine, HQ, request_id, 1, "assigned", team="第1救助隊")
    with pytest.raises(ConflictError) as caught:
        change_rescue_request(engine, HQ2, request_id, 1, "assigned", team="第2救助隊")
    assert "hq-1" in str(caught.value) and caught.value.current["assigned_team"] == "第1救助隊"
    saved = row(engine, RescueRequest, request_id)
    assert (saved.assigned_team, saved.version) == ("第1救助隊", 2)
    # With the version it now sees, the second staff member can change it.
    change_rescue_request(engine, HQ2, request_id, 2, "en_route")
    assert row(engine, RescueRequest, request_id).status == "en_route"


def test_transitions_follow_the_allowed_graph(engine, incident, request_id):
    with pytest.raises(ActionRefused, match="new → resolved"):
        change_rescue_request(engine, RESCUE, request_id, 1, "resolved")
    with pytest.raises(ActionRefused, match="reason"):
        change_rescue_request(engine, RESCUE, request_id, 1, "cancelled")
    with pytest.raises(ActionRefused, match="team"):
        change_rescue_request(engine, RESCUE, request_id, 1, "assigned")
    with pytest.raises(ActionRefused, match="researcher"):
        change_rescue_request(
            engine, Viewer(role="researcher", subject="r"), request_id, 1, "triaged"
        )
    assert row(engine, RescueRequest, request_id).version == 1


def test_shelters_open_close_and_head_counts(engine, incident, shelter_id):
    open_shelter(engine, HQ, shelter_id, incident, "避難指示")
    with pytest.raises(ActionRefused, match="already open"):
        open_shelter(engine, HQ, shelter_id, incident)
    record_head_count(engine, HQ, shelter_id, incident, 120)
    staff = Viewer(role="shelter_staff", subject="s-1", shelter_ids=(shelter_id,))
    record_head_count(engine, staff, shelter_id, incident, 140, observed_at=dt.datetime.now(dt.UTC))
    outsider = Viewer(role="shelter_staff", subject="s-2", shelter_ids=(shelter_id + 1,))
    with pytest.raises(ActionRefused, match="not one of your shelters"):
        record_head_count(engine, outsider, shelter_id, incident, 1)
    with pytest.raises(ActionRefused, match="out of range"):
        record_head_count(engine, HQ, shelter_id, incident, -1)
    close_shelter(engine, HQ, shelter_id, incident)
    with engine.connect() as conn:
        ops = conn.execute(sa.select(ShelterOperation)).all()
        counts = (
            conn.execute(sa.select(ShelterOccupancy.head_count).order_by(ShelterOccupancy.id))
            .scalars()
            .all()
        )
    assert len(ops) == 1 and ops[0].closed_at is not None and ops[0].opened_by == "hq-1"
    assert counts == [120, 140]
    assert activity(engine, incident)[-4:] == [
        "shelter_opened",
        "head_count_entered",
        "head_count_entered",
        "shelter_closed",
    ]


def test_a_drill_cannot_start_while_an_incident_is_active(engine, incident):
    with pytest.raises(ActionRefused, match="end the active incident"):
        declare_incident(engine, HQ, "drill", "訓練")
    set_emergency_mode(engine, HQ, incident, False)
    assert row(engine, Incident, incident).emergency_mode is False
    end_incident(engine, HQ, incident, "収束")
    drill = declare_incident(engine, HQ, "drill", "総合防災訓練")
    saved = row(engine, Incident, drill)
    assert (saved.kind, saved.emergency_mode, saved.ended_at) == ("drill", True, None)
    assert activity(engine, incident) == [
        "incident_declared",
        "emergency_mode_changed",
        "incident_ended",
    ]
    with pytest.raises(ActionRefused, match="declare"):
        declare_incident(engine, Viewer(role="council", subject="c"), "real", "x")
    assert audit.verify(engine).ok
