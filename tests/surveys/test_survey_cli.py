"""``bosai survey import`` / ``import-timings``: report, exit codes, nothing written on error."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from bosai.cli import main
from sql.engine import make_engine

SAMPLES = Path(__file__).with_name("samples")


def rows(url: str, table: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()
    engine.dispose()
    return n


def bosai(url: str, *args: str) -> int:
    return main(["--database-url", url, *map(str, args)])


def test_import_prints_the_report_and_reimport_changes_nothing(sqlite_url, capsys):
    file = SAMPLES / "bad_google_forms_drill_2022.csv"
    good = SAMPLES / "google_forms_drill_2022.csv"
    assert bosai(sqlite_url, "survey", "import", good, "--instrument", "drill-2022") == 0
    out = capsys.readouterr().out
    assert "google_forms, utf-8, 24 rows; 26 columns matched" in out
    assert "24 inserted 0 updated 0 unchanged" in out
    assert bosai(sqlite_url, "survey", "import", good, "--instrument", "drill-2022", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["inserted"], result["unchanged"]) == (0, 24)
    # A bad file: exit 2, FILE:ROW:COLUMN lines, nothing written.
    assert bosai(sqlite_url, "survey", "import", file, "--instrument", "drill-2022") == 2
    err = capsys.readouterr().err.splitlines()
    assert (
        err[0]
        == "bosai: error: bad_google_forms_drill_2022.csv: 5 problem(s); nothing was imported"
    )
    assert err[1].startswith("bad_google_forms_drill_2022.csv:3:情報ごとに")
    assert rows(sqlite_url, "survey_responses") == 24


def test_dry_run_and_mapping(sqlite_url, capsys):
    args = (
        "survey",
        "import",
        SAMPLES / "sus_short_headers_bom.csv",
        "--instrument",
        "sus",
        "--mapping",
        SAMPLES / "sus_short_headers.mapping.yaml",
    )
    assert bosai(sqlite_url, *args, "--dry-run") == 0
    assert "dry run: nothing written" in capsys.readouterr().out
    assert rows(sqlite_url, "survey_responses") == 0
    assert bosai(sqlite_url, *args) == 0
    assert rows(sqlite_url, "survey_responses") == 8


def test_warnings_are_printed_and_the_import_proceeds(sqlite_url, tmp_path, capsys):
    text = (SAMPLES / "google_forms_drill_2022.csv").read_text(encoding="utf-8").splitlines()
    extra = [text[0] + ",メモ"] + [line + "," for line in text[1:]]
    path = tmp_path / "with_memo.csv"
    path.write_text("\n".join(extra) + "\n", encoding="utf-8")
    assert bosai(sqlite_url, "survey", "import", path, "--instrument", "drill-2022") == 0
    out = capsys.readouterr().out
    assert "warning: with_memo.csv:1:メモ: unknown column (ignored)" in out


def test_unknown_instrument_and_unmigrated_database(sqlite_url, tmp_path, capsys):
    file = SAMPLES / "google_forms_drill_2022.csv"
    assert bosai(sqlite_url, "survey", "import", file, "--instrument", "nope") == 2
    assert "unknown instrument 'nope'" in capsys.readouterr().err
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert bosai(empty, "survey", "import", file, "--instrument", "drill-2022") == 1
    assert "bosai db upgrade" in capsys.readouterr().err


def test_import_timings(sqlite_url, capsys):
    sheet = SAMPLES / "uiux_timings_2021.csv"
    assert bosai(sqlite_url, "survey", "import-timings", sheet, "--held-on", "2021-11-02") == 0
    assert "72 inserted" in capsys.readouterr().out
    assert bosai(sqlite_url, "survey", "import-timings", sheet, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["session"], result["unchanged"]) == ("uiux_timings_2021", 72)
    bad = SAMPLES / "bad_uiux_timings.csv"
    assert bosai(sqlite_url, "survey", "import-timings", bad, "--session", "other") == 2
    err = capsys.readouterr().err
    assert "bad_uiux_timings.csv:3:区分: 'シニア層' is not a known group" in err
    assert rows(sqlite_url, "uiux_sessions") == 1 and rows(sqlite_url, "uiux_task_timings") == 72
    assert bosai(sqlite_url, "survey", "import-timings", sheet, "--held-on", "2021-13-01") == 2


def test_instruments_are_listed(capsys):
    assert main(["survey", "instruments"]) == 0
    out = capsys.readouterr().out
    assert "drill-2022" in out and "sus" in out
