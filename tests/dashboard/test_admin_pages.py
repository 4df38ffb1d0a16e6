"""職員管理 and 監査ログ — the admin pages through the real entry point, signed in as the demo
city's administrator, checked against the database."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from sql import policy
from sql.engine import make_engine
from tests.conftest import drop_audit_triggers, sql
from tests.dashboard.conftest import open_page

ADMIN = {"is_logged_in": True, "sub": "demo-admin", "name": "Admin", "roles": ["admin"]}


def press(at, label: str):
    button = next(b for b in at.button if b.label == label)
    button.click().run()
    assert not at.exception, at.exception
    return at


def messages(at) -> str:
    return "\n".join(e.value for kind in ("error", "success", "info") for e in at.get(kind))


def test_the_staff_list_shows_every_account(app, demo_copy):
    at = open_page(app, demo_copy, "admin_staff", user=ADMIN)
    assert at.title[0].value == "職員管理"
    table = at.dataframe[0].value
    truth = sql(demo_copy, "SELECT name, subject, role FROM staff")
    assert sorted(zip(table["氏名"], table["サインイン ID"], strict=True)) == sorted(
        (n, s) for n, s, _ in truth
    )
    assert set(table["役割"]) == {
        "災害対策本部",
        "消防・救助",
        "避難所職員",
        "研究者",
        "議会・市長室",
        "管理者",
    }


def test_adding_a_shelter_staff_member_writes_the_account_and_the_audit_row(app, demo_copy):
    shelter = sql(demo_copy, "SELECT id, name FROM shelters ORDER BY id LIMIT 1")[0]
    at = open_page(app, demo_copy, "admin_staff", user=ADMIN)
    at.text_input(key="new_staff_subject").input("sato@city.example.jp")
    at.text_input(key="new_staff_name").input("佐藤 次郎")
    at.selectbox(key="new_staff_role").select("shelter_staff")
    at.multiselect(key="new_staff_shelters").select(shelter[0])
    press(at, "追加する")
    assert "職員を追加しました" in messages(at)
    row = sql(
        demo_copy,
        "SELECT id, name, role, shelter_ids, active FROM staff WHERE subject = 'sato@city.example.jp'",
    )[0]
    assert row[1:3] == ("佐藤 次郎", "shelter_staff") and json.loads(row[3]) == [shelter[0]]
    audited = sql(demo_copy, "SELECT actor, role, action, target, details FROM audit_log")
    write = [a for a in audited if a[2] == "write:staff_added"]
    assert len(write) == 1 and write[0][:2] == ("demo-admin", "admin")
    assert write[0][3] == f"staff:{row[0]}"
    assert json.loads(write[0][4])["shelter_ids"] == [shelter[0]]
    # The new account can sign in, as shelter staff of that shelter.
    at2 = app(demo_copy)
    at2.user = {"is_logged_in": True, "sub": "sato@city.example.jp", "roles": ["shelter_staff"]}
    at2.run()
    ctx = at2.session_state["_bosai_page_context"]
    assert ctx.viewer.shelter_ids == (shelter[0],) and ctx.viewer.staff_id == row[0]


def test_a_shelter_staff_member_without_a_shelter_is_refused_and_nothing_written(app, demo_copy):
    before = sql(demo_copy, "SELECT COUNT(*) FROM staff")[0][0]
    at = open_page(app, demo_copy, "admin_staff", user=ADMIN)
    at.text_input(key="new_staff_subject").input("nobody@city.example.jp")
    at.text_input(key="new_staff_name").input("名前")
    at.selectbox(key="new_staff_role").select("shelter_staff")
    press(at, "追加する")
    assert "shelter staff need at least one shelter" in messages(at)
    assert sql(demo_copy, "SELECT COUNT(*) FROM staff")[0][0] == before
    assert not sql(demo_copy, "SELECT id FROM audit_log WHERE action LIKE 'write:%'")


def test_changing_a_role_and_deactivating(app, demo_copy):
    hq_id = sql(demo_copy, "SELECT id FROM staff WHERE subject = 'demo-hq'")[0][0]
    at = open_page(app, demo_copy, "admin_staff", user=ADMIN)
    at.selectbox(key="edit_staff_id").select(hq_id).run()
    at.selectbox(key=f"edit_staff_role_{hq_id}").select("council")
    at.text_input(key=f"edit_staff_team_{hq_id}").input("本部班")
    press(at, "保存する")
    assert "変更を保存しました" in messages(at)
    assert sql(demo_copy, "SELECT role, team, active FROM staff WHERE id = :i", i=hq_id) == [
        ("council", "本部班", 1)
    ]
    at.toggle(key=f"edit_staff_active_{hq_id}").set_value(False)
    press(at, "保存する")
    assert sql(demo_copy, "SELECT active FROM staff WHERE id = :i", i=hq_id) == [(0,)]
    actions = [
        r[0]
        for r in sql(
            demo_copy, "SELECT action FROM audit_log WHERE action LIKE 'write:%' ORDER BY id"
        )
    ]
    assert actions == ["write:staff_changed", "write:staff_deactivated"]
    # The deactivated account is refused at sign-in, with the reason.
    at2 = app(demo_copy)
    at2.user = {"is_logged_in": True, "sub": "demo-hq", "roles": ["council"]}
    at2.run()
    assert any("無効になっています" in e.value for e in at2.error)


def test_the_last_administrator_cannot_lock_everyone_out(app, demo_copy):
    admin_id = sql(demo_copy, "SELECT id FROM staff WHERE subject = 'demo-admin'")[0][0]
    at = open_page(app, demo_copy, "admin_staff", user=ADMIN)
    at.selectbox(key="edit_staff_id").select(admin_id).run()
    at.toggle(key=f"edit_staff_active_{admin_id}").set_value(False)
    press(at, "保存する")
    assert "the last active administrator" in messages(at)
    assert sql(demo_copy, "SELECT active FROM staff WHERE id = :i", i=admin_id) == [(1,)]


@pytest.mark.parametrize("role", ["hq", "rescue", "shelter_staff", "researcher", "council"])
def test_only_administrators_get_the_admin_pages(app, demo_copy, role):
    subject = sql(demo_copy, "SELECT subject FROM staff WHERE role = :r", r=role)[0][0]
    at = app(demo_copy)
    at.user = {"is_logged_in": True, "sub": subject, "roles": [role]}
    at.run()
    for page in ("admin_staff", "admin_audit", "admin_quarantine"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}.py")


def test_audit_search_by_citizen_finds_who_saw_them_and_is_itself_audited(app, demo_copy):
    engine = make_engine(demo_copy)
    from sql.viewer import Viewer

    frame = policy.rescue_requests(engine, Viewer(role="rescue", subject="demo-rescue"), 1)
    policy.register_people(engine, Viewer(role="hq", subject="demo-hq"), 1)
    engine.dispose()
    citizen = int(frame["citizen_id"].iloc[0])
    expected = [
        r[0]
        for r in sql(demo_copy, "SELECT id, citizen_ids FROM audit_log ORDER BY id DESC")
        if r[1] and citizen in json.loads(r[1])
    ]
    at = open_page(app, demo_copy, "admin_audit", user=ADMIN)
    assert at.title[0].value == "監査ログ"
    at.text_input(key="audit_citizen").input(str(citizen))
    press(at, "検索")
    table = at.dataframe[0].value
    assert table["行"].tolist() == expected
    assert "policy.rescue_requests" in set(table["対象"])
    searched = sql(
        demo_copy,
        "SELECT actor, role, citizen_ids, details FROM audit_log WHERE target = 'audit_log.search'",
    )
    assert len(searched) == 1 and searched[0][:2] == ("demo-admin", "admin")
    assert json.loads(searched[0][2]) == [citizen]
    assert json.loads(searched[0][3])["filter"]["citizen_id"] == citizen
    # by staff name, role and action
    at.text_input(key="audit_citizen").input("")
    at.text_input(key="audit_actor").input("消防")
    at.selectbox(key="audit_role").select("rescue")
    press(at, "検索")
    shown = at.dataframe[0].value
    assert len(shown) >= 1 and set(shown["役割"]) == {"消防・救助"}


def test_the_chain_check_reports_tampering(app, demo_copy):
    engine = make_engine(demo_copy)
    from sql.viewer import Viewer

    policy.register_people(engine, Viewer(role="hq", subject="demo-hq"), 1)
    engine.dispose()
    at = open_page(app, demo_copy, "admin_audit", user=ADMIN)
    press(at, "ハッシュチェーンを検証")
    assert any("改ざんされていません" in s.value for s in at.success)
    first = sql(demo_copy, "SELECT MIN(id) FROM audit_log")[0][0]
    engine = make_engine(demo_copy)
    with engine.begin() as conn:
        drop_audit_triggers(conn)  # the append-only triggers first (13.10)
        conn.execute(
            sa.text("UPDATE audit_log SET purpose = 'curiosity' WHERE id = :i"), {"i": first}
        )
    engine.dispose()
    press(at, "ハッシュチェーンを検証")
    assert any(f"行 {first}" in e.value for e in at.error)


def test_admins_see_the_records_held_back_with_their_reason_and_position(app, demo_copy):
    """Issue 13, finding 2: the records the city-OS boundary quarantined are listed for admins
    (kind, id, field, translated reason, position in the feed); the values never are."""
    from sql import cityos_store
    from sql.cityos_store import SyncBatch, SyncCursor

    engine = make_engine(demo_copy)
    batch = SyncBatch(source="cityos:test", cursor=SyncCursor())
    batch.quarantined = [
        {
            "kind": "user",
            "record_ref": "u-000042",
            "position": "users since=0 #7",
            "reason": "too_long",
            "field": "basic_info.name",
            "detail": "101 characters; the column holds 100",
        }
    ]
    cityos_store.apply_sync(engine, batch)
    engine.dispose()
    at = open_page(app, demo_copy, "admin_quarantine", user=ADMIN)
    assert at.title[0].value == "取り込み保留"
    table = at.dataframe[0].value
    assert list(table["記録 ID"]) == ["u-000042"]
    assert list(table["種類"]) == ["市民"]
    assert list(table["項目"]) == ["basic_info.name"]
    assert list(table["理由"]) == ["列に収まらない長さ"]
    assert list(table["位置"]) == ["users since=0 #7"]
