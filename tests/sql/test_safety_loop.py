"""Shelter reception, evacuees at home or in cars, reports and follow-ups, and the reception
reads of the policy — on both databases; races with two real connections at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from analytics.safety_merge import categorise, merge
from sql import policy
from sql.actions import ActionRefused, ConflictError
from sql.actions.follow_up import assign_follow_up, record_follow_up, record_report
from sql.actions.reception import (
    SafetyRefused,
    check_in,
    check_out,
    record_place,
    register_walk_in,
)
from sql.engine import make_engine
from sql.models import (
    AuditLog,
    Citizen,
    EvacueeStay,
    IncidentActivity,
    SafetyObservation,
    ShelterOperation,
)
from sql.queries import safety_picture
from sql.queries.shelter_board import shelter_board
from sql.viewer import Viewer

HQ = Viewer(role="hq", subject="hq-1")
RESCUE = Viewer(role="rescue", subject="rescue-1")


def open_shelters(engine) -> list[int]:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(ShelterOperation.shelter_id)
                .where(ShelterOperation.incident_id == 1, ShelterOperation.closed_at.is_(None))
                .order_by(ShelterOperation.shelter_id)
            )
            .scalars()
            .all()
        )


@pytest.fixture
def loop_engine(demo_engine):
    """The demo city without the demo's own check-ins, reports, follow-ups and plans: the
    tests below count what they do from nothing."""
    from drills.demo_city import SAFETY_LOOP_TABLES
    from sql.models import Base

    with demo_engine.begin() as conn:
        for table in reversed(SAFETY_LOOP_TABLES):
            conn.execute(sa.delete(Base.metadata.tables[table]))
    return demo_engine


@pytest.fixture
def desk(loop_engine):
    """(engine, shelter staff at two open shelters, those shelters)."""
    first, second = open_shelters(loop_engine)[:2]
    staff = Viewer(role="shelter_staff", subject="desk-1", shelter_ids=(first, second))
    return loop_engine, staff, first, second


def household_of_three(engine) -> list[int]:
    with engine.connect() as conn:
        hid = conn.execute(
            sa.text(
                "SELECT household_id FROM citizens GROUP BY household_id HAVING COUNT(*) = 3 "
                "ORDER BY household_id LIMIT 1"
            )
        ).scalar_one()
        return (
            conn.execute(
                sa.select(Citizen.id).where(Citizen.household_id == hid).order_by(Citizen.id)
            )
            .scalars()
            .all()
        )


def count(engine, model, **where) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return conn.execute(stmt).scalar_one()


def open_stays(engine, citizen_id) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(EvacueeStay).where(
                EvacueeStay.citizen_id == citizen_id, EvacueeStay.left_at.is_(None)
            )
        ).all()


# ------------------------------------------------------------------ check-in and check-out


def test_a_household_checked_in_together_is_seen_and_counted(desk):
    engine, staff, shelter, _ = desk
    family = household_of_three(engine)
    done = check_in(engine, staff, 1, shelter, family, method="household")
    assert [d.result for d in done] == ["checked_in"] * 3
    assert len({d.stay_id for d in done}) == 3
    assert count(engine, SafetyObservation, source="reception", outcome="checked_in") == 3
    here = policy.shelter_people(engine, staff, 1, shelter)
    assert set(here["citizen_id"].dropna().astype(int)) == set(family)
    assert count(engine, IncidentActivity, action="reception_check_in") == 1
    # The merged picture counts them safe, by reception.
    merged = merge(categorise(_obs(engine))).set_index("citizen_id")
    assert set(merged.loc[family, "source"]) == {"reception"}


def _obs(engine):
    frame = safety_picture.observations(engine, 1)
    return frame.assign(at=safety_picture.to_utc(frame["at"].to_numpy()))


def test_checking_in_someone_already_here_changes_nothing_and_says_who(desk):
    engine, staff, shelter, _ = desk
    person = household_of_three(engine)[0]
    check_in(engine, staff, 1, shelter, [person])
    other = Viewer(role="shelter_staff", subject="desk-2", shelter_ids=(shelter,))
    again = check_in(engine, other, 1, shelter, [person])
    assert again[0].result == "already_here" and again[0].by == "desk-1"
    assert len(open_stays(engine, person)) == 1
    assert count(engine, SafetyObservation, citizen_id=person) == 1


def test_someone_checked_in_elsewhere_is_moved_and_the_move_recorded(desk):
    engine, staff, first, second = desk
    person = household_of_three(engine)[0]
    before = check_in(engine, staff, 1, first, [person])[0]
    moved = check_in(engine, staff, 1, second, [person])[0]
    assert moved.result == "moved" and moved.from_place == "shelter" and moved.from_shelter
    with engine.connect() as conn:
        old = conn.execute(sa.select(EvacueeStay).where(EvacueeStay.id == before.stay_id)).one()
    assert old.end_reason == "moved" and old.moved_to == moved.stay_id
    [current] = open_stays(engine, person)
    assert current.shelter_id == second


def test_check_out_without_check_in_is_refused_and_writes_nothing(desk):
    engine, staff, first, second = desk
    person = household_of_three(engine)[0]
    audit_before = count(engine, AuditLog)
    with pytest.raises(SafetyRefused) as refused:
        check_out(engine, staff, 1, first, citizen_id=person)
    assert refused.value.key == "safety.refused.not_checked_in"
    assert count(engine, EvacueeStay) == 0 and count(engine, AuditLog) == audit_before
    check_in(engine, staff, 1, second, [person])
    with pytest.raises(SafetyRefused) as elsewhere:
        check_out(engine, staff, 1, first, citizen_id=person)
    assert elsewhere.value.key == "safety.refused.checked_in_elsewhere"
    check_out(engine, staff, 1, second, citizen_id=person)
    assert open_stays(engine, person) == []
    assert count(engine, SafetyObservation, outcome="checked_out") == 1


def test_reception_only_at_your_own_open_shelter_in_an_incident(desk):
    engine, staff, first, _ = desk
    person = household_of_three(engine)[0]
    elsewhere = Viewer(role="shelter_staff", subject="desk-9", shelter_ids=(first + 1000,))
    with pytest.raises(SafetyRefused, match="not one of yours"):
        check_in(engine, elsewhere, 1, first, [person])
    with pytest.raises(ActionRefused):
        check_in(engine, Viewer(role="researcher", subject="r"), 1, first, [person])
    with engine.begin() as conn:
        conn.execute(
            sa.update(ShelterOperation)
            .where(ShelterOperation.shelter_id == first)
            .values(closed_at=dt.datetime.now(dt.UTC))
        )
    with pytest.raises(SafetyRefused) as closed:
        check_in(engine, staff, 1, first, [person])
    assert closed.value.key == "safety.refused.shelter_closed"
    with pytest.raises(SafetyRefused) as none:
        check_in(engine, staff, None, first, [person])
    assert none.value.key == "safety.refused.no_incident"


def _at_once(engine_url: str, jobs):
    """Run each job on its own engine (its own connection) in its own thread, all released
    together; returns results or the exceptions they raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        engine = make_engine(engine_url)
        try:
            barrier.wait()
            results[i] = job(engine)
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_two_desks_checking_in_the_same_person_at_once_give_one_check_in(desk):
    engine, staff, shelter, _ = desk
    person = household_of_three(engine)[1]
    other = Viewer(role="shelter_staff", subject="desk-2", shelter_ids=(shelter,))
    results = _at_once(
        _url(engine),
        [
            lambda e: check_in(e, staff, 1, shelter, [person])[0],
            lambda e: check_in(e, other, 1, shelter, [person])[0],
        ],
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.result for r in results) == ["already_here", "checked_in"]
    assert len(open_stays(engine, person)) == 1
    assert count(engine, EvacueeStay, citizen_id=person) == 1
    assert count(engine, SafetyObservation, citizen_id=person) == 1


