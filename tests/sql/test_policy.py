"""The personal-data policy (sql/policy.py): consent × role × mode, audited — on both databases."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3

import pytest
import sqlalchemy as sa

from bosai.vocab import SAFE_STATES
from sql import audit, policy
from sql.consent import record_consent
from sql.models import AuditLog, Incident, RescueRequest, SupportRegisterEntry
from sql.viewer import Viewer

HQ = Viewer(role="hq", subject="hq-1")
RESCUE = Viewer(role="rescue", subject="rescue-1")


def set_emergency(engine, on: bool) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(Incident).where(Incident.id == 1).values(emergency_mode=on))


def audit_rows(engine, target: str) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(AuditLog).where(AuditLog.target == target)).all()


def test_rescue_sees_positions_hq_only_in_an_emergency(demo_engine):
    for_rescue = policy.rescue_requests(demo_engine, RESCUE, 1)
    assert len(for_rescue) > 0 and for_rescue["lat"].notna().all()
    assert policy.rescue_requests(demo_engine, HQ, 1)["lat"].notna().all()
    set_emergency(demo_engine, False)
    normal = policy.rescue_requests(demo_engine, HQ, 1)
    assert len(normal) == len(for_rescue)
    assert normal["lat"].isna().all() and normal["lon"].isna().all()


@pytest.mark.parametrize("role", ["researcher", "council", "admin", "shelter_staff"])
def test_aggregate_roles_get_no_rescue_rows_nor_register(demo_engine, role):
    viewer = Viewer(role=role, subject=f"{role}-1")
    with pytest.raises(policy.PolicyDenied):
        policy.rescue_requests(demo_engine, viewer, 1)
    with pytest.raises(policy.PolicyDenied):
        policy.register_people(demo_engine, viewer, 1)


def test_register_scope_follows_the_mode(demo_engine):
    with demo_engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(SupportRegisterEntry)).scalar()
        consented = conn.execute(
            sa.select(sa.func.count()).where(SupportRegisterEntry.normal_time_consent.is_(True))
        ).scalar()
    assert 0 < consented < total
    emergency = policy.register_people(demo_engine, HQ, 1)
    assert len(emergency) == total  # 第49条の11第3項: every entry in an emergency
    set_emergency(demo_engine, False)
    normal = policy.register_people(demo_engine, HQ, 1)
    assert len(normal) == consented  # 第2項: only entries with consent in normal times
    assert normal["normal_time_consent"].all()


def test_unconfirmed_register_people_are_those_not_known_safe(demo_engine):
    people = policy.register_people(demo_engine, RESCUE, 1, unconfirmed_only=True)
    assert len(people) > 0
    assert not people["state"].isin(SAFE_STATES).any()
    counts = policy.register_counts(demo_engine, 1)
    assert counts["unconfirmed"] == len(people)


def test_the_map_learns_which_register_people_it_may_draw_and_nothing_else(demo_engine):
    everyone = policy.register_people(demo_engine, HQ, 1)
    unconfirmed = policy.register_people(demo_engine, HQ, 1, unconfirmed_only=True)
    not_on_register = [10**9, 10**9 + 1]
    # The map proposes the unconfirmed people (plus ids that are not on the register at all).
    shown = policy.register_map_points(
        demo_engine, HQ, 1, list(unconfirmed["citizen_id"]) + not_on_register
    )
    assert list(shown) == sorted(unconfirmed["citizen_id"])
    # In normal times only those who consented to sharing in normal times.
    set_emergency(demo_engine, False)
    consented = policy.register_people(demo_engine, HQ, 1)
    assert 0 < len(consented) < len(everyone)
    normal = policy.register_map_points(demo_engine, HQ, 1, everyone["citizen_id"])
    assert list(normal) == sorted(consented["citizen_id"])
    # A long proposal (beyond SQLite's 32,766 parameters) is one bound value.
    many = policy.register_map_points(demo_engine, HQ, 1, range(1, 40_001))
    assert list(many) == sorted(consented["citizen_id"])
    # Still a view of personal data (who is on the register): audited as the map's.
    rows = audit_rows(demo_engine, "policy.register_people")
    assert any((row.details or {}).get("map_points_only") is True for row in rows)
    with pytest.raises(policy.PolicyDenied):
        policy.register_map_points(demo_engine, Viewer(role="council", subject="c"), 1, [1])


def test_names_only_where_basic_information_is_shared(demo_engine):
    requests = policy.rescue_requests(demo_engine, RESCUE, 1)
    with_citizen = requests[requests["citizen_id"].notna()]
    row = with_citizen[~with_citizen["on_register"]].iloc[0]
    citizen = int(row["citizen_id"])
    assert row["name"] is not None
    withdraw(demo_engine, [citizen])
    again = policy.rescue_requests(demo_engine, RESCUE, 1, request_ids=[int(row["id"])]).iloc[0]
    assert again["name"] is None and again["phone"] is None  # withdrawal works on the next query
    assert again["lat"] == pytest.approx(row["lat"])  # the rescue position stays (asked for rescue)


def test_every_personal_read_is_audited_once_per_distinct_view(demo_engine):
    first = policy.rescue_requests(demo_engine, RESCUE, 1)
    policy.rescue_requests(demo_engine, RESCUE, 1)  # the same view again: not a new row
    rows = audit_rows(demo_engine, "policy.rescue_requests")
    assert len(rows) == 1
    assert rows[0].actor == "rescue-1" and rows[0].role == "rescue" and rows[0].incident_id == 1
    assert sorted(rows[0].citizen_ids) == sorted(first["citizen_id"].dropna().astype(int).unique())
    policy.rescue_requests(demo_engine, HQ, 1)
    assert len(audit_rows(demo_engine, "policy.rescue_requests")) == 2


# ------------------------------------------------------------------ audit before data (13.3, 13.4)


@contextlib.contextmanager
def audit_lock_held(engine):
    """Another connection holds what an audit append must take (SQLite's write lock, the
    chain's advisory lock on PostgreSQL) — as a writer does while the outage banner retries."""
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_lock(audit.ADVISORY_LOCK_KEY)))
        try:
            yield
        finally:
            holder.execute(sa.select(sa.func.pg_advisory_unlock(audit.ADVISORY_LOCK_KEY)))


