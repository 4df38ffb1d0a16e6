"""One file, three readers: the research page, ``bosai analyze`` and the council report read
the same questionnaire export through one composition layer (``compositions``) and print the
same numbers; the opt-in report takes the citizens' age band on the date in Japan in all of
them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql.engine import make_engine

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"
FILE = SAMPLES / "google_forms_drill_2022.csv"


def cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main([*map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def number(cell) -> float:
    return float(str(cell).replace(",", "").rstrip("%"))


def test_one_file_same_numbers_on_page_cli_and_council_report(app, demo_copy, capsys):
    from reports import council

    engine = make_engine(demo_copy)
    with engine.connect() as conn:
        drill_id = conn.execute(sa.text("SELECT MIN(id) FROM drills")).scalar_one()
    args = ["--database-url", demo_copy, "survey", "import", FILE, "--instrument", "drill-2022"]
    assert main([*map(str, args), "--drill", str(drill_id)]) == 0

    # 1. bosai analyze on the file itself
    cli = cli_json(capsys, "analyze", "survey", FILE, "--instrument", "drill-2022")
    cli_optin = cli_json(capsys, "analyze", "optin", "--source", FILE)

    # 2. the research pages on the imported responses
    at = app(demo_copy, demo_role="researcher")
    at.run()
    at.switch_page("views/research_survey.py").run()
    assert not at.exception, [e.value for e in at.exception]
    page = at.dataframe[0].value.set_index("下位尺度")
    at.switch_page("views/research_optin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    timing = next(
        d.value for d in at.dataframe if "初回のみでよい" in set(d.value.get("選択肢", []))
    ).set_index("選択肢")

    # 3. the council report of the drill the responses belong to
    report = council.build(engine, drill=drill_id, draw_charts=False)
    tables = {table.key: table.frame for table in report.appendix}
    council_subscales = tables["subscales_drill-2022"].set_index("subscale")
    council_optin = tables["optin_questionnaire"].set_index("what")
    engine.dispose()

    assert cli["n"] == len(pd.read_csv(FILE))
    compared = 0
    for sub in cli["subscales"].values():
        label = sub["label"]
        assert int(number(page.loc[label, "人数"])) == sub["n"] == council_subscales.loc[label, "n"]
        assert number(page.loc[label, "平均"]) == pytest.approx(sub["mean"], abs=5e-3)
        assert council_subscales.loc[label, "mean"] == pytest.approx(sub["mean"], abs=1e-12)
        assert council_subscales.loc[label, "sd"] == pytest.approx(sub["sd"], abs=1e-12)
        if sub["alpha"] is not None:
            alpha = page.loc[label, "α係数［95%信頼区間］"].split(" [")[0]
            assert number(alpha) == pytest.approx(sub["alpha"], abs=5e-4)
            assert council_subscales.loc[label, "alpha"] == pytest.approx(sub["alpha"], abs=1e-12)
            compared += 1
    assert compared >= 2
    for code, label in (
        ("first_only", "初回のみでよい"),
        ("each_time", "新しい情報を使うたびに確認してほしい"),
    ):
        count = cli_optin["consent_timing"][code]["count"]
        assert int(number(timing.loc[label, "該当数"])) == count
        assert council_optin.loc[label, "count"] == count


def test_opt_in_age_bands_on_the_date_in_japan(app, demo_copy, capsys):
    """At 08:00 in Japan on 1 April it is still 31 March in UTC: people born on 1 April 1996 are
    30 in Japan that day, and ``bosai analyze optin --at`` counts them in the 30s (the page and
    the council report call the same :func:`compositions.optin.ledger`)."""
    engine = make_engine(demo_copy)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE citizens SET birth_date = :b "
                "WHERE id IN (SELECT id FROM citizens ORDER BY id LIMIT 40)"
            ),
            {"b": dt.date(1996, 4, 1)},
        )
        births = [r[0] for r in conn.execute(sa.text("SELECT birth_date FROM citizens")).all()]
    engine.dispose()
    japan_day = dt.date(2026, 4, 1)

    def band_count(on: dt.date, lower: int, upper: int) -> int:
        count = 0
        for birth in births:
            if birth is None:
                continue
            birth = dt.date.fromisoformat(str(birth)[:10])
            years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            count += lower <= years < upper
        return count

    thirties_japan = band_count(japan_day, 30, 40)
    thirties_utc = band_count(dt.date(2026, 3, 31), 30, 40)  # the date in UTC: the old drift
    assert thirties_japan > thirties_utc
    out = cli_json(
        capsys, "--database-url", demo_copy, "analyze", "optin", "--at", "2026-04-01T08:00+09:00"
    )
    bands = {
        row["level"]: row["n"]
        for row in out["tables"]["by_attribute"]
        if row["attribute"] == "age_band" and row["data_item"] == "location"
    }
    assert bands["30s"] == thirties_japan != thirties_utc
