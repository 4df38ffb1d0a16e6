"""A push sent on the demo incident through the real city OS is recorded on the incident's own
clock: created, sent and delivered inside its July night, not on the machine's date."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cityos import payloads as p
from cityos.push import send_push
from cityos.sync import sync
from sql.models import Incident, NotificationEvent, NotificationRequest, StatusReport

JULY = dt.datetime(2026, 7, 9, 19, 0, tzinfo=dt.UTC)


def test_a_push_on_the_demo_incident_lands_inside_it(engine, client, city_os):
    sync(engine, client)
    newest = JULY + dt.timedelta(hours=3)
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
        citizen = conn.execute(sa.text("SELECT min(id) FROM citizens")).scalar_one()
        conn.execute(
            sa.insert(StatusReport).values(
                idempotency_key="sr-demo",
                citizen_id=citizen,
                incident_id=incident,
                state="safe_at_home",
                source="app",
                reported_at=newest,
                received_at=newest,
            )
        )
    subjects = sorted(city_os.state.users)[:10]
    outcome = send_push(
        engine,
        client,
        p.PushTarget(kind="citizens", subjects=subjects),
        "避難指示",
        "直ちに避難してください",
        requested_by="demo-hq",
        incident_id=incident,
    )
    assert outcome.events_recorded > 0
    with engine.connect() as conn:
        created, sent = conn.execute(
            sa.select(NotificationRequest.created_at, NotificationRequest.sent_at)
        ).one()
        events = conn.execute(sa.select(NotificationEvent.at)).scalars().all()
    window_end = newest + dt.timedelta(minutes=5)
    assert newest < created < window_end and newest < sent < window_end
    assert all(newest < at < window_end for at in events)