def impatient(engine, monkeypatch):
    """An engine on the same database that waits 0.3 s for a lock, not 5 s or forever."""
    from sql import engine as engine_module

    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
        return engine_module.make_engine(url)
    return engine_module.make_engine(
        engine.url.update_query_dict({"options": "-c lock_timeout=300"}).render_as_string(
            hide_password=False
        )
    )


def test_no_personal_data_leaves_before_its_audit_row_is_committed(demo_engine, monkeypatch):
    hurried = impatient(demo_engine, monkeypatch)
    try:
        with audit_lock_held(demo_engine):
            with pytest.raises(sa.exc.OperationalError):
                policy.register_people(hurried, HQ, 1)
        assert audit_rows(demo_engine, "policy.register_people") == []
        # The identical read once the writer is done: it is not "recently audited" — the row
        # is written now, and only then do names and addresses come back.
        people = policy.register_people(hurried, HQ, 1)
    finally:
        hurried.dispose()
    assert len(people) > 0 and people["name"].notna().all()
    rows = audit_rows(demo_engine, "policy.register_people")
    assert len(rows) == 1
    assert sorted(rows[0].citizen_ids) == sorted(people["citizen_id"].astype(int))


def test_an_emergency_declared_within_the_repeat_window_is_a_new_audit_row(demo_engine):
    """Rescue sees positions in both modes; the emergency adds the names and phones of
    register people who share no basic information. The repeat key sees the mode and the
    disclosed fields, so the emergency read is a row of its own, naming them."""
    with demo_engine.connect() as conn:
        rid, citizen = conn.execute(
            sa.select(RescueRequest.id, RescueRequest.citizen_id)
            .join(SupportRegisterEntry, SupportRegisterEntry.citizen_id == RescueRequest.citizen_id)
            .where(RescueRequest.incident_id == 1)
            .order_by(RescueRequest.id)
            .limit(1)
        ).one()
    withdraw(demo_engine, [citizen])
    set_emergency(demo_engine, False)
    normal = policy.rescue_requests(demo_engine, RESCUE, 1, request_ids=[rid])
    assert normal["name"].isna().all() and normal["lat"].notna().all()
    set_emergency(demo_engine, True)  # declared a minute later
    emergency = policy.rescue_requests(demo_engine, RESCUE, 1, request_ids=[rid])
    assert emergency["name"].notna().all() and emergency["phone"].notna().all()
    rows = audit_rows(demo_engine, "policy.rescue_requests")
    assert len(rows) == 2
    before, after = (row.details for row in rows)
    assert before["mode"] == "normal" and not {"name", "phone"} & set(before["fields"])
    assert after["mode"] == "emergency" and {"name", "phone", "lat", "lon"} <= set(after["fields"])
    policy.rescue_requests(demo_engine, RESCUE, 1, request_ids=[rid])  # the same view again
    assert len(audit_rows(demo_engine, "policy.rescue_requests")) == 2


def test_shelter_staff_see_only_their_own_shelters(demo_engine):
    with demo_engine.connect() as conn:
        shelter_id = conn.execute(
            sa.text(
                "SELECT shelter_id FROM citizen_latest_status WHERE state = 'at_shelter' "
                "AND shelter_id IS NOT NULL GROUP BY shelter_id ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).scalar()
        expected = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM citizen_latest_status WHERE state = 'at_shelter' "
                "AND shelter_id = :s AND incident_key = 1"
            ),
            {"s": shelter_id},
        ).scalar()
    staff = Viewer(role="shelter_staff", subject="s-1", shelter_ids=(shelter_id,))
    arrivals = policy.shelter_arrivals(demo_engine, staff, 1, shelter_id)
    assert len(arrivals) == expected > 0
    other = Viewer(role="shelter_staff", subject="s-2", shelter_ids=(shelter_id + 1,))
    with pytest.raises(policy.PolicyDenied):
        policy.shelter_arrivals(demo_engine, other, 1, shelter_id)


