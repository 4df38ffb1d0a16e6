"""The gate holds on every run path (issue 13, finding 1): a fragment refresh, a callback, a
form submit and a download re-check the viewer — active account, role, token expiry, DEMO
guard — through ``dashboard.gate``; the source of ``dashboard/`` cannot bypass it.

The regression cases drive the real entry point with AppTest: a fragment-only run is what the
browser's ``run_every`` timer asks for (``refresh_fragments``), a click runs its callback
before any script, as in the browser."""

from __future__ import annotations

import ast
import datetime as dt
import json

import sqlalchemy as sa

from sql.engine import make_engine
from tests.conftest import ROOT, sql
from tests.dashboard.conftest import open_page, read, refresh_fragments

DASHBOARD = ROOT / "dashboard"


def signed_in(sub: str, role: str, **claims) -> dict:
    return {"is_logged_in": True, "sub": sub, "name": sub, "roles": [role], **claims}


def deactivate(url: str, subject: str) -> None:
    sql(url, "UPDATE staff SET active = FALSE WHERE subject = :s", s=subject)


def audit_since(url: str, after: int) -> list[tuple]:
    return [
        (actor, action, json.loads(details) if details else None)
        for actor, action, details in sql(
            url, "SELECT actor, action, details FROM audit_log WHERE id > :i ORDER BY id", i=after
        )
    ]


