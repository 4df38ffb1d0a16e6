"""The demo's evacuation information on the pages (issue 17, item 6), through the real entry
point (AppTest) on a database ``bosai demo --evacuation`` made: the decision board shows the
demo's レベル4 in force with nothing left to propose, the HQ map draws the river areas, the
overview lists them and the replay steps from nothing through レベル3 to レベル4."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bosai.cli import main
from dashboard.map_evacuation import LAYER_EVACUATION
from sql import policy
from sql.engine import make_engine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, sqlite_template) -> str:
    import shutil

    path = tmp_path_factory.mktemp("demo-evacuation") / "demo.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "demo", "--citizens", "1000", "--evacuation"]) == 0
    return url


def evacuation_layer(at) -> list[dict]:
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (layer,) = [x for x in deck["layers"] if x["id"] == LAYER_EVACUATION]
    return layer["data"]


def test_the_board_shows_the_demo_s_level_4_and_its_history(app, demo_url):
    policy.forget_recent_views()
    at = app(demo_url, demo_role="hq")
    at.run()
    at.switch_page("views/evacuation.py").run()
    assert not at.exception, at.exception
    in_force, coverage, history = (d.value for d in at.dataframe)
    assert sorted(in_force["区域"].str.extract(r"\((\w+-\d)\)$")[0]) == [
        "AG-1",
        "AG-2",
        "YU-1",
        "YU-2",
        "YU-3",
    ]
    assert set(in_force["現在"]) == {"警戒レベル4 避難指示"} and set(in_force["訓練"]) == {"訓練"}
    assert "氾濫危険水位" in in_force["理由"].iloc[0]
    assert len(coverage) == 6 and coverage["オプトイン市民"].astype(int).sum() > 0
    assert list(history["内容"]) == ["警戒レベル3 高齢者等避難"] * 5 + ["警戒レベル4 避難指示"] * 5
    assert list(history["基準到達から（分）"]) == ["3"] * 10
    # the rules ask for nothing more than what is in force
    assert (
        "提案はありません。基準に達した区域がないか、すでに基準どおりの警戒レベルを発令しています。"
        in [c.value for c in at.caption]
    )


def test_the_hq_map_overview_and_replay_show_it(app, demo_url):
    policy.forget_recent_views()
    at = app(demo_url, demo_role="hq")
    at.run()
    assert not at.exception, at.exception
    (overview,) = [w.value for w in at.warning if "発令中の避難情報" in w.value]
    assert overview.startswith("発令中の避難情報 — 警戒レベル4 避難指示: ")
    assert "湯川 浸水想定区域（上流）" in overview and "阿賀川 浸水想定区域（北）" in overview
    at.switch_page("views/hq_map.py").run()
    assert not at.exception, at.exception
    records = evacuation_layer(at)
    assert {r["level"] for r in records} == {4} and len(records) >= 5
    at.switch_page("views/replay.py").run()
    assert not at.exception, at.exception
    assert {r["level"] for r in evacuation_layer(at)} == {4}


def test_the_replay_steps_through_the_night(demo_url):
    """What was in force at a moment (the replay's question) moves 0 → 3 → 4 with the river."""
    import datetime as dt

    from sql.queries.evacuation import in_force

    engine = make_engine(demo_url)
    with engine.connect() as conn:
        declared = conn.execute(sa.text("SELECT declared_at FROM incidents WHERE id = 1")).scalar()
    t0 = dt.datetime.fromisoformat(str(declared)).replace(tzinfo=dt.UTC)
    levels = [
        sorted({f.level for f in in_force(engine, 1, as_of=t0 + dt.timedelta(minutes=m)).values()})
        for m in (20, 35, 60)
    ]
    engine.dispose()
    assert levels == [[], [3], [4]]


def test_the_drill_evaluation_page_shows_the_decisions_of_the_drill_s_incident(app, demo_url):
    """The research page's trigger → issuance → opened → safe table, one row per decision
    (the demo's drill pointed at the demo incident; nobody was pushed its evacuation
    decisions, so nobody reached — 0, shown as 0, and no median)."""
    engine = make_engine(demo_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE drills SET incident_id = 1"))
    engine.dispose()
    policy.forget_recent_views()
    at = app(demo_url, demo_role="researcher")
    at.run()
    at.switch_page("views/research_drill.py").run()
    assert not at.exception, at.exception
    (table,) = [d.value for d in at.dataframe if "発令時刻" in d.value.columns]
    assert list(table.columns) == [
        "発令時刻",
        "内容",
        "区域数",
        "基準到達から発令まで（分）",
        "通知が届いた人",
        "開封した人",
        "発令から開封まで（中央値・分）",
        "安全を報告した人",
        "発令から安全報告まで（中央値・分）",
    ]
    assert list(table["内容"]) == ["警戒レベル3 高齢者等避難"] * 2 + ["警戒レベル4 避難指示"] * 2
    assert list(table["区域数"]) == ["3", "2", "3", "2"]
    assert set(table["基準到達から発令まで（分）"]) == {"3"}
    assert set(table["通知が届いた人"]) == {"0"} and set(
        table["発令から開封まで（中央値・分）"]
    ) == {"—"}
    assert table["発令時刻"].iloc[0].startswith("令和8年7月10日")
