"""``bosai cityos sync`` and push into a real database (SQLite and PostgreSQL), from the real
reference city OS with real tokens: idempotent, all or nothing, consent honoured on our side."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cityos import payloads as p
from cityos.client import CityOSClient
from cityos.errors import CityOSUnavailable
from cityos.push import send_push
from cityos.reference_server.app import create_app
from cityos.reference_server.runner import ThreadedServer
from cityos.reference_server.settings import ServerSettings
from cityos.sync import sync
from sql import audit, cityos_store
from sql.consent import state_matches_ledger
from sql.models import (
    Citizen,
    CitizenLatestStatus,
    ConsentEvent,
    Incident,
    LocationFix,
    NotificationEvent,
    NotificationRequest,
    RescueRequest,
    Shelter,
    StatusReport,
    SupportRegisterEntry,
)

from .conftest import SECRET, connector_config, consenting

NOW = lambda: dt.datetime.now(dt.UTC).isoformat()  # noqa: E731


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(model).where(*where)
        ).scalar_one()


def snapshot(engine) -> dict[str, list]:
    """Every row of the tables a sync writes (to prove a repeat changes nothing)."""
    tables = (
        "citizens",
        "households",
        "consent_events",
        "consent_state",
        "shelters",
        "status_reports",
        "location_fixes",
        "support_register",
    )
    out = {}
    with engine.connect() as conn:
        for name in tables:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            cols = [c for c in table.c if c.name not in ("geog", "home_geog")]
            out[name] = sorted(tuple(str(v) for v in r) for r in conn.execute(sa.select(*cols)))
    return out


def citizen(engine, subject):
    with engine.connect() as conn:
        return conn.execute(sa.select(Citizen.__table__).where(Citizen.subject == subject)).first()


def test_first_sync_loads_everything_and_a_repeat_changes_nothing(engine, client, city_os):
    state = city_os.state
    first = sync(engine, client)
    assert first.users == len(state.users) and first.shelters == len(state.shelters)
    assert count(engine, Citizen) == len(state.users)
    assert count(engine, Shelter) == len(state.shelters)
    consents = sum(len(u.consents) for u in state.users.values())
    assert count(engine, ConsentEvent) == consents == first.written.consents_appended
    assert state_matches_ledger(engine)
    named = consenting(state, "basic_info")
    assert count(engine, Citizen, Citizen.name.is_not(None)) == len(named)
    registered = [
        s for s in consenting(state, "support_register") if state.users[s].support_register
    ]
    assert count(engine, SupportRegisterEntry) == len(registered)
    health = cityos_store.source_health(engine, "cityos:test")
    assert health["stale"] is False and health["last_success_at"] is not None
    assert health["details"]["cursor"]["users_revision"] == state.revision
    assert audit.verify(engine).ok

    before = snapshot(engine)
    again = sync(engine, client)
    full = sync(engine, client, full=True)
    assert again.users == 0 and again.written.consents_appended == 0
    assert full.users == len(state.users) and full.written.citizens_changed == 0
    assert full.written.consents_appended == 0
    assert snapshot(engine) == before


def test_events_reach_the_database_and_a_withdrawn_consent_removes_them(engine, client, city_os):
    state = city_os.state
    subject = consenting(state, "basic_info", "safety_status", "location", "household_link")[0]
    sync(engine, client)
    client.post_events(
        [
            {"kind": "status", "subject": subject, "at": NOW(), "status": {"state": "evacuating"}},
            {
                "kind": "location",
                "subject": subject,
                "at": NOW(),
                "location": {"lat": 37.49, "lon": 139.92},
            },
        ]
    )
    result = sync(engine, client)
    assert result.written.status_reports == 1 and result.written.location_fixes == 1
    row = citizen(engine, subject)
    assert row.name and row.household_id is not None
    assert count(engine, StatusReport, StatusReport.citizen_id == row.id) == 1
    assert count(engine, CitizenLatestStatus, CitizenLatestStatus.citizen_id == row.id) == 1
    ledger_before = count(engine, ConsentEvent, ConsentEvent.citizen_id == row.id)

    client.set_consents(
        subject,
        [
            {"data_item": item, "share_target": "city_hq", "state": "withdrawn"}
            for item in ("basic_info", "safety_status", "location", "household_link")
        ],
    )
    removed = sync(engine, client)
    # Basic info and the household link go with the citizen row's update; reports and fixes
    # are deleted.
    assert removed.written.citizens_changed == 1
    assert removed.written.removed == {"location": 1, "safety_status": 1}
    row = citizen(engine, subject)
    assert row.name is None and row.address is None and row.home_lat is None and row.phone is None
    assert row.household_id is None
    assert count(engine, StatusReport, StatusReport.citizen_id == row.id) == 0
    assert count(engine, CitizenLatestStatus, CitizenLatestStatus.citizen_id == row.id) == 0
    assert count(engine, LocationFix, LocationFix.citizen_id == row.id) == 0
    # The ledger was appended to, never overwritten: the old "given" events are still there.
    assert count(engine, ConsentEvent, ConsentEvent.citizen_id == row.id) == ledger_before + 4
    assert (
        count(
            engine,
            ConsentEvent,
            ConsentEvent.citizen_id == row.id,
            ConsentEvent.event_type == "given",
        )
        == ledger_before
    )
    assert state_matches_ledger(engine)


def test_a_field_without_consent_never_reaches_the_database(engine, client, city_os):
    state = city_os.state
    no_basic = [s for s in sorted(state.users) if s not in consenting(state, "basic_info")]
    no_location = [s for s in sorted(state.users) if s not in consenting(state, "location")]
    subject = consenting(state, "basic_info", "location", "safety_status")[0]
    # A faulty city OS that skips its own opt-in check.
    client.set_opt_in_check(False)
    client.set_consents(
        subject, [{"data_item": "basic_info", "share_target": "city_hq", "state": "withdrawn"}]
    )
    leaky = client.user(subject)
    assert leaky.basic_info is not None  # the city OS did send it
    client.post_events(
        [
            {"kind": "location", "subject": s, "at": NOW(), "location": {"lat": 37.5, "lon": 139.9}}
            for s in no_location[:3]
        ]
    )
    result = sync(engine, client)
    assert result.fields_dropped_no_consent >= len(no_basic) + 1
    assert result.events_skipped_no_consent == 3
    for s in [*no_basic, subject]:
        row = citizen(engine, s)
        assert row.name is None and row.phone is None and row.home_lat is None
    assert count(engine, LocationFix) == 0
    with engine.connect() as conn:
        text = " ".join(str(v) for r in conn.execute(sa.select(Citizen.__table__)) for v in r)
    assert leaky.basic_info.phone and leaky.basic_info.phone not in text


def test_city_os_down_mid_sync_writes_nothing_and_marks_the_data_stale(engine, city_os, provider):
    state = city_os.state
    config = connector_config(city_os.url, provider.issuer)
    with CityOSClient(config, client_secret=SECRET, sleep=lambda s: None) as client:
        sync(engine, client)
        subject = consenting(state, "basic_info")[0]
        client.set_consents(
            subject, [{"data_item": "basic_info", "share_target": "city_hq", "state": "withdrawn"}]
        )
        for s in sorted(state.users)[:120]:  # more than one page of changed users
            client.set_consents(
                s, [{"data_item": "profile_image", "share_target": "family", "state": "given"}]
            )
        before = snapshot(engine)
        cursor = cityos_store.read_cursor(engine, "cityos:test")

        def kill_after_first_page(kind: str, seen: int) -> None:
            if kind == "users":
                city_os.stop()

        with pytest.raises(CityOSUnavailable) as err:
            sync(engine, client, on_page=kill_after_first_page)
    message = str(err.value)
    assert "users" in message and "unavailable after 3 attempts" in message and "\n" not in message
    assert snapshot(engine) == before
    assert citizen(engine, subject).name is not None  # the withdrawal was not half-applied
    health = cityos_store.source_health(engine, "cityos:test")
    assert health["stale"] is True and "unavailable" in health["last_error"]
    assert cityos_store.read_cursor(engine, "cityos:test") == cursor
    # The city OS comes back: the next sync catches up and clears the stale marker.
    app = create_app(ServerSettings(issuer=provider.issuer), state)
    with ThreadedServer(app) as back:
        config = connector_config(back.url, provider.issuer)
        with CityOSClient(config, client_secret=SECRET) as client:
            sync(engine, client)
    assert citizen(engine, subject).name is None
    assert cityos_store.source_health(engine, "cityos:test")["stale"] is False


def test_events_of_unknown_people_fetch_them_with_the_user_api(engine, client, city_os):
    subject = consenting(city_os.state, "safety_status")[0]
    client.set_status(subject, "safe_at_home")
    result = sync(engine, client, users=False, shelters=False)
    assert result.users == 1 and count(engine, Citizen) == 1
    assert count(engine, StatusReport) == 1


def test_real_events_belong_to_the_active_incident_and_drill_events_are_left_out(
    engine, client, city_os
):
    with engine.begin() as conn:
        incident = conn.execute(
            sa.insert(Incident)
            .values(
                kind="real",
                name_ja="大雨",
                declared_at=dt.datetime.now(dt.UTC),
                emergency_mode=True,
            )
            .returning(Incident.id)
        ).scalar_one()
    subject = consenting(city_os.state, "safety_status")[0]
    client.post_events(
        [
            {"kind": "status", "subject": subject, "at": NOW(), "status": {"state": "evacuating"}},
            {
                "kind": "status",
                "subject": subject,
                "at": NOW(),
                "status": {"state": "needs_rescue"},
                "exercise": "someone-elses-drill",
            },
        ]
    )
    result = sync(engine, client)
    assert result.events_skipped_other_drill == 1
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(StatusReport.incident_id, StatusReport.state, StatusReport.source)
        ).all()
    assert rows == [(incident, "evacuating", "city_os")]


def test_rescue_request_and_arrival_events(engine, client, city_os):
    state = city_os.state
    subject = consenting(state, "safety_status", "location")[0]
    shelter = sorted(state.shelters)[0]
    client.post_events(
        [
            {
                "kind": "rescue_request",
                "subject": subject,
                "at": NOW(),
                "rescue": {
                    "lat": 37.5,
                    "lon": 139.9,
                    "people_count": 2,
                    "injured_count": 1,
                    "needs": "2階に孤立",
                },
            },
            {
                "kind": "arrival",
                "subject": subject,
                "at": NOW(),
                "status": {"state": "at_shelter", "shelter_id": shelter},
            },
        ]
    )
    sync(engine, client)
    with engine.connect() as conn:
        rescue = conn.execute(sa.select(RescueRequest.__table__)).one()
        report = conn.execute(sa.select(StatusReport.__table__)).one()
        our_shelter = conn.execute(
            sa.select(Shelter.id).where(Shelter.local_id == shelter)
        ).scalar_one()
    assert (rescue.people_count, rescue.injured_count, rescue.priority, rescue.status) == (
        2,
        1,
        "high",
        "new",
    )
    assert report.state == "at_shelter" and report.shelter_id == our_shelter


def test_push_is_recorded_with_its_delivery_events(engine, client, city_os):
    sync(engine, client)
    subjects = sorted(city_os.state.users)[:10]
    target = p.PushTarget(kind="citizens", subjects=subjects)
    outcome = send_push(
        engine,
        client,
        target,
        "避難所開設",
        "体育館を開設しました",
        requested_by="hq",
        idempotency_key="push-1",
    )
    again = send_push(
        engine,
        client,
        target,
        "避難所開設",
        "体育館を開設しました",
        requested_by="hq",
        idempotency_key="push-1",
    )
    assert again.notification_id == outcome.notification_id
    assert again.cityos_request_id == outcome.cityos_request_id
    assert (
        outcome.recipient_count == 10
        and outcome.events_recorded == outcome.delivered + outcome.opened + outcome.failed
    )
    assert again.events_recorded == 0
    with engine.connect() as conn:
        req = conn.execute(sa.select(NotificationRequest.__table__)).one()
    assert (req.status, req.recipient_count, req.cityos_request_id, req.target_kind) == (
        "sent",
        10,
        outcome.cityos_request_id,
        "citizens",
    )
    assert count(engine, NotificationEvent) == outcome.events_recorded


def test_a_push_the_city_os_accepts_in_part_reports_the_shortfall_and_keeps_the_chosen_target(
    engine, client, city_os
):
    """Issue 14 item 3: sent 15, the city OS knows 10 of them — accepted 10, short by 5; the
    history names the target as staff chose it, not as the list of citizens it became."""
    from sql.queries.notifications import notification_history

    sync(engine, client)
    known = sorted(city_os.state.users)[:10]
    unknown = [f"not-a-citizen-{i}" for i in range(5)]
    chosen = {"kind": "hazard_zone", "label": "洪水：3.0m以上5.0m未満"}
    outcome = send_push(
        engine,
        client,
        p.PushTarget(kind="citizens", subjects=known + unknown),
        "避難指示",
        "高台へ避難してください",
        requested_by="hq",
        chosen=chosen,
    )
    assert (outcome.sent, outcome.recipient_count, outcome.shortfall) == (15, 10, 5)
    history = notification_history(engine, None)
    row = history.iloc[0]
    assert row["target_kind"] == "citizens" and row["recipient_count"] == 10
    assert row["target_spec"]["chosen"] == chosen
