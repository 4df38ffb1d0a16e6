"""Small cells stay small (issue 13, finding 8): every aggregate a researcher or a council
member sees — map cells and their tooltips, key figures, tables, charts — follows the one rule
of ``analytics.small_cells``: a count of 1–4 reads 「5未満」 and what is derived from it (a
share, a colour, the needs-rescue outline, a bar) is hidden.

(``bosai analyze --json``: tests/analytics/test_analyze_cli.py; the research downloads and the
reports: tests/dashboard/test_research_pages.py, tests/reports/.)"""

from __future__ import annotations

import json
import re

import pytest

from dashboard.map_deck import LAYER_CELLS, LAYER_SHELTERS, SUPPRESSED_CELL
from tests.dashboard.conftest import open_page

SMALL = {"1", "2", "3", "4"}
#: 「{citizens}人中 未確認{unconfirmed}（{share}）要救助{rescue}」
CELL_TIP = re.compile(
    r"^(?P<citizens>\S+)人中 未確認(?P<unconfirmed>\S+)（(?P<share>[^）]+)）要救助(?P<rescue>\S+)$"
)


def signed_in(role: str) -> dict:
    return {"is_logged_in": True, "sub": f"demo-{role}", "name": role, "roles": [role]}


def layer(at, layer_id: str) -> list[dict]:
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return next(x["data"] for x in deck["layers"] if x["id"] == layer_id)


def numbers_shown(at) -> list[str]:
    return [m.value for m in at.metric] + [m.delta or "" for m in at.metric]


@pytest.mark.parametrize("role", ["researcher"])
def test_the_replay_map_hides_what_small_cells_would_give_away(app, demo_sqlite, role):
    at = open_page(app, demo_sqlite, "replay", user=signed_in(role))
    cells = layer(at, LAYER_CELLS)
    suppressed = 0
    for record in cells:
        tip = CELL_TIP.match(record["t"])
        assert tip, record["t"]
        counts = {k: tip[k] for k in ("citizens", "unconfirmed", "rescue")}
        assert not set(counts.values()) & SMALL, record["t"]
        small_people = counts["citizens"] == "5未満"
        if small_people or counts["unconfirmed"] == "5未満":
            suppressed += 1
            assert tip["share"] == "—", record["t"]
            assert record["c"] == SUPPRESSED_CELL, record
        else:
            assert tip["share"].endswith("%") and record["c"] != SUPPRESSED_CELL
        assert set(record) == {"h", "c", "t"}, "a cell carries nothing but its colour and tooltip"
    assert suppressed > 0, "the demo city has small cells at this resolution"
    for shelter in layer(at, LAYER_SHELTERS):
        assert not re.search(r"(?<![\d,])[1-4]/", shelter["t"]), shelter["t"]
    assert not set(numbers_shown(at)) & SMALL
    heads = at.dataframe[-1].value["避難者数"].astype(str)
    assert not set(heads) & SMALL


def test_operational_roles_see_the_exact_cells(app, demo_sqlite):
    at = open_page(app, demo_sqlite, "replay", user=signed_in("hq"))
    cells = layer(at, LAYER_CELLS)
    assert all("5未満" not in r["t"] and "—" not in r["t"] for r in cells)
    assert any(CELL_TIP.match(r["t"])["citizens"] in SMALL for r in cells)


@pytest.mark.parametrize("role", ["council", "researcher"])
def test_the_overview_suppresses_small_counts_for_non_operational_roles(app, demo_copy, role):
    # Make one status count small: every needs-rescue report but two becomes "evacuating".
    from sql.engine import make_engine

    engine = make_engine(demo_copy)
    with engine.begin() as conn:
        ids = (
            conn.exec_driver_sql(
                "SELECT citizen_id FROM citizen_latest_status WHERE state = 'needs_rescue' "
                "AND incident_key = 1 ORDER BY citizen_id"
            )
            .scalars()
            .all()
        )
        assert len(ids) > 2
        conn.exec_driver_sql(
            "UPDATE citizen_latest_status SET state = 'evacuating' WHERE incident_key = 1 AND "
            f"citizen_id IN ({','.join(str(i) for i in ids[2:])})"
        )
    engine.dispose()
    at = open_page(app, demo_copy, "overview", user=signed_in(role))
    assert {m.label: m.value for m in at.metric}["要救助"] == "5未満"
    table = at.dataframe[0].value
    row = table[table["状況"] == "要救助"].iloc[0]
    assert row["人数"] == "5未満" and row.isna()["割合"]
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert "要救助" not in [y for bar in bars for y in bar["y"]], "no bar for a small count"
    hq = open_page(app, demo_copy, "overview", user=signed_in("hq"))
    assert {m.label: m.value for m in hq.metric}["要救助"] == "2"
