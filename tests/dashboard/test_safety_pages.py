"""The safety loop's pages through the real entry point (AppTest): a reception desk checks a
household in, reads QR codes (this city's, another city's, not a user code), registers a
walk-in with a suggested match; headquarters assign a follow-up and see a conflict; the plans
page for the admin and for headquarters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
import sqlalchemy as sa

from cityos.citizen_qr import encode
from sql import policy
from sql.engine import make_engine
from sql.incident_clock import incident_clock
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


def write(url: str, statement: str, **values) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement), values)
    finally:
        engine.dispose()


def signed_in(app, url: str, role: str, **session):
    policy.forget_recent_views()
    subject = query(url, "SELECT subject FROM staff WHERE role = :r LIMIT 1", r=role)[0][0]
    at = app(url, **session)
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


def test_a_desk_is_told_of_a_move_and_of_someone_already_here(app, demo_url):
    """Bad input at the desk: a person checked in at another shelter is moved (and the desk
    told from where); checking them in again doubles nothing and says so."""
    from sql.actions.reception import check_in
    from sql.viewer import Viewer

    at = signed_in(app, demo_url, "shelter_staff")
    at.switch_page("views/reception.py").run()
    shelter = at.selectbox(key="rcp_shelter").value
    family, kana = a_family_to_check_in(demo_url)
    person = family[0]
    other, other_name = query(
        demo_url,
        "SELECT s.id, s.name FROM shelters s JOIN shelter_operations o ON o.shelter_id = s.id "
        "WHERE o.incident_id = 1 AND o.closed_at IS NULL AND s.id != :s ORDER BY s.id LIMIT 1",
        s=shelter,
    )[0]
    engine = make_engine(demo_url)
    try:
        desk = Viewer(role="shelter_staff", subject="desk-elsewhere", shelter_ids=(other,))
        check_in(engine, desk, 1, other, [person])
    finally:
        engine.dispose()
    at.session_state["rcp_query"] = (kana, None)
    at.session_state["rcp_person"] = person
    at.run()
    at.button(key=f"rcp_check_in_{person}").click().run()
    assert not at.exception
    assert f"1 人は「{other_name}」から移動として記録しました（前の受付は終了）。" in texts(at)
    at.session_state["rcp_query"] = (kana, None)  # found again, as by a second desk
    at.session_state["rcp_person"] = person
    at.run()
    at.button(key=f"rcp_check_in_{person}").click().run()
    assert "1 人はすでにこの避難所で受付済みです" in texts(at)
    assert "二重に受付していません" in texts(at)
    stays = query(
        demo_url,
        "SELECT shelter_id, left_at IS NULL FROM evacuee_stays WHERE citizen_id = :p ORDER BY id",
        p=person,
    )
    assert stays == [(other, 0), (shelter, 1)]  # moved once, never doubled


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


# ------------------------------------------------------------------ the list as a file


def download(at, media_files, key: str) -> tuple[str, list[dict]]:
    """What the browser's request for a deferred download runs (the server's download thread,
    outside the script): the file name and its rows."""
    button = next(b for b in at.download_button if b.key == key)
    url = media_files[-1].execute_deferred(button.proto.deferred_file_id)
    stored = media_files[-1]._storage.get_file(url.rsplit("/", 1)[1])
    rows = list(csv.DictReader(io.StringIO(stored.content.decode("utf-8-sig"), newline="")))
    return stored.filename or "", rows


def downloads_audited(url: str) -> list:
    return query(
        url,
        "SELECT actor, role, citizen_ids, details FROM audit_log "
        "WHERE target = 'policy.unaccounted_download' ORDER BY id",
    )


def test_the_list_downloads_for_the_follow_up_teams_audited_and_spreadsheet_safe(
    app, demo_url, media_files
):
    engine = make_engine(demo_url)
    try:
        now = incident_clock(engine, 1)
    finally:
        engine.dispose()
    at = signed_in(app, demo_url, "hq")
    at.session_state["ua_scope"] = "all"
    at.switch_page("views/unaccounted.py").run()
    assert not at.exception
    total = int(
        re.search(r"全 ([\d,]+) 人", " ".join(c.value for c in at.caption))
        .group(1)
        .replace(",", "")
    )
    assert downloads_audited(demo_url) == []  # nothing before the file is requested
    # A name typed by someone who meant harm, on a register person (named in an emergency).
    person = query(
        demo_url,
        "SELECT citizen_id FROM support_register WHERE citizen_id NOT IN (SELECT citizen_id "
        "FROM status_reports) AND citizen_id NOT IN (SELECT citizen_id FROM safety_observations "
        "WHERE citizen_id IS NOT NULL) ORDER BY citizen_id LIMIT 1",
    )[0][0]
    write(demo_url, "UPDATE citizens SET name = :n WHERE id = :i", n="=1+2", i=person)
    write(demo_url, "UPDATE citizens SET phone = :n WHERE id = :i", n="+81-90-0000-0000", i=person)
    name, rows = download(at, media_files, "ua_download")
    assert name == f"安否未確認者_{now + dt.timedelta(hours=9):%Y%m%d_%H%M}.csv"  # Japan time
    assert len(rows) == total
    assert list(rows[0])[:6] == ["優先", "番号", "氏名", "ふりがな", "電話", "住所"]
    assert {"地区", "状態", "最後の情報", "最終連絡", "経過（分）", "避難支援者"} <= set(rows[0])
    hostile = next(r for r in rows if r["番号"] == str(person))
    assert hostile["氏名"] == "'=1+2" and hostile["電話"] == "'+81-90-0000-0000"
    assert hostile["最終連絡"] == "連絡なし" and hostile["要支援者"] == "○"
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in r)
    stamped = [r["最終連絡"] for r in rows if r["最終連絡"] != "連絡なし"]
    assert stamped and all(re.fullmatch(r"令和\d+年\d+月\d+日 \d\d:\d\d", s) for s in stamped)
    assert any(r["氏名"] for r in rows)  # names: hq in an emergency
    audited = downloads_audited(demo_url)
    assert len(audited) == 1
    actor, role, ids, details = audited[0]
    ids = ids if isinstance(ids, list) else json.loads(ids)
    details = details if isinstance(details, dict) else json.loads(details)
    assert role == "hq" and sorted(ids) == sorted(int(r["番号"]) for r in rows)
    assert details["filters"]["scope"] == "all" and details["rows"] == total
    download(at, media_files, "ua_download")  # the same file again: a second provision
    assert len(downloads_audited(demo_url)) == 2
    # Normal mode: the same list, numbers without names or contacts.
    write(demo_url, "UPDATE incidents SET emergency_mode = 0 WHERE id = 1")
    at = signed_in(app, demo_url, "rescue")
    at.session_state["ua_scope"] = "all"
    at.switch_page("views/unaccounted.py").run()
    _, rows = download(at, media_files, "ua_download")
    assert len(rows) == total
    assert not any(r["氏名"] or r["電話"] or r["住所"] for r in rows)
    assert downloads_audited(demo_url)[-1][1] == "rescue"


def test_the_file_speaks_english_in_the_english_ui(app, demo_url, media_files):
    at = signed_in(app, demo_url, "hq", lang="en")
    at.switch_page("views/unaccounted.py").run()
    name, rows = download(at, media_files, "ua_download")
    assert name.startswith("unaccounted_") and name.endswith(".csv")
    assert list(rows[0])[:3] == ["Priority", "No.", "Name"]
    assert all(r["Last contact"] == "never" or r["Last contact"].endswith("JST") for r in rows)


# ------------------------------------------------------------------ deleting a plan


def test_an_admin_deletes_a_plan_after_a_dialog_stating_the_consequence(app, demo_url):
    person, version = query(
        demo_url, "SELECT citizen_id, version FROM evacuation_plans ORDER BY citizen_id LIMIT 1"
    )[0]
    at = signed_in(app, demo_url, "admin")
    at.switch_page("views/plans.py").run()
    at.selectbox(key="pe_person").set_value(person).run()
    assert not at.exception
    at.button(key="pe_delete").click().run()
    said = " ".join(str(t.value) for t in [*at.text, *at.caption])
    assert f"の個別避難計画（版 {version}）を削除します。" in said
    assert "避難支援者の確認と計画した避難先への到着が追跡されなくなり" in said
    at.button(key="pe_delete_no").click().run()  # cancel: nothing happens
    assert query(demo_url, "SELECT COUNT(*) FROM evacuation_plans WHERE citizen_id = :p", p=person)[
        0
    ] == (1,)
    assert not [t for t in at.text if "削除します" in str(t.value)]
    at.button(key="pe_delete").click().run()
    at.button(key="pe_delete_yes").click().run()
    assert not at.exception
    assert f"計画（版 {version}）を削除しました" in texts(at)
    assert query(demo_url, "SELECT COUNT(*) FROM evacuation_plans WHERE citizen_id = :p", p=person)[
        0
    ] == (0,)
    logged = query(
        demo_url,
        "SELECT incident_id, actor FROM incident_activity WHERE action = 'plan_deleted'",
    )
    audited = query(demo_url, "SELECT target FROM audit_log WHERE action = 'write:plan_deleted'")
    assert len(logged) == 1 and logged[0][0] == 1
    assert audited == [(f"evacuation_plan:{person}",)]
    assert at.session_state["pe_person"] == person
    assert not [b for b in at.button if b.key == "pe_delete"]  # no plan left to delete
