"""The safety loop's pages through the real entry point (AppTest): a reception desk checks a
household in, reads QR codes (this city's, another city's, not a user code), registers a
walk-in with a suggested match; headquarters assign a follow-up and see a conflict; the plans
page for the admin and for headquarters."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cityos.citizen_qr import encode
from sql import policy
from sql.engine import make_engine
from tests.conftest import sqlite_backup

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_url(tmp_path, demo_city) -> str:
    return sqlite_backup(demo_city(800), tmp_path / "demo.sqlite")


def query(url: str, statement: str, **values):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement), values).all()
    finally:
        engine.dispose()


def signed_in(app, url: str, role: str):
    policy.forget_recent_views()
    subject = query(url, "SELECT subject FROM staff WHERE role = :r LIMIT 1", r=role)[0][0]
    at = app(url)
    at.user = {"is_logged_in": True, "sub": subject, "roles": [role]}
    at.run()
    return at


def texts(at) -> str:
    parts = [e.value for e in [*at.success, *at.error, *at.warning, *at.info]]
    return "\n".join(str(p) for p in parts)


def a_family_to_check_in(url: str):
    """A household of three nobody has checked in yet, and its first member's kana."""
    rows = query(
        url,
        "SELECT household_id FROM citizens WHERE id NOT IN (SELECT citizen_id FROM "
        "evacuee_stays WHERE citizen_id IS NOT NULL) GROUP BY household_id "
        "HAVING COUNT(*) = 3 ORDER BY household_id LIMIT 1",
    )
    members = query(
        url, "SELECT id, kana FROM citizens WHERE household_id = :h ORDER BY id", h=rows[0][0]
    )
    return [m.id for m in members], members[0].kana


def test_a_reception_desk_checks_a_household_in(app, demo_url):
    at = signed_in(app, demo_url, "shelter_staff")
    at.switch_page("views/reception.py").run()
    assert not at.exception
    shelter = at.selectbox(key="rcp_shelter").value
    family, kana = a_family_to_check_in(demo_url)
    at.session_state["rcp_query"] = (kana, None)
    at.session_state["rcp_person"] = family[0]
    at.run()
    assert not at.exception
    editor = at.get("dataframe")
    assert editor, "the household is listed"
    # Tick the whole household: the editor's edits as the browser would send them.
    at.session_state[f"rcp_household_{family[0]}"] = {
        "edited_rows": {1: {"受付": True}, 2: {"受付": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key=f"rcp_check_in_{family[0]}").click().run()
    assert not at.exception
    assert "3 人を受付しました" in texts(at)
    stays = query(
        demo_url,
        "SELECT citizen_id, shelter_id, method FROM evacuee_stays WHERE citizen_id IN "
        f"({','.join(map(str, family))}) AND left_at IS NULL",
    )
    assert {s.citizen_id for s in stays} == set(family)
    assert {s.shelter_id for s in stays} == {shelter} and {s.method for s in stays} == {"household"}


def test_qr_codes_of_this_city_another_city_and_not_a_user_code(app, demo_url):
    at = signed_in(app, demo_url, "shelter_staff")
    at.switch_page("views/reception.py").run()
    at.text_input(key="rcp_qr_text").input("cityos-user:1:172022:someone").run()
    assert "別の自治体（七尾市、団体コード 172022）" in texts(at)
    at.text_input(key="rcp_qr_text").input("https://example.org/").run()
    assert "防災アプリの利用者コードではありません" in texts(at)
    subject = query(demo_url, "SELECT subject FROM citizens ORDER BY id LIMIT 1")[0][0]
    at.text_input(key="rcp_qr_text").input(encode("072028", subject)).run()
    assert "QRコードの方が見つかりました" in texts(at)
    assert at.session_state["rcp_qr_person"] == 1


def test_a_walk_in_is_offered_the_matching_registered_person(app, demo_url):
    at = signed_in(app, demo_url, "shelter_staff")
    at.switch_page("views/reception.py").run()
    family, kana = a_family_to_check_in(demo_url)
    name = query(demo_url, "SELECT name FROM citizens WHERE id = :i", i=family[0])[0][0]
    at.text_input[0].input(name)  # 氏名（代表者） in the walk-in form
    form = [t for t in at.text_input if t.label.startswith("氏名（代表者）")][0]
    form.input(name)
    [n for n in at.number_input if n.label.startswith("人数")][0].set_value(2)
    [b for b in at.button if b.label == "登録済みの方か確認する"][0].click().run()
    assert not at.exception
    assert "登録済みの方の可能性があります" in texts(at)
    [b for b in at.button if b.label.startswith("未登録として受付")][0].click().run()
    assert "未登録の来所者として 2 人を受付しました" in texts(at)
    walk_ins = query(demo_url, "SELECT name, household_size FROM walk_ins WHERE name = :n", n=name)
    assert walk_ins == [(name, 2)]


def test_headquarters_assign_a_follow_up_and_a_stale_version_is_a_conflict(app, demo_url):
    at = signed_in(app, demo_url, "hq")
    at.switch_page("views/unaccounted.py").run()
    assert not at.exception
    assert "安否未確認" in "\n".join(m.label for m in at.metric)
    person = query(
        demo_url,
        "SELECT citizen_id FROM support_register WHERE citizen_id NOT IN (SELECT citizen_id "
        "FROM status_reports) AND citizen_id NOT IN (SELECT citizen_id FROM safety_observations "
        "WHERE outcome != 'not_reached') ORDER BY citizen_id LIMIT 1",
    )[0][0]
    before = query(demo_url, "SELECT version FROM follow_ups WHERE citizen_id = :p", p=person)
    seen = before[0][0] if before else None
    at.session_state["ua_person"] = person
    at.session_state["ua_scope"] = "all"
    at.run()
    assert not at.exception
    at.text_input(key=f"fu_assignee_{person}").input("電話班Z")
    [b for b in at.button if b.label == "担当を割り当てる"][0].click().run()
    assert "電話班Z（電話）に割り当てました" in texts(at)
    # Another desk still started from the version before: its change is a conflict.
    at.session_state[f"fu_seen_{person}"] = seen
    at.run()
    at.text_input(key=f"fu_assignee_{person}").input("訪問班Y")
    [b for b in at.button if b.label == "担当を割り当てる"][0].click().run()
    assert "先に変更しました" in texts(at)
    rows = query(
        demo_url, "SELECT assignee, version FROM follow_ups WHERE citizen_id = :p", p=person
    )
    assert rows == [("電話班Z", (seen or 0) + 1)]


def test_roles_without_rows_see_only_figures_and_plans_for_admin(app, demo_url):
    at = signed_in(app, demo_url, "admin")
    at.switch_page("views/plans.py").run()
    assert not at.exception
    assert any(m.label == "計画作成済み" for m in at.metric)
    assert [t.label for t in at.tabs][-2:] == ["計画を編集", "CSVから取り込む"]
    at = signed_in(app, demo_url, "rescue")
    at.switch_page("views/plans.py").run()
    assert not at.exception
    assert "計画を編集" not in [t.label for t in at.tabs]
