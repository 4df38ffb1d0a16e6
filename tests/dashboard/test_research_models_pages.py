"""Issue 16, items 5–6 on the pages (AppTest through the real entry point): the drill page's
time-to-safe section (Turnbull beside Kaplan–Meier, the Cox table) and the microdata page
(form → dialog → k report and ZIP; audited; refused to other roles)."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.registry import can_open
from sql.engine import make_engine
from tests.dashboard.conftest import open_page


def export_audit_rows(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT details FROM audit_log WHERE target = 'policy.microdata_export'")
        ).all()
    engine.dispose()
    return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]


def test_drill_page_shows_turnbull_beside_kaplan_meier_and_the_cox_table(app, demo_copy):
    at = open_page(app, demo_copy, "research_drill", "researcher")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["中央値（ターンブル法、分）"].endswith("分")
    km = float(metrics["中央値（カプラン・マイヤー法、分）"])
    low = float(metrics["中央値（ターンブル法、分）"].split("〜")[0])
    assert low <= km
    chart = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]
    assert [trace["name"] for trace in chart] == [
        "ターンブル法（区間打ち切り）",
        "カプラン・マイヤー法（記録時刻）",
    ]
    cox = at.dataframe[-1].value
    assert list(cox.columns) == [
        "属性",
        "区分",
        "人数",
        "到着数",
        "ハザード比［95%信頼区間］",
        "p値",
        "比例ハザード性の検定（p値）",
    ]
    assert set(cox["属性"]) <= {"年齢層", "避難行動要支援者名簿", "自宅の災害区域"}
    # no raw codes in the Japanese page; p as "p < .001" or three decimals; small cells hidden
    assert not cox["区分"].str.contains(r"^[a-z0-9_]+$").any()
    for row in cox.itertuples(index=False):
        if row[3] == "5未満":
            assert row[4] == "—"
        else:
            assert row[5] == "p < .001" or len(row[5].split(".")[1]) == 3


def test_microdata_page_makes_an_audited_k_anonymous_export(app, demo_copy):
    assert can_open("researcher", "research-microdata") and can_open("admin", "research-microdata")
    for role in ("hq", "rescue", "council", "shelter_staff"):
        assert not can_open(role, "research-microdata")
    at = open_page(app, demo_copy, "research_microdata", "researcher")
    at.text_input[0].input("訓練の所要時間の分析")
    at.button[0].click().run()  # the form's submit
    assert not at.exception
    assert export_audit_rows(demo_copy) == []  # nothing made before the confirmation
    confirm = [b for b in at.button if b.label == "作成する"]
    assert confirm, [b.label for b in at.button]
    confirm[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    rows = export_audit_rows(demo_copy)
    assert len(rows) == 1 and rows[0]["purpose"] == "訓練の所要時間の分析"
    assert any(s.value.startswith("作成しました") for s in at.success)
    report = at.dataframe[-1].value
    assert set(report["記録"]) == {"訓練の記録", "同意の記録", "安否の報告"}
    data = at.session_state["microdata_result"]["zip"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        (drill,) = [n for n in names if n.endswith("_drill.csv")]
        frame = pd.read_csv(archive.open(drill), encoding="utf-8-sig", dtype=str)
    assert any(n.endswith("_dictionary.md") for n in names)
    assert (
        frame.groupby(["age_band", "sex", "home_cell", "group"])["pseudonym"].nunique().min() >= 5
    )


@pytest.mark.parametrize("role", ["hq", "council"])
def test_microdata_page_is_not_in_other_roles_navigation(app, demo_copy, role):
    at = app(demo_copy, demo_role=role)
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/research_microdata.py")