def test_two_shelters_checking_in_the_same_person_at_once_record_a_move(desk):
    engine, staff, first, second = desk
    person = household_of_three(engine)[2]
    results = _at_once(
        _url(engine),
        [
            lambda e: check_in(e, staff, 1, first, [person])[0],
            lambda e: check_in(e, staff, 1, second, [person])[0],
        ],
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.result for r in results) == ["checked_in", "moved"]
    assert len(open_stays(engine, person)) == 1
    assert count(engine, EvacueeStay, citizen_id=person) == 2


# ------------------------------------------------------------------ walk-ins, places


def test_a_walk_in_is_checked_in_with_their_household_and_counted(desk):
    engine, staff, shelter, _ = desk
    walk_in, stay = register_walk_in(
        engine,
        staff,
        1,
        shelter,
        name="山田 花子",
        kana="ヤマダ ハナコ",
        age_band="75+",
        household_size=3,
        needs="車いす",
    )
    here = policy.shelter_people(engine, staff, 1, shelter)
    row = here[here["walk_in_id"] == walk_in].iloc[0]
    assert (row["name"], row["household_size"], row["needs"]) == ("山田 花子", 3, "車いす")
    board = shelter_board(engine, 1).set_index("id")
    assert board.loc[shelter, "head_count"] == 3
    assert board.loc[shelter, "head_count_source"] == "reception"
    check_out(engine, staff, 1, shelter, walk_in_id=walk_in)
    assert shelter_board(engine, 1).set_index("id").loc[shelter, "head_count"] == 0


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"name": " ", "age_band": "75+"}, "safety.refused.name_required"),
        ({"name": "x", "age_band": "old"}, "safety.refused.age_band"),
        ({"name": "x", "age_band": "75+", "household_size": 0}, "safety.refused.household_size"),
        ({"name": "x" * 101, "age_band": "75+"}, "safety.refused.too_long"),
    ],
)
def test_a_walk_in_with_bad_details_is_refused(desk, values, key):
    engine, staff, shelter, _ = desk
    with pytest.raises(SafetyRefused) as refused:
        register_walk_in(engine, staff, 1, shelter, **values)
    assert refused.value.key == key
    assert count(engine, EvacueeStay) == 0


