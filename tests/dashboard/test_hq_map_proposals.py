"""The rules' proposals on the HQ map (issue 17, item 2), through the real entry point
(AppTest): the areas the decision board proposes are outlined in their own layer with a tooltip
(area, proposed level, reason, minutes since the trigger), gone once the level is issued, shown
only to the roles that see the board, in English in English mode."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from dashboard.map_proposals import LAYER_PROPOSAL_AREAS, LAYER_PROPOSALS
from sql import policy
from sql.engine import make_engine
from tests.conftest import prepare_evacuation_board

pytestmark = pytest.mark.slow


@pytest.fixture
def board_url(demo_copy, tmp_path) -> str:
    """The demo city with areas, stations and the 湯川 past its 避難判断水位 20 minutes ago."""
    return prepare_evacuation_board(demo_copy, tmp_path)


def hq_map(app, url: str, role: str = "hq", **session):
    policy.forget_recent_views()
    at = app(url, demo_role=role, **session)
    at.run()
    at.switch_page("views/hq_map.py").run()
    assert not at.exception, at.exception
    return at


def layers(at) -> dict[str, list[dict]]:
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {x["id"]: x["data"] for x in deck["layers"]}


def legend_labels(at) -> list[str]:
    return [c.label for c in at.checkbox]


def test_proposals_are_drawn_until_the_level_is_issued(app, board_url):
    from sql.actions.evacuation import issue
    from sql.viewer import Viewer

    at = hq_map(app, board_url)
    drawn = layers(at)
    areas = drawn[LAYER_PROPOSAL_AREAS]
    assert sorted({r["area"] for r in areas}) == ["YU-1", "YU-2", "YU-3"]
    assert {r["level"] for r in areas} == {3}
    dashes = drawn[LAYER_PROPOSALS]
    assert len(dashes) > 3 and {d["lc"][0] for d in dashes} == {255}  # level 3's red
    tip = next(r["t"] for r in areas if r["area"] == "YU-1")
    assert tip.startswith("謹教地区（湯川沿い）：警戒レベル3 高齢者等避難を提案中（現在：")
    assert "避難判断水位" in tip and "（20 分前）" in tip and "YU-1" not in tip
    assert any("提案中の避難情報" in label for label in legend_labels(at))
    # the legend's toggle hides the layer
    (toggle,) = [c for c in at.checkbox if "提案中の避難情報" in c.label]
    toggle.uncheck().run()
    assert LAYER_PROPOSALS not in layers(at)

    engine = make_engine(board_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT code, id FROM evacuation_areas")).all())
    issue(
        engine, Viewer(role="hq", subject="hq-test"), 1, [ids["YU-1"]], 3, "r", idempotency_key="p1"
    )
    engine.dispose()
    drawn = layers(hq_map(app, board_url))
    assert sorted({r["area"] for r in drawn[LAYER_PROPOSAL_AREAS]}) == ["YU-2", "YU-3"]

    engine = make_engine(board_url)
    issue(
        engine,
        Viewer(role="hq", subject="hq-test"),
        1,
        [ids["YU-2"], ids["YU-3"]],
        3,
        "r",
        idempotency_key="p2",
    )
    engine.dispose()
    drawn = layers(hq_map(app, board_url))
    assert LAYER_PROPOSAL_AREAS not in drawn and LAYER_PROPOSALS not in drawn


def test_roles_that_do_not_see_the_board_do_not_see_proposals(app, board_url):
    at = hq_map(app, board_url, role="rescue")
    drawn = layers(at)
    assert LAYER_PROPOSAL_AREAS not in drawn and LAYER_PROPOSALS not in drawn
    assert not any("提案中" in label for label in legend_labels(at))


def test_english_tooltip_and_legend(app, board_url):
    at = hq_map(app, board_url, lang="en")
    tip = next(r["t"] for r in layers(at)[LAYER_PROPOSAL_AREAS] if r["area"] == "YU-1")
    assert tip.startswith(
        "Kinkyo (Yugawa): Alert level 3: Evacuate the elderly and others proposed"
    )
    assert "Evacuation judgement level" in tip and "(20 min ago)" in tip and "JST" in tip
    assert any("Proposed evacuation information" in label for label in legend_labels(at))


def test_dashes_cover_the_outline_with_gaps():
    import numpy as np
    import shapely

    from dashboard.map_proposals import DASH_M, GAP_M, M_PER_DEG, dashes

    # a square of about 1 km a side at 37.5° N
    lat, side = 37.5, 1000.0
    dlon, dlat = side / (M_PER_DEG * np.cos(np.radians(lat))), side / M_PER_DEG
    ring = np.array([[140, lat], [140 + dlon, lat], [140 + dlon, lat + dlat], [140, lat + dlat]])
    pieces = dashes(np.vstack([ring, ring[:1]]))
    assert len(pieces) == int(np.ceil(4 * side / (DASH_M + GAP_M)))
    scale = np.array([M_PER_DEG * np.cos(np.radians(lat)), M_PER_DEG])
    lengths = [shapely.LineString(np.asarray(p) * scale).length for p in pieces]
    assert all(length <= DASH_M + 1 for length in lengths)
    assert sum(lengths) == pytest.approx(4 * side * DASH_M / (DASH_M + GAP_M), rel=0.1)


@pytest.mark.parametrize("exercise", [False, True])
def test_a_drill_s_proposals_say_exercise(exercise):
    import datetime as dt

    import pandas as pd
    import shapely

    from analytics.evacuation_rules import Proposal
    from dashboard.context import PageContext
    from dashboard.map_proposals import Pending, proposal_records
    from sql.viewer import Viewer

    now = dt.datetime(2026, 7, 10, 7, 0, tzinfo=dt.UTC)
    square = shapely.box(139.92, 37.49, 139.93, 37.50)
    areas = pd.DataFrame(
        {"code": ["A"], "name_ja": ["区域A"], "name_en": ["Area A"], "geom_wkb": [square.wkb]}
    )
    proposal = Proposal(
        "A", 4, 3, ("r1",), {"kind": "landslide_warning"}, now - dt.timedelta(minutes=45)
    )
    page = PageContext(None, "", Viewer(role="hq", subject="t"), "ja", None)  # t() and lang only
    (area,), lines = proposal_records(page, Pending(now, areas, [proposal], exercise))
    assert area["t"].startswith("訓練: 区域A") is exercise
    assert "警戒レベル4 避難指示を提案中（現在：警戒レベル3 高齢者等避難）" in area["t"]
    assert "土砂災害警戒情報が発表されました" in area["t"] and "（45 分前）" in area["t"]
    assert lines and all(line["t"] == area["t"] for line in lines)
    assert lines[0]["lc"][:3] == [170, 0, 170]  # level 4's purple