def withdraw(engine, citizen_ids, item="basic_info"):
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        record_consent(
            conn,
            [
                {
                    "citizen_id": int(c),
                    "data_item": item,
                    "share_target": "city_hq",
                    "purpose": "disaster_response",
                    "notice_version": "test",
                    "event_type": "withdrawn",
                    "occurred_at": now,
                    "collection_method": "app",
                }
                for c in citizen_ids
            ],
        )


def test_notification_recipients_respect_the_basis(demo_engine):
    withdraw(demo_engine, [5, 6, 7])
    everyone = policy.notification_recipients(demo_engine, HQ, 1, None, "everyone")
    by_home = policy.notification_recipients(
        demo_engine, HQ, 1, everyone["citizen_id"].tolist(), "home_location"
    )
    with demo_engine.connect() as conn:
        sharing = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM consent_state WHERE data_item = 'basic_info' AND "
                "share_target = 'city_hq' AND event_type = 'given'"
            )
        ).scalar()
    assert len(everyone) == 600
    assert len(by_home) == sharing <= 597
    assert not {5, 6, 7} & set(by_home["citizen_id"])
    register = policy.notification_recipients(demo_engine, HQ, 1, None, "register")
    assert len(register) == len(policy.register_people(demo_engine, HQ, 1))
    with pytest.raises(policy.PolicyDenied):
        policy.notification_recipients(demo_engine, RESCUE, 1, None, "everyone")


def test_rescue_requests_as_of_a_past_moment_use_their_history(demo_engine):
    with demo_engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(RescueRequest.requested_at))).scalar()
    early = first + dt.timedelta(minutes=1)
    then = policy.rescue_requests(demo_engine, RESCUE, 1, as_of=early)
    assert (then["requested_at"] <= early).all()
    assert len(then) < len(policy.rescue_requests(demo_engine, RESCUE, 1))


def test_a_withdrawn_register_consent_takes_effect_in_normal_times_not_in_an_emergency(
    demo_engine,
):
    set_emergency(demo_engine, False)
    consented = set(policy.register_people(demo_engine, HQ, 1)["citizen_id"])
    leaving = sorted(consented)[:3]
    withdraw(demo_engine, leaving, "support_register")
    now_normal = policy.register_people(demo_engine, HQ, 1)
    assert set(now_normal["citizen_id"]) == consented - set(leaving)
    with pytest.raises(policy.PolicyDenied):
        policy.register_download(demo_engine, HQ, 1, leaving[:1])
    set_emergency(demo_engine, True)
    emergency = policy.register_people(demo_engine, HQ, 1)
    assert set(leaving) <= set(emergency["citizen_id"])  # 第49条の11第3項
    assert not emergency.set_index("citizen_id").loc[leaving, "normal_time_consent"].any()


def test_household_addresses_only_where_a_member_shares_them_or_is_on_the_register(demo_engine):
    before = policy.households_unaccounted(demo_engine, HQ, 1)
    assert before["address"].notna().any()
    with demo_engine.connect() as conn:
        citizens = conn.execute(sa.text("SELECT id, household_id FROM citizens")).all()
        register = set(conn.execute(sa.select(SupportRegisterEntry.citizen_id)).scalars())
    withdraw(demo_engine, [c for c, _ in citizens])
    after = policy.households_unaccounted(demo_engine, HQ, 1).set_index("household_id")
    register_households = {h for c, h in citizens if c in register}
    shown = set(after.index[after["address"].notna()])
    assert shown == register_households & set(after.index)
    assert len(after) == len(before), "every household still counted"


def test_the_queue_and_the_map_read_fewer_columns_of_the_same_requests(demo_engine):
    full = policy.rescue_requests(demo_engine, RESCUE, 1)
    queue = policy.rescue_requests(demo_engine, RESCUE, 1, fields="queue")
    points = policy.rescue_requests(demo_engine, RESCUE, 1, fields="map")
    assert list(queue.columns) == list(policy.RESCUE_QUEUE_COLUMNS)
    assert list(points.columns) == list(policy.RESCUE_MAP_COLUMNS)
    assert not {"name", "phone"} & set(queue.columns)
    assert not {"name", "phone", "district"} & set(points.columns)
    for frame in (queue, points):
        shared = list(frame.columns)
        assert frame.to_dict("records") == full[shared].to_dict("records")
    assert full["on_register"].any() and (~full["on_register"]).any()
    rows = audit_rows(demo_engine, "policy.rescue_requests")
    assert {(row.details or {}).get("view") for row in rows} >= {"queue", "map"}


def test_rescue_requests_by_status(demo_engine):
    everything = policy.rescue_requests(demo_engine, RESCUE, 1, fields="queue")
    done = policy.rescue_requests(demo_engine, RESCUE, 1, fields="queue", statuses=["resolved"])
    assert len(done) == (everything["status"] == "resolved").sum() > 0
    assert set(done["status"]) == {"resolved"}
    with pytest.raises(ValueError, match="fields must be one of"):
        policy.rescue_requests(demo_engine, RESCUE, 1, fields="names")
