"""The evacuation decision board through the real entry point (AppTest): the rules' proposal
with its reason and time since the trigger, taken into the form, confirmed in a dialog that
states who is covered, the result reported; then a lift (issue 17)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from sql import policy
from sql.engine import make_engine
from sql.models import EvacuationArea, EvacuationIssuance, IncidentActivity
from tests.conftest import prepare_evacuation_board

pytestmark = pytest.mark.slow


@pytest.fixture
def board_url(demo_copy, tmp_path) -> str:
    """The demo city with areas, stations and the 湯川 past its 避難判断水位 20 minutes ago."""
    return prepare_evacuation_board(demo_copy, tmp_path)


def rows(url: str, model):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(model).order_by(model.id)).all()
    finally:
        engine.dispose()


def signed_in_hq(app, url: str):
    policy.forget_recent_views()
    engine = make_engine(url)
    with engine.connect() as conn:
        subject = conn.execute(
            sa.text("SELECT subject FROM staff WHERE role = 'hq' LIMIT 1")
        ).scalar()
    engine.dispose()
    at = app(url)
    at.user = {"is_logged_in": True, "sub": subject, "roles": ["hq"]}
    at.run()
    at.switch_page("views/evacuation.py").run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return "\n".join(
        str(e.value) for e in [*at.success, *at.error, *at.warning, *at.info, *at.text]
    )


def feed_entries(folder) -> list[str]:
    """The CAP files the published feed links (each must exist beside it)."""
    from lxml import etree

    from reports.cap import ATOM_NS

    doc = etree.parse(str(folder / "feed.atom"))
    hrefs = doc.xpath("//a:entry/a:link/@href", namespaces={"a": ATOM_NS})
    names = [h.rsplit("/", 1)[-1] for h in hrefs]
    assert all((folder / n).is_file() for n in names), names
    return names


def test_headquarters_take_a_proposal_confirm_and_lift(app, board_url, monkeypatch, tmp_path):
    from dashboard.evacuation_panels import FEED_DIR_ENV

    feed = tmp_path / "feed"
    monkeypatch.setenv(FEED_DIR_ENV, str(feed))
    at = signed_in_hq(app, board_url)
    proposals = at.dataframe[0].value
    assert list(proposals["区域"]) == [
        "謹教地区（湯川沿い） (YU-1)",
        "行仁地区（湯川沿い） (YU-2)",
        "城北町字（湯川沿い） (YU-3)",
    ]
    assert set(proposals["提案"]) == {"警戒レベル3 高齢者等避難"}
    assert "避難判断水位" in proposals["理由"].iloc[0]
    assert list(proposals["経過（分）"]) == ["20", "20", "20"]
    at.button(key="evac_accept_3").click().run()
    assert at.session_state["evac_level"] == 3 and len(at.session_state["evac_areas"]) == 3
    at.button(key="evac_issue_open").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "警戒レベル3 高齢者等避難 を次の区域に発令します。" in shown
    assert "人・" in shown and "世帯" in shown and "要支援者" in shown and "避難所" in shown
    # all residents by the city's counts beside the opted-in citizens, each labelled
    assert (
        "住民（市の集計）5,675人・2,492世帯（出典: 令和2年国勢調査、住民基本台帳（令和8年4月1日））"
        in shown.splitlines()
    )
    assert re.search(r"^対象: 3 区域・オプトイン市民 \d+人・\d+世帯", shown, re.MULTILINE)
    assert rows(board_url, EvacuationIssuance) == []  # nothing before the confirmation
    at.button(key="evac_issue_confirm").click().run()
    assert not at.exception, at.exception
    issued = rows(board_url, EvacuationIssuance)
    assert [(r.action, r.level, r.trigger["kind"]) for r in issued] == [
        ("issue", 3, "river_level")
    ] * 3
    assert "警戒レベル3 高齢者等避難 を 3 区域に発令しました" in texts(at)
    # no city OS answers here: the page says the notification was not sent, not that it was
    assert [e.value for e in at.error if "通知" in e.value][0].startswith(
        ("市民への通知は送っていません", "市民への通知に失敗しました")
    )
    history = at.dataframe[-1].value
    assert list(history["基準到達から（分）"]) == ["20", "20", "20"]
    activity = [r for r in rows(board_url, IncidentActivity) if r.action == "evacuation_issued"]
    assert len(activity) == 1
    # the board republished the feed as `bosai evacuation feed --dir` does: one decision
    assert len(feed_entries(feed)) == 1
    assert "避難情報のフィード（Atom）と CAP メッセージを更新しました（発令中 1 件）。" in texts(at)
    # nothing more is proposed for those areas; the lift names them
    assert at.session_state["evac_areas"] == [] or "evac_areas" not in at.session_state
    at.checkbox(key="evac_lift_push").uncheck().run()
    at.multiselect(key="evac_lift_areas").set_value([issued[0].area_id]).run()
    at.text_area(key="evac_lift_reason").input("水位低下").run()
    at.button(key="evac_lift_open").click().run()
    assert "次の区域の避難情報を解除します。" in texts(at)
    at.button(key="evac_lift_confirm").click().run()
    assert not at.exception, at.exception
    lifted = rows(board_url, EvacuationIssuance)[-1]
    assert lifted.action == "lift" and lifted.lifts_id == issued[0].id
    assert "1 区域の避難情報を解除しました" in texts(at)
    # republished: the issue (still in force in two areas) and the lift's Cancel
    assert len(feed_entries(feed)) == 2


def area_id(url: str, code: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(EvacuationArea.id).where(EvacuationArea.code == code)
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_city_counts_show_per_area_and_none_given_says_so(app, board_url):
    at = signed_in_hq(app, board_url)
    table = next(d.value for d in at.dataframe if "住民（市の集計）" in d.value.columns)
    by_area = table.set_index("区域")
    assert by_area.at["謹教地区（湯川沿い） (YU-1)", "住民（市の集計）"] == "2,480"
    assert by_area.at["謹教地区（湯川沿い） (YU-1)", "世帯（市の集計）"] == "1,093"
    assert by_area.at["謹教地区（湯川沿い） (YU-1)", "集計の出典"] == "令和2年国勢調査"
    assert by_area.at["阿賀川 浸水想定区域（神指） (AG-2)", "住民（市の集計）"] == "—"
    assert "オプトイン市民" in table.columns
    ag2, yu3 = area_id(board_url, "AG-2"), area_id(board_url, "YU-3")
    at.multiselect(key="evac_areas").set_value([ag2]).run()
    at.button(key="evac_issue_open").click().run()
    assert not at.exception, at.exception
    assert "住民（市の集計）: 集計なし" in texts(at).splitlines()
    at.multiselect(key="evac_areas").set_value([ag2, yu3]).run()
    at.button(key="evac_issue_open").click().run()
    assert (
        "住民（市の集計）1,320人・587世帯（出典: 住民基本台帳（令和8年4月1日））（1/2 区域分の集計）"
        in texts(at).splitlines()
    )
    assert rows(board_url, EvacuationIssuance) == []


def test_the_page_says_when_no_area_is_imported(app, demo_copy):
    at = signed_in_hq(app, demo_copy)
    assert "発令区域が登録されていません" in texts(at)


def test_english_labels(app, board_url):
    policy.forget_recent_views()
    at = app(board_url, demo_role="hq", lang="en")
    at.run()
    at.switch_page("views/evacuation.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Evacuation information"
    proposals = at.dataframe[0].value
    assert list(proposals.columns) == [
        "Area",
        "Proposed",
        "Now",
        "Reason",
        "Trigger reached",
        "Minutes since",
    ]
    assert set(proposals["Proposed"]) == {"Alert level 3: Evacuate the elderly and others"}
    assert proposals["Area"].iloc[0] == "Kinkyo (Yugawa) (YU-1)"
    assert "Evacuation judgement level" in proposals["Reason"].iloc[0]


def test_the_hq_map_draws_the_areas_in_force_by_level(app, board_url):
    import json

    from dashboard.map_evacuation import LAYER_EVACUATION, LINE_PX
    from dashboard.map_symbols import legend_swatches
    from sql.actions.evacuation import issue
    from sql.viewer import Viewer

    engine = make_engine(board_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT code, id FROM evacuation_areas")).all())
    hq = Viewer(role="hq", subject="hq-test")
    issue(engine, hq, 1, [ids["YU-1"], ids["LS-1"]], 3, "r", idempotency_key="m1")
    issue(engine, hq, 1, [ids["YU-1"]], 5, "r", idempotency_key="m2")
    engine.dispose()
    policy.forget_recent_views()
    at = app(board_url, demo_role="hq")
    at.run()
    at.switch_page("views/hq_map.py").run()
    assert not at.exception, at.exception
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (layer,) = [x for x in deck["layers"] if x["id"] == LAYER_EVACUATION]
    records = layer["data"]
    # LS-1 is two polygons at level 3, YU-1 one at level 5 (drawn last, on top)
    assert [r["level"] for r in records] == [3, 3, 5]
    assert [r["w"] for r in records] == [LINE_PX[3], LINE_PX[3], LINE_PX[5]]
    assert records[0]["lc"][:3] == [255, 40, 0] and records[-1]["lc"][:3] == [12, 0, 12]
    assert records[-1]["t"].startswith("謹教地区（湯川沿い）：警戒レベル5 緊急安全確保")
    assert "evacuation" in legend_swatches()
    labels = [c.label for c in at.checkbox]
    assert any("避難情報の発令区域" in label for label in labels)


def test_the_overview_lists_what_is_in_force(app, board_url):
    from sql.actions.evacuation import issue
    from sql.viewer import Viewer

    engine = make_engine(board_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT code, id FROM evacuation_areas")).all())
    hq = Viewer(role="hq", subject="hq-test")
    issue(engine, hq, 1, [ids["YU-1"], ids["YU-2"]], 3, "r", idempotency_key="o1")
    issue(engine, hq, 1, [ids["AG-1"]], 4, "r", idempotency_key="o2")
    engine.dispose()
    for role in ("hq", "researcher"):
        policy.forget_recent_views()
        at = app(board_url, demo_role=role)
        at.run()
        assert not at.exception, at.exception
        (shown,) = [w.value for w in at.warning if "発令中の避難情報" in w.value]
        assert shown == (
            "発令中の避難情報 — 警戒レベル4 避難指示: 阿賀川 浸水想定区域（北会津） / "
            "警戒レベル3 高齢者等避難: 行仁地区（湯川沿い）、謹教地区（湯川沿い）"
        )


def test_the_replay_draws_what_was_in_force_at_the_moment(app, board_url):
    import json

    from dashboard.map_evacuation import LAYER_EVACUATION
    from sql.actions.evacuation import issue
    from sql.queries.evacuation import in_force
    from sql.viewer import Viewer

    engine = make_engine(board_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT code, id FROM evacuation_areas")).all())
    decision = issue(
        engine, Viewer(role="hq", subject="hq-test"), 1, [ids["YU-1"]], 4, "r", idempotency_key="r1"
    )
    # as if decided an hour earlier in the night (a decision stamped "now" on the incident's
    # own clock lies after the replay's last moment)
    with engine.begin() as conn:
        conn.execute(
            sa.update(EvacuationIssuance).values(issued_at=decision.at - dt.timedelta(hours=1))
        )
    engine.dispose()
    policy.forget_recent_views()
    at = app(board_url, demo_role="hq")
    at.run()
    at.switch_page("views/replay.py").run()
    assert not at.exception, at.exception
    # the replay opens at the end of the night (on the incident's clock): level 4 drawn
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (layer,) = [x for x in deck["layers"] if x["id"] == LAYER_EVACUATION]
    assert [r["level"] for r in layer["data"]] == [4]
    # and at the declaration nothing was in force yet
    engine = make_engine(board_url)
    declared = engine.connect().execute(sa.text("SELECT declared_at FROM incidents WHERE id = 1"))
    declared_at = dt.datetime.fromisoformat(str(declared.scalar())).replace(tzinfo=dt.UTC)
    assert in_force(engine, 1, as_of=declared_at) == {}
    assert set(in_force(engine, 1, as_of=decision.at - dt.timedelta(minutes=59))) == {ids["YU-1"]}
    engine.dispose()
    assert decision.at < dt.datetime(2026, 7, 11, tzinfo=dt.UTC)
