"""``bosai analyze drill`` prints the time to safe as interval-censored with its Cox model, and
``bosai export microdata`` writes a k-anonymous export with its dictionary — on SQLite and
PostgreSQL (the shared ``demo_engine``: 600 citizens, a drill of 240)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql.models import AuditLog


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_analyze_drill_prints_turnbull_beside_kaplan_meier_and_the_cox_model(demo_engine, capsys):
    url = url_of(demo_engine)
    assert main(["--database-url", url, "analyze", "drill", "--drill", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    tts = out["time_to_safe"]
    arrived = out["time_to_event"]["arrived"]["all"]
    # Kaplan–Meier of the arrival records is the drill evaluation's own curve (another path)
    assert tts["km_median"] == pytest.approx(arrived["median_min"])
    assert tts["observed"] == arrived["events"] and tts["n"] == arrived["n"]
    # arrivals are known only within their interval: Turnbull's median comes no later
    low, high = tts["turnbull_median"]
    assert low <= high <= tts["km_median"] + 1e-9
    assert sum(r["mass"] for r in tts["turnbull"] if r["mass"] is not None) <= 1 + 1e-9
    assert {r["term"].split("=")[0] for r in tts["cox"]} <= {"age_band", "register", "hazard_zone"}
    for row in tts["cox"]:
        if not row.get("suppressed"):
            assert row["ci_low"] <= row["hazard_ratio"] <= row["ci_high"]
    assert [r["term"] for r in tts["ph_test"]] == [r["term"] for r in tts["cox"]]
    assert "Turnbull" in tts["method"]["turnbull"]
    assert main(["--database-url", url, "analyze", "drill", "--drill", "1"]) == 0
    text = capsys.readouterr().out
    assert "Turnbull median in (" in text and "Kaplan-Meier median" in text


def test_export_microdata_writes_k_anonymous_files_with_a_dictionary(demo_engine, tmp_path, capsys):
    url = url_of(demo_engine)
    tmp_path = tmp_path / "export"
    argv = ["--database-url", url, "export", "microdata", "--drill", "1", "--out", str(tmp_path)]
    argv += ["--purpose", "避難の所要時間", "--requester", '=HYPERLINK("x")', "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(out["files"]) and len(names) == 6
    for table, quasi in (
        ("drill", ["age_band", "sex", "home_cell", "group"]),
        ("consent", ["age_band", "sex", "home_cell"]),
        ("status", ["age_band", "sex", "home_cell"]),
    ):
        (path,) = tmp_path.glob(f"*_{table}.csv")
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert frame.groupby(quasi)["pseudonym"].nunique().min() >= 5
        assert "citizen_id" not in frame and "name" not in frame
    (dictionary,) = tmp_path.glob("*_dictionary.csv")
    described = pd.read_csv(dictionary, encoding="utf-8-sig")
    assert described["description"].str.len().gt(0).all()
    (markdown,) = tmp_path.glob("*_dictionary.md")
    assert "避難の所要時間" in markdown.read_text(encoding="utf-8")
    with demo_engine.connect() as conn:
        row = conn.execute(
            sa.select(AuditLog).where(AuditLog.target == "policy.microdata_export")
        ).one()
    assert row.details["requester"] == '=HYPERLINK("x")' and row.details["export"] == out["export"]
    # no purpose, no export: a clear refusal and nothing recorded
    assert main(argv[:-5] + ["--requester", "r"]) == 2
    with demo_engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(AuditLog.target == "policy.microdata_export")
            ).scalar()
            == 1
        )