def last_audit_id(url: str) -> int:
    return sql(url, "SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0]


def errors(at) -> str:
    return "\n".join(read(e.value) for e in at.error)


# ------------------------------------------------------------------ fragments


def add_register_person(url: str) -> int:
    """A citizen newly put on the register (consented): the next refresh would list them."""
    citizen = sql(
        url,
        "SELECT id FROM citizens WHERE id NOT IN (SELECT citizen_id FROM support_register) "
        "ORDER BY id LIMIT 1",
    )[0][0]
    sql(
        url,
        "INSERT INTO support_register (citizen_id, needs, normal_time_consent, is_synthetic, "
        "updated_at) VALUES (:c, '車いす', TRUE, TRUE, CURRENT_TIMESTAMP)",
        c=citizen,
    )
    return citizen


def test_a_deactivated_member_gets_no_new_register_rows_from_the_next_refresh(app, demo_copy):
    at = open_page(app, demo_copy, "register", user=signed_in("demo-hq", "hq"))
    rows_before = len(at.dataframe[0].value)
    refresh_fragments(at)  # a refresh while active: the rows come again
    assert len(at.dataframe[0].value) == rows_before
    deactivate(demo_copy, "demo-hq")
    added = add_register_person(demo_copy)
    mark = last_audit_id(demo_copy)
    refresh_fragments(at)
    assert not at.dataframe and not at.metric, "nothing of the register after deactivation"
    assert "無効になっています" in errors(at)
    assert at.user == {"is_logged_in": False}, "signed out (st.logout)"
    audited = audit_since(demo_copy, mark)
    assert [(a, act) for a, act, _ in audited] == [("demo-hq", "auth:refused")]
    assert audited[0][2] == {"reason": "auth.inactive", "path": "fragment"}
    assert not any(
        added in (json.loads(ids) or [])
        for (ids,) in sql(
            demo_copy,
            "SELECT citizen_ids FROM audit_log WHERE citizen_ids IS NOT NULL AND id > :i",
            i=mark,
        )
    )
    # The session stays ended: the next refresh refuses again without another audit row.
    refresh_fragments(at)
    assert not at.dataframe and "無効になっています" in errors(at)
    assert len(audit_since(demo_copy, mark)) == 1


def test_a_role_taken_away_ends_the_session_on_the_next_refresh(app, demo_copy):
    at = open_page(app, demo_copy, "rescue_queue", user=signed_in("demo-rescue", "rescue"))
    assert len(at.dataframe[0].value) > 0
    sql(demo_copy, "UPDATE staff SET role = 'council' WHERE subject = 'demo-rescue'")
    refresh_fragments(at)
    assert not at.dataframe
    assert "役割が変わった" in errors(at) and "消防・救助 → 議会・市長室" in errors(at)


def test_an_expired_token_gets_nothing_from_the_next_refresh(app, demo_copy):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    claims = signed_in("demo-hq", "hq", exp=int(soon.timestamp()))
    at = open_page(app, demo_copy, "hq_map", user=claims)
    assert at.get("deck_gl_json_chart")
    # The shift ends: the same sign-in, its exp now in the past.
    at.user = {
        **claims,
        "exp": int((dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).timestamp()),
    }
    refresh_fragments(at)
    assert not at.get("deck_gl_json_chart") and not at.metric
    assert any("有効期限が切れた" in read(w.value) for w in at.warning)
    assert at.user == {"is_logged_in": False}


# ------------------------------------------------------------------ callbacks and forms


def first_new_request(url: str) -> int:
    return sql(
        url,
        "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' "
        "ORDER BY id LIMIT 1",
    )[0][0]


def test_a_deactivated_members_save_assigns_no_rescue_team(app, demo_copy):
    rid = first_new_request(demo_copy)
    at = open_page(app, demo_copy, "rescue_queue", user=signed_in("demo-rescue", "rescue"))
    at.selectbox(key="queue_pick").set_value(rid).run()
    at.selectbox(key=f"rescue_to_{rid}").set_value("assigned")
    at.selectbox(key=f"rescue_team_{rid}").set_value("消防3隊")
    deactivate(demo_copy, "demo-rescue")  # while the panel is open
    mark = last_audit_id(demo_copy)
    next(b for b in at.button if b.label == "保存する").click().run()
    assert sql(demo_copy, "SELECT status, assigned_team FROM rescue_requests WHERE id = :i", i=rid)[
        0
    ] == ("new", None)
    assert (
        sql(demo_copy, "SELECT COUNT(*) FROM rescue_request_events WHERE actor = 'demo-rescue'")[0][
            0
        ]
        == 0
    )
    assert "無効になっています" in errors(at)
    actions = [(a, act, d["path"]) for a, act, d in audit_since(demo_copy, mark)]
    assert actions == [("demo-rescue", "auth:refused", "callback")]


def test_a_click_after_the_token_expired_does_not_close_a_shelter(app, demo_copy):
    sid = sql(
        demo_copy,
        "SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 AND closed_at IS NULL "
        "ORDER BY shelter_id LIMIT 1",
    )[0][0]
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    claims = signed_in("demo-hq", "hq", exp=int(soon.timestamp()))
    at = open_page(app, demo_copy, "shelters", user=claims)
    at.selectbox(key="shelters_pick").set_value(sid).run()
    at.user = {
        **claims,
        "exp": int((dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).timestamp()),
    }
    at.button(key=f"shelter_close_{sid}").click().run()
    assert (
        sql(
            demo_copy,
            "SELECT COUNT(*) FROM shelter_operations WHERE shelter_id = :s AND closed_at IS NOT NULL",
            s=sid,
        )[0][0]
        == 0
    ), "the shelter is still open"
    assert any("有効期限が切れた" in read(w.value) for w in at.warning)
    assert at.user == {"is_logged_in": False}


def test_an_active_member_still_acts(app, demo_copy):
    """The gate lets the current account through (the same clicks as above, not deactivated)."""
    rid = first_new_request(demo_copy)
    at = open_page(app, demo_copy, "rescue_queue", user=signed_in("demo-rescue", "rescue"))
    at.selectbox(key="queue_pick").set_value(rid).run()
    at.selectbox(key=f"rescue_to_{rid}").set_value("assigned")
    at.selectbox(key=f"rescue_team_{rid}").set_value("消防3隊")
    next(b for b in at.button if b.label == "保存する").click().run()
    assert sql(demo_copy, "SELECT assigned_team FROM rescue_requests WHERE id = :i", i=rid)[0][
        0
    ] == ("消防3隊")
    refresh_fragments(at)
    assert at.dataframe and not at.error


def test_a_shelter_reassignment_rebuilds_the_page_instead_of_acting_on_the_old_one(app, demo_copy):
    staff = sql(demo_copy, "SELECT shelter_ids FROM staff WHERE subject = 'demo-shelter'")[0][0]
    shelters = json.loads(staff)
    at = open_page(app, demo_copy, "shelters", user=signed_in("demo-shelter", "shelter_staff"))
    sql(
        demo_copy,
        "UPDATE staff SET shelter_ids = :s WHERE subject = 'demo-shelter'",
        s=json.dumps(shelters[:1]),
    )
    refresh_fragments(at)  # the fragment reruns the whole app for the account as it is now
    assert not at.exception and not at.error
    assert at.session_state["_bosai_page_context"].viewer.shelter_ids == tuple(shelters[:1])


# ------------------------------------------------------------------ downloads


def test_a_download_after_deactivation_produces_no_file(app, demo_copy, media_files):
    at = open_page(app, demo_copy, "register", user=signed_in("demo-hq", "hq"))
    button = at.download_button[0]
    deactivate(demo_copy, "demo-hq")
    mark = last_audit_id(demo_copy)
    try:
        media_files[-1].execute_deferred(button.proto.deferred_file_id)
    except Exception as exc:  # Streamlit answers the browser "Failed to generate file"
        assert "auth.inactive" in str(exc.__cause__ or exc)
    else:
        raise AssertionError("the file was produced")
    audited = audit_since(demo_copy, mark)
    assert [(a, act, d["path"]) for a, act, d in audited] == [
        ("demo-hq", "auth:refused", "download")
    ]
    # The session ends at its next run (here the next refresh), without a second audit row.
    refresh_fragments(at)
    assert not at.dataframe and "無効になっています" in errors(at)
    assert len(audit_since(demo_copy, mark)) == 1


# ------------------------------------------------------------------ DEMO guard


def test_demo_mode_ends_when_the_database_stops_being_a_demo(app, demo_copy):
    at = app(demo_copy, demo_role="hq")
    at.run()
    at.switch_page("views/register.py").run()
    assert at.dataframe
    sql(demo_copy, "DELETE FROM meta WHERE key = 'demo'")
    refresh_fragments(at)
    assert not at.dataframe
    assert "bosai demo" in errors(at)


# ------------------------------------------------------------------ the source cannot bypass it


def calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return dotted(node.func) + "()"
    return type(node).__name__


#: Keyword arguments that name code Streamlit runs outside the page script.
CALLBACK_KEYWORDS = ("on_click", "on_change", "on_select", "on_submit", "on_dismiss")
#: Streamlit names that create another run path; only dashboard/gate.py may use them.
RUN_PATHS = ("fragment", "experimental_fragment", "dialog", "experimental_dialog")


def bypasses(path) -> list[str]:
    """Every place in a file where a run path could skip the gate."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in RUN_PATHS:
            if dotted(node.value) in ("st", "streamlit"):
                found.append(f"{path.name}:{node.lineno}: st.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "streamlit":
            names = {a.name for a in node.names} & set(RUN_PATHS)
            found += [f"{path.name}:{node.lineno}: from streamlit import {n}" for n in names]
    for call in calls(tree):
        name = dotted(call.func)
        if name.endswith("download_button") and name != "gate.download_button":
            found.append(f"{path.name}:{call.lineno}: {name}(…) is not gate.download_button")
        for keyword in call.keywords:
            if keyword.arg not in CALLBACK_KEYWORDS:
                continue
            value = keyword.value
            if isinstance(value, ast.Constant) and (
                value.value is None or isinstance(value.value, str)
            ):
                continue  # "rerun", "ignore": no code of ours runs
            if isinstance(value, ast.Call) and dotted(value.func) == "gate.callback":
                continue
            found.append(f"{path.name}:{call.lineno}: {keyword.arg}= not wrapped by gate.callback")
    return found


def test_no_run_path_in_dashboard_bypasses_the_gate():
    offenders = []
    for path in sorted(DASHBOARD.rglob("*.py")):
        if path.name == "gate.py":
            continue
        offenders += bypasses(path)
    assert offenders == []


def test_the_source_scan_finds_each_kind_of_bypass(tmp_path):
    """The scan itself can fail: each way around the gate in a sample page is reported."""
    sample = tmp_path / "page.py"
    sample.write_text(
        "import streamlit as st\n"
        "from streamlit import fragment\n"
        "@st.fragment(run_every=10)\n"
        "def live(): pass\n"
        "@st.dialog('x')\n"
        "def ask(): pass\n"
        "st.button('a', on_click=lambda: None)\n"
        "st.text_input('b', on_change=save)\n"
        "st.download_button('c', b'data')\n"
        "col.download_button('d', b'data')\n"
        "st.button('ok', on_click=gate.callback(save))\n"
        "gate.download_button('e', b'data', on_click='ignore')\n"
        "st.dataframe(frame, on_select='rerun')\n",
        encoding="utf-8",
    )
    found = bypasses(sample)
    assert len(found) == 7, found


def test_verify_is_one_indexed_lookup(demo_copy):
    """The re-check reads one staff row by primary key (or the meta row for DEMO)."""
    from dashboard import gate
    from sql.viewer import Viewer

    engine = make_engine(demo_copy)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    member = sql(demo_copy, "SELECT id FROM staff WHERE subject = 'demo-hq'")[0][0]
    viewer = Viewer(role="hq", subject="demo-hq", staff_id=member)
    gate.verify(engine, viewer, signed_in("demo-hq", "hq"), auth=True)
    gate.verify(engine, Viewer(role="hq", subject="demo-hq", demo=True), {}, auth=False)
    engine.dispose()
    statements = [s for s in statements if s != "BEGIN"]
    assert len(statements) == 2
    assert "WHERE staff.id = ?" in statements[0] and 'meta."key" = ?' in statements[1]
