"""A demo incident runs on its own clock (sql/incident_clock.py): whatever staff do on it months
later is stamped inside the incident, in order; a real incident runs on the wall clock."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sql.actions.incidents import declare_incident, end_incident
from sql.actions.rescue import change_rescue_request
from sql.actions.shelters import close_shelter, open_shelter, record_head_count
from sql.cityos_push import record_push_outcome, record_push_request
from sql.incident_clock import ACTION_STEP, incident_clock
from sql.models import (
    Citizen,
    Incident,
    IncidentActivity,
    NotificationEvent,
    NotificationRequest,
    RescueRequest,
    RescueRequestEvent,
    Shelter,
    ShelterOccupancy,
    ShelterOperation,
    StatusReport,
)
from sql.viewer import Viewer

JULY = dt.datetime(2026, 7, 9, 19, 0, tzinfo=dt.UTC)  # 7月10日 04:00 JST
NEWEST_REPORT = JULY + dt.timedelta(hours=2, minutes=55)
HQ = Viewer(role="hq", subject="demo-hq", demo=True)


@pytest.fixture
def demo_incident(engine) -> dict[str, int]:
    """An incident generated for a July night (own clock), with a citizen's reports, an open
    shelter and a rescue request — the shape of the demo's incident."""
    with engine.begin() as conn:
        incident = conn.execute(
            sa.insert(Incident)
            .values(
                kind="real",
                name_ja="【デモ】大雨",
                declared_at=JULY,
                is_synthetic=True,
                own_clock=True,
            )
            .returning(Incident.id)
        ).scalar_one()
        citizen = conn.execute(
            sa.insert(Citizen)
            .values(subject="demo-1", is_synthetic=True, created_at=JULY, updated_at=JULY)
            .returning(Citizen.id)
        ).scalar_one()
        for k, minutes in enumerate((10, 175)):
            conn.execute(
                sa.insert(StatusReport).values(
                    idempotency_key=f"sr-{k}",
                    citizen_id=citizen,
                    incident_id=incident,
                    state="safe_at_home",
                    source="app",
                    reported_at=JULY + dt.timedelta(minutes=minutes),
                    received_at=JULY + dt.timedelta(minutes=minutes),
                )
            )
        shelter = conn.execute(
            sa.insert(Shelter)
            .values(local_id="s-1", name="鶴城小学校", lat=37.48, lon=139.92, source="demo")
            .returning(Shelter.id)
        ).scalar_one()
        other = conn.execute(
            sa.insert(Shelter)
            .values(local_id="s-2", name="謹教小学校", lat=37.49, lon=139.93, source="demo")
            .returning(Shelter.id)
        ).scalar_one()
        conn.execute(
            sa.insert(ShelterOperation).values(
                shelter_id=shelter, incident_id=incident, opened_at=JULY + dt.timedelta(minutes=30)
            )
        )
        request = conn.execute(
            sa.insert(RescueRequest)
            .values(
                idempotency_key="rr-1",
                incident_id=incident,
                citizen_id=citizen,
                lat=37.49,
                lon=139.92,
                people_count=2,
                requested_at=JULY + dt.timedelta(minutes=90),
                updated_at=JULY + dt.timedelta(minutes=90),
                version=1,
            )
            .returning(RescueRequest.id)
        ).scalar_one()
    return {
        "incident": incident,
        "shelter": shelter,
        "other": other,
        "request": request,
        "citizen": citizen,
    }


def activity_times(engine, incident: int) -> list[dt.datetime]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(IncidentActivity.at)
                .where(IncidentActivity.incident_id == incident)
                .order_by(IncidentActivity.id)
            ).scalars()
        )


def test_the_demo_clock_stands_at_its_newest_moment(engine, demo_incident):
    assert incident_clock(engine, demo_incident["incident"]) == NEWEST_REPORT


def test_actions_on_the_demo_incident_are_stamped_inside_it_in_order(engine, demo_incident):
    ids = demo_incident
    incident = ids["incident"]
    record_head_count(engine, HQ, ids["shelter"], incident, 120)
    record_head_count(engine, HQ, ids["shelter"], incident, 130)  # a second count: a new moment
    change_rescue_request(engine, HQ, ids["request"], 1, "assigned", team="消防3隊")
    close_shelter(engine, HQ, ids["shelter"], incident, reason="移転")
    open_shelter(engine, HQ, ids["other"], incident)
    end_incident(engine, HQ, incident, reason="訓練終了")

    steps = [NEWEST_REPORT + ACTION_STEP * k for k in range(1, 7)]
    assert activity_times(engine, incident) == steps
    with engine.connect() as conn:
        counts = conn.execute(
            sa.select(ShelterOccupancy.head_count, ShelterOccupancy.observed_at).order_by(
                ShelterOccupancy.id
            )
        ).all()
        assert [tuple(c) for c in counts] == [(120, steps[0]), (130, steps[1])]
        assert conn.execute(sa.select(RescueRequestEvent.at)).scalar_one() == steps[2]
        assert conn.execute(sa.select(RescueRequest.updated_at)).scalar_one() == steps[2]
        closed, opened = conn.execute(
            sa.select(ShelterOperation.closed_at, ShelterOperation.opened_at).order_by(
                ShelterOperation.id
            )
        ).all()
        assert closed.closed_at == steps[3] and opened.opened_at == steps[4]
        ended = conn.execute(
            sa.select(Incident.ended_at).where(Incident.id == incident)
        ).scalar_one()
    assert ended == steps[5]
    assert ended < JULY + dt.timedelta(hours=4)  # the incident's period stays on its night


def test_a_push_on_the_demo_incident_is_sent_and_delivered_inside_it(engine, demo_incident):
    incident = demo_incident["incident"]
    key = record_push_request(
        engine,
        idempotency_key="push-1",
        target_kind="everyone",
        target_spec={},
        title="避難指示",
        body="直ちに避難してください",
        requested_by="demo-hq",
        incident_id=incident,
    )
    wall = dt.datetime.now(dt.UTC)  # the city OS answers by its own (wall) clock
    record_push_outcome(
        engine,
        key,
        status="sent",
        recipient_count=1,
        sent_at=wall,
        deliveries=[("demo-1", "delivered", wall + dt.timedelta(seconds=3))],
    )
    with engine.connect() as conn:
        created, sent = conn.execute(
            sa.select(NotificationRequest.created_at, NotificationRequest.sent_at)
        ).one()
        delivered = conn.execute(sa.select(NotificationEvent.at)).scalar_one()
    assert created == NEWEST_REPORT + ACTION_STEP
    assert abs(sent - created) < dt.timedelta(seconds=5)
    assert dt.timedelta(seconds=2) < delivered - sent < dt.timedelta(seconds=4)


def test_a_real_incident_runs_on_the_wall_clock(engine, demo_incident):
    with engine.begin() as conn:
        conn.execute(sa.update(Incident).values(ended_at=NEWEST_REPORT))
    before = dt.datetime.now(dt.UTC)
    real = declare_incident(engine, HQ, "real", "大雨 2026-12")
    record_head_count(engine, HQ, demo_incident["shelter"], real, 40)
    after = dt.datetime.now(dt.UTC)
    assert all(before <= at <= after for at in activity_times(engine, real))
    assert before <= incident_clock(engine, real) and incident_clock(engine, None) >= after
    # An ended incident reads "now" as its newest report, not the wall clock.
    assert incident_clock(engine, demo_incident["incident"]) == NEWEST_REPORT