def test_shelters_without_reception_keep_their_manual_counts(desk):
    engine, staff, first, second = desk
    manual = shelter_board(engine, 1).set_index("id")
    check_in(engine, staff, 1, first, household_of_three(engine))
    board = shelter_board(engine, 1).set_index("id")
    assert board.loc[first, "head_count"] == 3
    assert board.loc[second, "head_count_source"] == "manual"
    assert board.loc[second, "head_count"] == manual.loc[second, "head_count"]


def test_evacuees_at_home_and_in_cars_are_recorded_by_hq_or_rescue(desk):
    engine, staff, shelter, _ = desk
    family = household_of_three(engine)
    check_in(engine, staff, 1, shelter, family[:1])
    done = record_place(engine, RESCUE, 1, family[:2], "car", "鶴ヶ城公園駐車場")
    assert [d.result for d in done] == ["moved", "checked_in"]
    record_place(engine, HQ, 1, family[2:], "home", "自宅2階")
    totals = safety_picture.place_totals(safety_picture.evacuees_by_place(engine, 1))
    assert totals == {"shelter": 0, "home": 1, "car": 2}
    with pytest.raises(ActionRefused):
        record_place(engine, staff, 1, family, "home", "自宅")
    with pytest.raises(SafetyRefused):
        record_place(engine, HQ, 1, family, "car", " ")


# ------------------------------------------------------------------ reports, follow-ups


