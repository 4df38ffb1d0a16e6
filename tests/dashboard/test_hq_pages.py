"""The headquarters pages through the real entry point (AppTest) on a real demo database:
values against independent SQL, actions that change the database, conflicts, roles."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from analytics.replay_steps import replay_moments
from sql.engine import make_engine
from sql.queries.incidents import incident_timeline
from tests.dashboard.conftest import read


def scalar(url: str, sql: str, **params):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def page(app, url: str, name: str, **session):
    at = app(url, **session)
    at.run()
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


OPEN = "('new','triaged','assigned','en_route')"


# ------------------------------------------------------------------ HQ map


def test_hq_map_kpis_and_deck_match_the_database(app, demo_sqlite):
    at = page(app, demo_sqlite, "hq_map")
    shown = metrics(at)
    assert shown["オプトイン市民"] == f"{scalar(demo_sqlite, 'SELECT COUNT(*) FROM citizens'):,}"
    rescue = scalar(
        demo_sqlite,
        "SELECT COUNT(*) FROM citizen_latest_status WHERE incident_key = 1 AND state = 'needs_rescue'",
    )
    assert shown["要救助"] == f"{rescue:,}"
    open_requests = scalar(
        demo_sqlite,
        f"SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND status IN {OPEN}",
    )
    assert shown["未完了の救助要請"] == f"{open_requests:,}"
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"status-cells", "shelters", "rescue-requests", "register", "hazard-zones"} <= set(
        layers
    )
    assert len(layers["rescue-requests"]["data"]) == open_requests
    with_home = scalar(demo_sqlite, "SELECT COUNT(*) FROM citizens WHERE home_lat IS NOT NULL")
    counted = sum(
        int(cell["t"].split("人中")[0].replace(",", "")) for cell in layers["status-cells"]["data"]
    )
    assert counted == with_home
    data_layers = [
        layer["id"] for layer in spec["layers"] if not layer["id"].startswith("local-base")
    ]
    assert data_layers[0] == "hazard-zones"  # zones under the data (the city's base map below)
    assert "<" not in json.dumps([r["t"] for r in layers["shelters"]["data"]])


def test_selecting_a_rescue_request_opens_its_panel_and_assigning_persists(app, demo_copy):
    rid = scalar(
        demo_copy,
        "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' ORDER BY id LIMIT 1",
    )
    at = page(app, demo_copy, "hq_map")
    at.selectbox(key="hq_pick").set_value(("rescue", rid)).run()
    assert any(f"救助要請 #{rid}" in h.value for h in at.subheader)
    at.selectbox(key=f"rescue_to_{rid}").set_value("assigned")
    at.selectbox(key=f"rescue_team_{rid}").set_value("消防3隊")
    at.text_input(key=f"rescue_reason_{rid}").input("現地へ")
    submit = next(b for b in at.button if b.label == "保存する")
    submit.click().run()
    assert not at.exception
    assert any("隊割当済" in s.value for s in at.success)
    status, team = (
        scalar(demo_copy, "SELECT status FROM rescue_requests WHERE id = :i", i=rid),
        scalar(demo_copy, "SELECT assigned_team FROM rescue_requests WHERE id = :i", i=rid),
    )
    assert (status, team) == ("assigned", "消防3隊")
    assert (
        scalar(
            demo_copy,
            "SELECT COUNT(*) FROM incident_activity WHERE action = 'rescue_assigned' AND target_id = :i "
            "AND actor = 'demo-hq'",
            i=str(rid),
        )
        == 1
    )


def test_a_change_made_meanwhile_by_someone_else_is_reported_not_overwritten(app, demo_copy):
    rid = scalar(
        demo_copy,
        "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' ORDER BY id LIMIT 1",
    )
    at = page(app, demo_copy, "rescue_queue")
    at.selectbox(key="queue_pick").set_value(rid).run()
    # Another staff member assigns the request while this panel is open.
    from sql.actions.rescue import change_rescue_request
    from sql.viewer import Viewer

    engine = make_engine(demo_copy)
    change_rescue_request(
        engine, Viewer(role="rescue", subject="other-staff"), rid, 1, "assigned", team="第1救助隊"
    )
    engine.dispose()
    at.selectbox(key=f"rescue_to_{rid}").set_value("assigned")
    at.selectbox(key=f"rescue_team_{rid}").set_value("消防9隊")
    next(b for b in at.button if b.label == "保存する").click().run()
    errors = " ".join(read(e.value) for e in at.error)
    assert "競合" in errors and "other-staff" in errors
    assert (
        scalar(demo_copy, "SELECT assigned_team FROM rescue_requests WHERE id = :i", i=rid)
        == "第1救助隊"
    )


# ------------------------------------------------------------------ rescue queue


def test_rescue_queue_lists_open_requests_by_score(app, demo_sqlite):
    at = page(app, demo_sqlite, "rescue_queue")
    table = at.dataframe[0].value
    expected = scalar(
        demo_sqlite,
        f"SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND status IN {OPEN}",
    )
    assert len(table) == expected
    scores = table["スコア"].tolist()
    assert scores == sorted(scores, reverse=True)
    assert any("スコア = 30" in c.value for c in at.caption)  # the formula is shown


def test_researchers_do_not_get_the_rescue_queue_page(app, demo_sqlite):
    at = app(demo_sqlite)
    at.user = {"is_logged_in": True, "sub": "demo-researcher", "name": "R", "roles": ["researcher"]}
    at.run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/rescue_queue.py")


# ------------------------------------------------------------------ shelters


#: An open shelter nobody was checked in at: it keeps manual head counts.
MANUAL_SHELTER = (
    "SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 AND closed_at IS NULL "
    "AND shelter_id NOT IN (SELECT shelter_id FROM evacuee_stays WHERE shelter_id IS NOT NULL) "
    "ORDER BY shelter_id LIMIT 1"
)


def test_shelter_board_and_head_count_entry(app, demo_copy):
    at = page(app, demo_copy, "shelters")
    open_count = scalar(
        demo_copy,
        "SELECT COUNT(DISTINCT shelter_id) FROM shelter_operations WHERE incident_id = 1 AND closed_at IS NULL",
    )
    assert metrics(at)["開設避難所"].startswith(f"{open_count:,} /")
    assert len(at.dataframe[0].value) == open_count
    sid = scalar(demo_copy, MANUAL_SHELTER)
    at.selectbox(key="shelters_pick").set_value(sid).run()
    at.number_input(key=f"shelter_count_{sid}").set_value(77)
    next(b for b in at.button if b.label == "避難者数を記録").click().run()
    assert not at.exception
    assert (
        scalar(
            demo_copy,
            "SELECT head_count FROM shelter_occupancy WHERE shelter_id = :s AND source = 'staff' "
            "ORDER BY id DESC LIMIT 1",
            s=sid,
        )
        == 77
    )
    name = scalar(demo_copy, "SELECT name FROM shelters WHERE id = :s", s=sid)
    closed = (
        "SELECT COUNT(*) FROM shelter_operations WHERE shelter_id = :s AND closed_at IS NOT NULL"
    )
    # An occupied shelter: the click asks first, stating whom it concerns.
    at.button(key=f"shelter_close_{sid}").click().run()
    assert scalar(demo_copy, closed, s=sid) == 0
    said = " ".join(str(t.value) for t in at.text)
    # (the count is the board's: reception's check-ins where the shelter uses reception)
    assert re.search(rf"{re.escape(name)} を閉鎖します。現在 [\d,]+ 人が避難しています。", said)
    at.button(key=f"confirm_yes_shelter:{sid}").click().run()
    assert not at.exception
    assert scalar(demo_copy, closed, s=sid) == 1
    # The panel stays on the shelter closed, though it left the "open only" list, and the
    # outcome shows under its name.
    assert at.session_state["shelters_pick"] == sid
    assert read(at.subheader[-1].value) == name
    assert [read(s.value) for s in at.success] == [f"{name} を閉鎖しました。"]
    assert not any(t.value for t in at.text if "閉鎖します" in str(t.value))  # dialog gone


# ------------------------------------------------------------------ incidents and mode


def test_ending_the_incident_and_declaring_a_drill_switch_the_banner(app, demo_copy):
    at = page(app, demo_copy, "incidents")
    assert any("有事モード" in w.value for w in at.warning)
    open_requests = scalar(
        demo_copy,
        f"SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND status IN {OPEN}",
    )
    open_shelters = scalar(
        demo_copy,
        "SELECT COUNT(DISTINCT shelter_id) FROM shelter_operations WHERE incident_id = 1 "
        "AND closed_at IS NULL",
    )
    # Ending asks first, with what it leaves open.
    at.button(key="end_1").click().run()
    assert scalar(demo_copy, "SELECT ended_at IS NULL FROM incidents WHERE id = 1") == 1
    warned = " ".join(w.value for w in at.warning)
    assert (
        f"未完了の救助要請が {open_requests:,} 件、開設中の避難所が {open_shelters:,} か所あります"
        in warned
    )
    at.text_input(key="end_reason_1").input("収束")
    at.button(key="confirm_yes_incident:1").click().run()
    assert scalar(demo_copy, "SELECT ended_at IS NOT NULL FROM incidents WHERE id = 1") == 1
    assert any("事案を終了しました" in s.value for s in at.success)
    at.radio(key="new_kind").set_value("drill")
    at.text_input(key="new_name_ja").input("総合防災訓練")
    next(b for b in at.button if b.label == "発令する").click().run()
    assert (
        scalar(
            demo_copy, "SELECT COUNT(*) FROM incidents WHERE kind = 'drill' AND ended_at IS NULL"
        )
        == 1
    )
    at.run()
    assert any("訓練中" in i.value for i in at.info)


# ------------------------------------------------------------------ notifications


def test_notification_preview_counts_respect_consent(app, demo_sqlite):
    at = page(app, demo_sqlite, "notifications")
    assert metrics(at)["送信対象"] == f"{scalar(demo_sqlite, 'SELECT COUNT(*) FROM citizens'):,}"
    at.radio(key="notify_kind").set_value("register").run()
    register = scalar(demo_sqlite, "SELECT COUNT(*) FROM support_register")
    assert metrics(at)["送信対象"] == f"{register:,}"  # emergency: the whole register


def test_sending_without_a_reachable_city_os_says_so_and_records_the_failure(
    app, demo_copy, monkeypatch
):
    # The example connector configuration, pointed at a port where nothing listens.
    monkeypatch.delenv("BOSAI_CITYOS_CONFIG", raising=False)
    monkeypatch.setenv("BOSAI_CITYOS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BOSAI_CITYOS_ISSUER", "http://127.0.0.1:9")
    monkeypatch.setenv("BOSAI_CITYOS_CLIENT_SECRET", "test-only")
    before = scalar(demo_copy, "SELECT COUNT(*) FROM notification_requests")
    at = page(app, demo_copy, "notifications")
    at.radio(key="notify_kind").set_value("register").run()
    at.text_input(key="notify_title").input("避難してください")
    at.text_area(key="notify_body").input("浸水のおそれがあります。")
    at.checkbox(key="notify_confirm").check().run()
    at.button(key="notify_send").click().run()
    assert not at.exception
    register = scalar(demo_copy, "SELECT COUNT(*) FROM support_register")
    assert register > 100  # more than 100 people: asked in a dialog first, with the number
    said = " ".join(str(t.value) for t in at.text)
    assert f"「避難してください」を 要支援者名簿 の {register:,} 人に送信します。" in said
    assert scalar(demo_copy, "SELECT COUNT(*) FROM notification_requests") == before
    at.button(key="confirm_yes_notify").click().run()
    assert any("送信できませんでした" in e.value for e in at.error)
    assert (
        scalar(demo_copy, "SELECT COUNT(*) FROM notification_requests WHERE status = 'failed'") == 1
    )


def test_sending_without_a_city_os_secret_explains_in_japanese(app, demo_copy, monkeypatch):
    monkeypatch.delenv("BOSAI_CITYOS_CONFIG", raising=False)
    monkeypatch.delenv("BOSAI_CITYOS_CLIENT_SECRET", raising=False)
    before = scalar(demo_copy, "SELECT COUNT(*) FROM notification_requests")
    at = page(app, demo_copy, "notifications")
    at.radio(key="notify_kind").set_value("register").run()
    at.text_input(key="notify_title").input("避難してください")
    at.text_area(key="notify_body").input("浸水のおそれがあります。")
    at.checkbox(key="notify_confirm").check().run()
    at.button(key="notify_send").click().run()
    at.button(key="confirm_yes_notify").click().run()
    shown = " ".join(e.value for e in at.error)
    assert "都市OSへの接続設定（認証用の秘密鍵）がこのサーバーにないため" in shown
    assert not re.search(r"[A-Za-z]{4,}", shown), shown  # no developer English
    assert scalar(demo_copy, "SELECT COUNT(*) FROM notification_requests") == before


# ------------------------------------------------------------------ replay


def test_replay_redraws_the_kpis_at_an_earlier_moment(app, demo_sqlite):
    at = page(app, demo_sqlite, "replay")
    late = metrics(at)["避難所にいる"]
    engine = make_engine(demo_sqlite)
    timeline = incident_timeline(engine, 1)
    engine.dispose()
    moments = replay_moments(timeline["start"], timeline["end"], timeline["observations"])
    at.select_slider(key="replay_moment_1").set_value(moments[6]).run()  # the 7th moment
    early = metrics(at)["避難所にいる"]
    assert int(early.replace(",", "")) < int(late.replace(",", ""))
    assert at.get("deck_gl_json_chart")


def test_english_labels_on_the_hq_map(app, demo_sqlite):
    at = page(app, demo_sqlite, "hq_map", lang="en")
    assert at.title[0].value == "HQ map"
    assert "Opted-in citizens" in metrics(at)


# ------------------------------------------------------------------ issue 14: the night shift


def test_resolving_asks_first_and_the_panel_stays_on_the_request(app, demo_copy):
    """Items 1 and 2: the resolved request leaves the open list, the panel stays on it with the
    outcome under it; resolving asks in a dialog naming the request."""
    rid = scalar(
        demo_copy,
        "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' ORDER BY id LIMIT 1",
    )
    # On its way: the next move may resolve it.
    from sql.actions.rescue import change_rescue_request
    from sql.viewer import Viewer

    engine = make_engine(demo_copy)
    change_rescue_request(
        engine, Viewer(role="rescue", subject="s"), rid, 1, "assigned", team="消防1隊"
    )
    change_rescue_request(engine, Viewer(role="rescue", subject="s"), rid, 2, "en_route")
    engine.dispose()
    at = page(app, demo_copy, "rescue_queue")
    at.selectbox(key="queue_pick").set_value(rid).run()
    at.selectbox(key=f"rescue_to_{rid}").set_value("resolved")
    next(b for b in at.button if b.label == "保存する").click().run()
    assert (
        scalar(demo_copy, "SELECT status FROM rescue_requests WHERE id = :i", i=rid) == "en_route"
    )
    said = " ".join(str(t.value) for t in at.text)
    assert f"救助要請 #{rid}（" in said and "を「救助完了」にします。" in said
    at.button(key=f"confirm_yes_rescue:{rid}").click().run()
    assert not at.exception
    assert (
        scalar(demo_copy, "SELECT status FROM rescue_requests WHERE id = :i", i=rid) == "resolved"
    )
    assert at.session_state["queue_pick"] == rid
    assert any(f"救助要請 #{rid}" in h.value for h in at.subheader)
    assert [s.value for s in at.success] == [f"救助要請 #{rid} を「救助完了」にしました。"]
    assert rid not in at.session_state["queue_table_ids"]  # it left the list, not the panel


def test_rescue_queue_shows_what_a_rescuer_needs(app, demo_sqlite):
    """Item 9: the columns, depths with units, teams in natural order with their load, the
    picker naming a request by score, district, people and waiting time."""
    at = page(app, demo_sqlite, "rescue_queue")
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "スコア", "待ち時間", "地区", "住所", "人数", "担当隊", "要請時刻", "状態",
    ]  # fmt: skip
    addresses = table["住所"].tolist()
    assert all(a and a != "—" for a in addresses)  # HQ in an emergency sees where to go
    assert not any(a.startswith("福島県") for a in addresses)  # the city's own prefix dropped
    assert all(re.fullmatch(r"\d\d:\d\d", v) for v in table["要請時刻"])
    picker = at.selectbox(key="queue_pick")
    assert re.fullmatch(r"#\d+｜スコア [\d.]+｜.+｜\d+ 人｜待ち \d+ 分", picker.options[0])
    rid = at.session_state["queue_table_ids"][0]
    picker.set_value(rid).run()
    teams = at.selectbox(key=f"rescue_team_{rid}").options
    named = [t for t in teams if t != "（未割当）"]
    numbers = [int(re.search(r"(\d+)隊", t).group(1)) for t in named if re.search(r"\d+隊", t)]
    assert numbers == sorted(numbers) and len(numbers) >= 2
    assert all(re.search(r"（対応中 \d+ 件）$", t) for t in named)
    facts = dict(at.dataframe[1].value.values.tolist())
    assert facts["住所"].startswith("福島県会津若松市")
    assert re.fullmatch(r"\d+\.\d m|—", facts["想定浸水深"])  # a depth with its unit
    assert re.fullmatch(r"[\d.]+", facts["スコア"])


def test_shelters_are_listed_by_attention_and_an_over_capacity_count_warns(app, demo_copy):
    """Item 10: over capacity first, then congestion, then unsuitable; 収容率 to one decimal;
    the count box starts at the current count; a count above capacity warns; 満員 = ≥100 %."""
    at = page(app, demo_copy, "shelters")
    table = at.dataframe[0].value
    share = table["収容率"].tolist()
    over = [s > 100 for s in share]
    assert over == sorted(over, reverse=True)  # every over-capacity shelter comes first
    assert all(round(s, 1) == s for s in share if s == s)
    full = sum(1 for s in share if s >= 100)
    assert metrics(at)["満員の避難所"] == f"{full:,}"
    # A shelter keeping manual counts (not reception's check-ins), with a capacity.
    sid, capacity = next(
        iter(
            sql_rows(
                demo_copy,
                "SELECT s.id, s.capacity FROM shelters s JOIN shelter_operations o "
                "ON o.shelter_id = s.id AND o.incident_id = 1 AND o.closed_at IS NULL "
                "WHERE s.capacity > 0 AND s.id NOT IN "
                "(SELECT shelter_id FROM evacuee_stays WHERE shelter_id IS NOT NULL) "
                "ORDER BY s.id LIMIT 1",
            )
        )
    )
    at.selectbox(key="shelters_pick").set_value(sid).run()
    box = at.number_input(key=f"shelter_count_{sid}")
    current = at.session_state[f"shelter_count_{sid}"]
    assert box.value == current
    name = scalar(demo_copy, "SELECT name FROM shelters WHERE id = :s", s=sid)
    box.set_value(capacity + 5)
    next(b for b in at.button if b.label == "避難者数を記録").click().run()
    warned = [read(w.value) for w in at.warning]
    assert any(
        w.startswith(
            f"{name} の避難者数 {capacity + 5:,} 人を記録しました。収容人数 {capacity:,} 人を 5 人超えています"
        )
        for w in warned
    ), warned
    assert any("（5 人超過）" in w for w in warned)  # and the panel says so while it lasts
    assert at.number_input(key=f"shelter_count_{sid}").value == capacity + 5


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_reception_shelter_shows_its_check_ins_instead_of_a_count_form(app, demo_copy, lang):
    """A shelter using reception counts its check-ins: the manual count (recorded, never used)
    is not offered there, the check-in count is shown with where it comes from; a shelter
    without reception keeps the form."""
    sid = scalar(
        demo_copy,
        "SELECT shelter_id FROM evacuee_stays WHERE incident_key = 1 AND place_kind = 'shelter' "
        "AND shelter_id IN (SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 "
        "AND closed_at IS NULL) GROUP BY shelter_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    staying = scalar(
        demo_copy,
        "SELECT SUM(CASE WHEN s.walk_in_id IS NULL THEN 1 ELSE w.household_size END) "
        "FROM evacuee_stays s LEFT JOIN walk_ins w ON w.id = s.walk_in_id "
        "WHERE s.incident_key = 1 AND s.shelter_id = :s AND s.left_at IS NULL",
        s=sid,
    )
    at = page(app, demo_copy, "shelters", lang=lang)
    at.selectbox(key="shelters_pick").set_value(sid).run()
    assert not at.exception
    label = "受付済みの避難者数" if lang == "ja" else "Checked in at reception"
    assert metrics(at)[label] == f"{staying:,}"
    said = " ".join(str(c.value) for c in at.caption)
    assert (
        "受付（チェックイン・チェックアウト）の記録から数えます" in said
        if lang == "ja"
        else "its head count comes from the check-ins and check-outs recorded there" in said
    )
    assert not [n for n in at.number_input if n.key == f"shelter_count_{sid}"]
    save = "避難者数を記録" if lang == "ja" else "Record head count"
    assert not [b for b in at.button if b.label == save]
    manual = scalar(demo_copy, MANUAL_SHELTER)
    at.selectbox(key="shelters_pick").set_value(manual).run()
    assert at.number_input(key=f"shelter_count_{manual}")
    assert [b for b in at.button if b.label == save]
    assert label not in metrics(at)


def sql_rows(url: str, statement: str, **params):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement), params).all()
    finally:
        engine.dispose()


def test_after_a_drill_ends_the_pages_show_the_state_now(app, demo_copy):
    """Item 5: end the demo incident, declare a drill, end it — the HQ map, shelters and the
    rescue queue show normal time: no drill, no warnings in force, no fixed demo time."""
    at = page(app, demo_copy, "incidents")
    at.button(key="end_1").click().run()
    at.button(key="confirm_yes_incident:1").click().run()
    at.radio(key="new_kind").set_value("drill")
    at.text_input(key="new_name_ja").input("総合防災訓練")
    next(b for b in at.button if b.label == "発令する").click().run()
    drill = scalar(demo_copy, "SELECT id FROM incidents WHERE kind = 'drill'")
    at.run()
    assert any("訓練中" in i.value for i in at.info)
    at.button(key=f"end_{drill}").click().run()
    said = " ".join(str(t.value) for t in at.text)
    assert "総合防災訓練（訓練）を終了します。" in said
    at.button(key=f"confirm_yes_incident:{drill}").click().run()
    assert scalar(demo_copy, "SELECT COUNT(*) FROM incidents WHERE ended_at IS NULL") == 0
    at.switch_page("views/hq_map.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "事案はありません（平時）" in captions
    assert "総合防災訓練" not in captions and "デモ事案の時刻" not in captions
    assert not any("発表中" in w.value for w in at.warning)
    assert not any(
        "訓練中" in i.value or "有事モード" in w.value for i in at.info for w in at.warning
    )
    at.switch_page("views/shelters.py").run()
    assert not at.exception
    assert not any("発表中の警報等の対象" in w.value for w in at.warning)
    assert metrics(at)["開設避難所"].startswith("0 /")
    assert any("この条件の避難所はありません" in i.value for i in at.info)  # words, not "empty"
    at.switch_page("views/rescue_queue.py").run()
    assert not at.exception
    assert any("この条件の救助要請はありません。" in i.value for i in at.info)


def test_the_activity_log_reads_in_words(app, demo_copy):
    """Item 12: no ``shelter 7`` or ``reason=出動`` in the Japanese activity log."""
    from sql.actions.rescue import change_rescue_request
    from sql.viewer import Viewer

    rid = scalar(
        demo_copy,
        "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' ORDER BY id LIMIT 1",
    )
    engine = make_engine(demo_copy)
    hq = Viewer(role="hq", subject="demo-hq")
    change_rescue_request(engine, hq, rid, 1, "assigned", reason="出動", team="消防2隊")
    engine.dispose()
    at = page(app, demo_copy, "incidents")
    log = at.dataframe[1].value
    row = log[log["対象"] == f"救助要請 {rid}"].iloc[0]
    assert set(row["詳細"].split("、")) == {
        "変更前：新規",
        "変更後：隊割当済",
        "理由：出動",
        "担当隊：消防2隊",
    }
    shown = " ".join(log["対象"].astype(str)) + " ".join(log["詳細"].astype(str))
    assert not re.search(r"[a-z_]{4,}|=", shown), shown


def test_no_metric_badge_is_styled_as_an_increase():
    """Item 12: a share or a count shown beside a metric never gets Streamlit's green ↑."""
    import ast

    from tests.conftest import ROOT

    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "metric":
                keywords = {k.arg: k.value for k in node.keywords}
                if len(node.args) < 3 and "delta" not in keywords:
                    continue
                arrow = keywords.get("delta_arrow")
                if not (isinstance(arrow, ast.Constant) and arrow.value == "off"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_register_explains_unconfirmed_and_no_response(app, demo_sqlite):
    at = page(app, demo_sqlite, "register")
    captions = " ".join(c.value for c in at.caption)
    assert "「応答なし」はこの事案でまだ一度も安否の報告がない人" in captions
    assert "「未確認」は報告はあったが無事かどうか分からない人" in captions


def test_the_hq_map_panel_stays_on_a_shelter_closed_from_it(app, demo_copy):
    """Item 1 on the HQ map: the closed shelter leaves the open list, not the panel."""
    sid = scalar(
        demo_copy,
        "SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 AND closed_at IS NULL "
        "ORDER BY shelter_id DESC LIMIT 1",
    )
    name = scalar(demo_copy, "SELECT name FROM shelters WHERE id = :s", s=sid)
    at = page(app, demo_copy, "hq_map")
    at.selectbox(key="hq_pick").set_value(("shelter", sid)).run()
    at.button(key=f"shelter_close_{sid}").click().run()
    if any(b.key == f"confirm_yes_shelter:{sid}" for b in at.button):  # occupied: asked first
        at.button(key=f"confirm_yes_shelter:{sid}").click().run()
    assert not at.exception
    assert at.session_state["hq_pick"] == ("shelter", sid)
    assert read(at.subheader[-1].value) == name
    assert [read(s.value) for s in at.success] == [f"{name} を閉鎖しました。"]
