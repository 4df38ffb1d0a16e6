"""UI/UX timing sheets: Japanese or English headers, m:ss, XLSX, problems by row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bosai.errors import InvalidInputError
from surveys.reader import read_table_text
from surveys.timing_sheet import parse_timing_table, read_timing_sheet

SAMPLES = Path(__file__).with_name("samples")


def test_the_sample_sheets():
    csv = read_timing_sheet(SAMPLES / "uiux_timings_2021.csv")
    assert len(csv.frame) == 72 and csv.report.ok
    assert set(csv.frame["group"]) == {"elderly", "student", "general"}
    assert set(csv.frame["method"]) == {"paper", "app"}
    first = csv.frame.iloc[0]
    assert (first["participant"], first["seconds"], first["success"]) == ("E01", 883.0, True)
    abandoned = csv.frame[csv.frame["seconds"].isna()]
    assert (abandoned["success"] == False).all()  # noqa: E712
    xlsx = read_timing_sheet(SAMPLES / "uiux_timings_2021.xlsx")
    assert xlsx.report.ok and len(xlsx.frame) == 12


def test_english_headers_with_units():
    text = (
        "participant,group,task,method,time (s),success,errors\nP1,student,plan,app,0:04:10,yes,1\n"
    )
    sheet = parse_timing_table(read_table_text(text, "e.csv"))
    row = sheet.frame.iloc[0]
    assert (row["group"], row["seconds"], row["error_count"]) == ("student", 250.0, 1)


def test_the_bad_sheet_is_refused_with_every_problem():
    with pytest.raises(InvalidInputError) as err:
        read_timing_sheet(SAMPLES / "bad_uiux_timings.csv")
    assert err.value.problems == [
        "bad_uiux_timings.csv:2:時間: '12:75': seconds must be below 60",
        "bad_uiux_timings.csv:3:区分: 'シニア層' is not a known group (高齢者、中学生、一般, or a lower-case code)",
        "bad_uiux_timings.csv:4:時間: '-5' is outside 0–14400 s",
        "bad_uiux_timings.csv:6:時間: time is empty but the task is not marked as failed",
        "bad_uiux_timings.csv:7:成功: 'たぶん' is not yes/no (○/×)",
    ]


def test_missing_columns_and_duplicates():
    sheet = parse_timing_table(read_table_text("参加者,タスク\nP1,x\n", "m.csv"))
    assert [p.column for p in sheet.report.errors] == ["group", "method", "time"]
    text = "参加者,区分,タスク,方法,時間\nP1,一般,x,紙,10\nP1,一般,x,紙,12\n"
    sheet = parse_timing_table(read_table_text(text, "d.csv"))
    assert sheet.report.lines("error") == [
        "d.csv:3:参加者: duplicate: P1 / x / paper already on row 2"
    ]