def test_follow_ups_carry_versions_and_their_outcomes_count(loop_engine):
    family = household_of_three(loop_engine)
    person = family[0]
    version = assign_follow_up(loop_engine, HQ, 1, person, None, "電話班A", "call")
    assert version == 1
    with pytest.raises(ConflictError) as conflict:
        assign_follow_up(loop_engine, RESCUE, 1, person, None, "消防2隊", "visit")
    assert conflict.value.current["by"] == "hq-1"
    version = record_follow_up(loop_engine, HQ, 1, person, version, "not_reached")
    version = assign_follow_up(loop_engine, RESCUE, 1, person, version, "消防2隊", "visit")
    with pytest.raises(ConflictError):
        record_follow_up(loop_engine, HQ, 1, person, version - 1, "reached_safe")
    record_follow_up(
        loop_engine, RESCUE, 1, person, version, "reached_safe", "自宅で無事", family[1:]
    )
    merged = merge(categorise(_obs(loop_engine))).set_index("citizen_id")
    assert (merged.loc[family, "state"] == "safe").all()
    assert set(merged.loc[family, "source"]) == {"follow_up"}
    details = policy.unaccounted_details(loop_engine, HQ, 1, [person])
    assert details.iloc[0]["follow_up_status"] == "reached_safe"
    assert details.iloc[0]["attempts"] == 2


def test_reports_by_source_as_the_role_allows(loop_engine):
    person = household_of_three(loop_engine)[0]
    assert record_report(loop_engine, HQ, 1, [person], "family", "needs_help", "電話あり") == 1
    with pytest.raises(SafetyRefused):
        record_report(loop_engine, RESCUE, 1, [person], "family", "safe")
    record_report(loop_engine, RESCUE, 1, [person], "rescue", "safe")
    merged = merge(categorise(_obs(loop_engine))).set_index("citizen_id")
    assert merged.loc[person, "source"] == "rescue"


# ------------------------------------------------------------------ what reception may find


def test_reception_finds_by_name_kana_or_birth_date_and_audits(desk):
    engine, staff, shelter, _ = desk
    with engine.connect() as conn:
        someone = conn.execute(
            sa.select(Citizen.id, Citizen.name, Citizen.kana, Citizen.birth_date).limit(1)
        ).one()
    family_name = someone.name.split()[0]
    hiragana = "".join(chr(ord(c) - 0x60) for c in someone.kana.replace(" ", ""))
    common = policy.reception_search(engine, staff, 1, shelter, family_name)
    assert len(common) == policy.RECEPTION_SEARCH_LIMIT and common.attrs["more"]
    for found in (
        policy.reception_search(engine, staff, 1, shelter, someone.name),
        policy.reception_search(engine, staff, 1, shelter, hiragana),
        policy.reception_search(engine, staff, 1, shelter, "", someone.birth_date),
    ):
        assert someone.id in found["citizen_id"].tolist()
        assert len(found) <= policy.RECEPTION_SEARCH_LIMIT
    with pytest.raises(ValueError):
        policy.reception_search(engine, staff, 1, shelter, "佐")
    with engine.connect() as conn:
        audited = conn.execute(
            sa.select(sa.func.count()).where(AuditLog.target == "policy.reception_search")
        ).scalar_one()
    assert audited == 3  # the name and the kana found the same person: one view
    with pytest.raises(policy.PolicyDenied):
        policy.reception_search(
            engine, Viewer(role="shelter_staff", subject="x", shelter_ids=()), 1, shelter, "佐藤"
        )


def test_a_citizen_without_shared_basic_information_is_not_found_by_name(desk):
    from tests.sql.test_policy import set_emergency, withdraw

    engine, staff, shelter, _ = desk
    with engine.connect() as conn:
        person = conn.execute(
            sa.text(
                "SELECT c.id, c.kana, c.subject FROM citizens c WHERE c.id NOT IN "
                "(SELECT citizen_id FROM support_register) ORDER BY c.id LIMIT 1"
            )
        ).one()
    withdraw(engine, [person.id])
    set_emergency(engine, False)
    policy.forget_recent_views()
    found = policy.reception_search(engine, staff, 1, shelter, person.kana)
    assert person.id not in found["citizen_id"].tolist()
    # Showing their app's QR code finds them, without their name.
    by_qr = policy.reception_by_subject(engine, staff, 1, shelter, person.subject)
    assert by_qr["citizen_id"].tolist() == [person.id] and by_qr["name"].isna().all()


def test_the_list_names_people_only_in_an_emergency(loop_engine):
    from tests.sql.test_policy import set_emergency

    ids = list(range(1, 40))
    named = policy.unaccounted_details(loop_engine, HQ, 1, ids)
    assert named["name"].notna().any()
    set_emergency(loop_engine, False)
    policy.forget_recent_views()
    unnamed = policy.unaccounted_details(loop_engine, HQ, 1, ids)
    assert unnamed["name"].isna().all() and unnamed["phone"].isna().all()
    for role in ("shelter_staff", "researcher", "council", "admin"):
        with pytest.raises(policy.PolicyDenied):
            policy.unaccounted_details(loop_engine, Viewer(role=role, subject="x"), 1, ids)


def test_the_list_as_a_file_is_audited_every_time_before_it_leaves(loop_engine, monkeypatch):
    """The follow-up teams' file: the list's rules per role and mode; each download its own
    audit row (a repeat too), committed before any row returns."""
    from tests.sql.test_policy import audit_lock_held, impatient, set_emergency

    ids = list(range(1, 40))
    target = "policy.unaccounted_download"
    hurried = impatient(loop_engine, monkeypatch)
    try:
        with audit_lock_held(loop_engine):
            with pytest.raises(sa.exc.OperationalError):
                policy.unaccounted_download(hurried, HQ, 1, ids)
    finally:
        hurried.dispose()
    assert _audit(loop_engine, target) == []
    named = policy.unaccounted_download(loop_engine, HQ, 1, ids, filters={"scope": "all"})
    assert named["citizen_id"].tolist() == ids and named["name"].notna().any()
    again = policy.unaccounted_download(loop_engine, RESCUE, 1, ids)
    assert again["name"].tolist() == named["name"].tolist()  # rescue: the same rule
    policy.unaccounted_download(loop_engine, HQ, 1, ids)  # the same file a moment later
    rows = _audit(loop_engine, target)
    assert [(r.actor, r.role) for r in rows] == [("hq-1", "hq"), ("rescue-1", "rescue")] + [
        ("hq-1", "hq")
    ]
    assert sorted(rows[0].citizen_ids) == ids
    assert rows[0].details["filters"] == {"scope": "all"} and rows[0].details["format"] == "csv"
    assert "name" in rows[0].details["fields"]
    assert len({r.details["download"] for r in rows}) == 3
    set_emergency(loop_engine, False)
    unnamed = policy.unaccounted_download(loop_engine, HQ, 1, ids)
    assert unnamed["name"].isna().all() and unnamed["phone"].isna().all()
    assert unnamed["address"].isna().all() and unnamed["kana"].isna().all()
    assert _audit(loop_engine, target)[-1].details["fields"] == []
    for role in ("shelter_staff", "researcher", "council", "admin"):
        with pytest.raises(policy.PolicyDenied):
            policy.unaccounted_download(loop_engine, Viewer(role=role, subject="x"), 1, ids)
    assert len(_audit(loop_engine, target)) == 4


def _audit(engine, target: str) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(AuditLog).where(AuditLog.target == target).order_by(AuditLog.id)
        ).all()


def test_an_admin_deletes_a_plan_as_seen_and_the_deletion_is_logged(demo_engine):
    """Only the version the administrator saw is deleted; the person leaves plan tracking;
    one audit row and one activity-log row; a second deletion says the plan is gone."""
    from sql.actions.plans import delete_plan
    from sql.models import EvacuationPlan

    engine = demo_engine  # with the demo's plans
    admin = Viewer(role="admin", subject="admin-1")
    with engine.begin() as conn:
        plan = conn.execute(sa.select(EvacuationPlan).order_by(EvacuationPlan.id).limit(1)).one()
        conn.execute(
            sa.update(EvacuationPlan)
            .where(EvacuationPlan.id == plan.id)
            .values(version=3, updated_by="import-1")
        )
    person = plan.citizen_id
    assert person in set(safety_picture.plans(engine)["citizen_id"])
    for viewer in (HQ, RESCUE):
        with pytest.raises(ActionRefused):
            delete_plan(engine, viewer, person, 3, 1)
    with pytest.raises(ConflictError) as stale:  # an import changed it since the page showed v2
        delete_plan(engine, admin, person, 2, 1)
    assert stale.value.current == {"by": "import-1", "version": 3}
    assert count(engine, EvacuationPlan, citizen_id=person) == 1
    deleted = delete_plan(engine, admin, person, 3, 1)
    assert deleted == {"version": 3, "supporters": len(plan.supporters or [])}
    assert count(engine, EvacuationPlan, citizen_id=person) == 0
    assert person not in set(safety_picture.plans(engine)["citizen_id"])
    with engine.connect() as conn:
        activity = conn.execute(
            sa.select(IncidentActivity).where(IncidentActivity.action == "plan_deleted")
        ).all()
        audited = conn.execute(
            sa.select(AuditLog).where(AuditLog.action == "write:plan_deleted")
        ).all()
    assert [(a.incident_id, a.actor, a.target_type, a.target_id) for a in activity] == [
        (1, "admin-1", "evacuation_plan", str(person))
    ]
    assert [(a.actor, a.target, a.citizen_ids) for a in audited] == [
        ("admin-1", f"evacuation_plan:{person}", [person])
    ]
    with pytest.raises(SafetyRefused) as gone:
        delete_plan(engine, admin, person, 3, 1)
    assert gone.value.key == "safety.refused.plan_gone"
    # Outside an incident: audited, no activity row.
    other = first_plan(engine)
    delete_plan(engine, admin, other.citizen_id, other.version)
    assert count(engine, IncidentActivity, action="plan_deleted") == 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(AuditLog.action == "write:plan_deleted")
            ).scalar_one()
            == 2
        )


def first_plan(engine):
    from sql.models import EvacuationPlan

    with engine.connect() as conn:
        return conn.execute(sa.select(EvacuationPlan).order_by(EvacuationPlan.id).limit(1)).one()


def test_check_ins_are_arrivals_of_the_drill_and_plans_cover_the_register(demo_engine):
    from analytics.drill_evaluation import evaluate_drill
    from sql.models import Drill
    from sql.queries import research

    engine = demo_engine  # with the demo's plans
    shelter = open_shelters(engine)[0]
    staff = Viewer(role="shelter_staff", subject="desk-1", shelter_ids=(shelter,))
    with engine.connect() as conn:
        person = conn.execute(
            sa.text(
                "SELECT id FROM citizens WHERE id NOT IN (SELECT citizen_id FROM evacuee_stays "
                "WHERE citizen_id IS NOT NULL) ORDER BY id LIMIT 1"
            )
        ).scalar_one()
    check_in(engine, staff, 1, shelter, [person])
    start = safety_picture.incident_start(engine, 1)
    with engine.begin() as conn:
        drill_id = conn.execute(
            sa.insert(Drill)
            .values(name="受付訓練", scenario="flood", started_at=start, incident_id=1)
            .returning(Drill.id)
        ).scalar_one()
    researcher = Viewer(role="researcher", subject="r-1")
    events = research.drill_events(engine, researcher, drill_id)
    arrived = events[(events["citizen_id"] == person) & (events["event_type"] == "arrived")]
    assert len(arrived) == 1
    register = research.register_citizen_ids(engine, researcher)
    planned = safety_picture.plans(engine)["citizen_id"]
    result = evaluate_drill(events, start, dt.datetime.now(dt.UTC), register, planned_ids=planned)
    coverage = result["plan_coverage"]
    assert coverage["register"] == len(register)
    assert coverage["with_plan"] == len(set(planned) & set(register)) > 0
    assert result["time_to_event"]["arrived"]["all"]["events"] >= 1
