"""Columns matched to items, answers parsed, and the validation report (file:row:column)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from surveys.instrument import load_instrument
from surveys.mapping import parse_mapping
from surveys.parse import (
    ValueProblem,
    parse_duration,
    parse_export,
    parse_likert,
    parse_multiple,
    parse_single,
    parse_timestamp,
)
from surveys.reader import read_table, read_table_text

SAMPLES = Path(__file__).with_name("samples")
DRILL = load_instrument("drill-2022")
SUS = load_instrument("sus")


def test_likert_answers_as_labels_or_numbers():
    item = DRILL.item("ui_easy")
    cases = {
        "とてもそう思う": 5,
        "そう思う": 4,
        "どちらともいえない": 3,
        "どちらとも言えない": 3,
        "あまりそう思わない": 2,
        "全くそう思わない": 1,
        "まったくそう思わない": 1,
        "５": 5,
        "3": 3,
        "4：そう思う": 4,
        "5 とてもそう思う": 5,
        "Strongly disagree": 1,
    }
    for text, value in cases.items():
        assert parse_likert(item, text) == value, text
    for bad, code in (("6", "out_of_range"), ("2.5", "out_of_range"), ("まあまあ", "unparseable")):
        with pytest.raises(ValueProblem) as err:
            parse_likert(item, bad)
        assert err.value.code == code
    with pytest.raises(ValueProblem, match="disagree"):
        parse_likert(item, "5：そう思わない")


def test_choices():
    assert parse_single(DRILL.item("participant_type"), "住民（町内会）") == "resident"
    assert parse_single(DRILL.item("participant_type"), "出張者") == "visitor"
    assert parse_single(DRILL.item("age_band"), "８０代") == "70plus"
    with pytest.raises(ValueProblem):
        parse_single(DRILL.item("age_band"), "80代以上の方")
    share = DRILL.item("share_targets")
    assert parse_multiple(share, "医療・介護関係者;家族") == "family;medical_care"
    assert parse_multiple(share, "家族、町内会") == "family;neighbourhood"
    assert parse_multiple(share, "workplace friends") == "friends;workplace"
    with pytest.raises(ValueProblem):
        parse_multiple(share, "家族, 近所の人")


def test_durations_and_timestamps():
    assert parse_duration("23:56") == 23 * 60 + 56
    assert parse_duration("1:02:03") == 3723
    assert parse_duration("22分5秒") == 1325
    assert parse_duration("1時間") == 3600
    with pytest.raises(ValueProblem):
        parse_duration("すぐ")
    tokyo = ZoneInfo("Asia/Tokyo")
    assert parse_timestamp("2022/03/11 11:40:05", tokyo) == dt.datetime(
        2022, 3, 11, 2, 40, 5, tzinfo=dt.UTC
    )
    assert parse_timestamp("2022/03/11 11:40:05 GMT+9", tokyo).hour == 11
    assert parse_timestamp("2022年3月11日 11:40", tokyo).minute == 40
    with pytest.raises(ValueProblem):
        parse_timestamp("2022/13/45 99:99:99", tokyo)


def test_google_forms_export_parses_cleanly():
    parsed = parse_export(read_table(SAMPLES / "google_forms_drill_2022.csv"), DRILL)
    assert parsed.report.ok and not parsed.report.warnings
    assert len(parsed.responses) == 24
    first = parsed.responses[0]
    assert (first.participant_type, first.age_band, first.sex) == ("resident", "70plus", "female")
    assert first.answers["share_targets"] == (None, "family;workplace;medical_care")
    assert first.answers["evac_duration"] == (23 * 60 + 56, None)
    assert first.submitted_at == dt.datetime(2022, 3, 11, 2, 40, 5, tzinfo=dt.UTC)


def test_kobo_and_ms_forms_exports():
    kobo = parse_export(read_table(SAMPLES / "kobo_drill_2022.csv"), DRILL)
    assert kobo.report.ok and len(kobo.responses) == 8
    assert kobo.responses[0].respondent_key == "kobo:3f2c9a1e-5b7d-4c1a-9e0f-000000000000"
    # _submission_time is UTC in Kobo exports
    assert kobo.responses[0].submitted_at == dt.datetime(2022, 3, 11, 2, 45, 5, tzinfo=dt.UTC)
    assert kobo.responses[0].answers["share_targets"] == (None, "family;workplace")
    ms = parse_export(read_table(SAMPLES / "ms_forms_drill_2022.xlsx"), DRILL)
    assert ms.report.ok and len(ms.responses) == 10
    assert all(r.respondent_key.startswith("msf:") for r in ms.responses)


def test_the_bad_export_report_names_file_row_and_column():
    parsed = parse_export(read_table(SAMPLES / "bad_google_forms_drill_2022.csv"), DRILL)
    name = "bad_google_forms_drill_2022.csv"
    errors = parsed.report.lines("error")
    assert errors == [
        f"{name}:3:情報ごとに提供するかどうかを自分で選べることが分かった: '6' is out of range 1–5",
        f"{name}:4:年代: '80代以上の方' is not one of the options "
        "(20歳未満、20代、30代、40代、50代、60代、70代以上)",
        f"{name}:5:避難開始から避難場所到着までの時間: 'すぐ' is not a duration "
        "(seconds, m:ss, h:mm:ss or 分・秒)",
        f"{name}:6:メールアドレス: duplicate respondent: same respondent as row 2 "
        "(set on_duplicate in a mapping file to keep one)",
        f"{name}:7:タイムスタンプ: '2022/13/45 99:99:99' is not a date and time",
    ]
    warnings = parsed.report.lines("warning")
    assert f"{name}:1:備考欄: unknown column (ignored)" in warnings
    assert any(w.startswith(f"{name}:8:-: straight-lining") for w in warnings)
    codes = parsed.report.counts()
    assert codes["duplicate_respondent"] == 1 and codes["straight_lining"] == 1
    # e-mail addresses are never kept: the key is a hash
    assert all("@" not in r.respondent_key for r in parsed.responses)


def test_duplicates_can_be_resolved_by_a_mapping():
    text = (
        "タイムスタンプ,メールアドレス,年代\n"
        "2022/03/11 10:00:00,a@example.jp,20代\n"
        "2022/03/11 11:00:00,a@example.jp,30代\n"
    )
    table = read_table_text(text, "d.csv")
    known = {i.id for i in DRILL.items}
    last = parse_export(table, DRILL, parse_mapping({"on_duplicate": "keep_last"}, "m", known))
    assert last.report.ok and [r.age_band for r in last.responses] == ["30s"]
    first = parse_export(table, DRILL, parse_mapping({"on_duplicate": "keep_first"}, "m", known))
    assert [r.age_band for r in first.responses] == ["20s"]
    assert not parse_export(table, DRILL).report.ok


def test_columns_by_id_alias_grid_brackets_and_two_columns_for_one_item():
    text = (
        "Timestamp,age_band,ご意見 [その他ご意見・ご感想],年代\n"
        "2022/03/11 10:00:00,20代,良い,30代\n"
    )
    parsed = parse_export(read_table_text(text, "g.csv"), DRILL)
    assert parsed.report.matched_columns["ご意見 [その他ご意見・ご感想]"] == "comment_free"
    assert [p.code for p in parsed.report.errors] == ["duplicate_column"]


def test_nothing_matched_is_an_error_and_empty_rows_are_skipped():
    parsed = parse_export(read_table_text("foo,bar\n1,2\n", "n.csv"), SUS)
    assert [p.code for p in parsed.report.errors] == ["no_items"]
    text = "タイムスタンプ,年代\n2022/03/11 10:00:00,\n2022/03/11 10:01:00,20代\n"
    parsed = parse_export(read_table_text(text, "e.csv"), DRILL)
    assert parsed.report.ok and len(parsed.responses) == 1
    assert parsed.report.counts()["empty_row"] == 1


def test_mapping_file_columns_and_values():
    text = "回答番号,Q1,Q2\nR1,かなり,2\n"
    known = {i.id for i in SUS.items}
    mapping = parse_mapping(
        {
            "respondent_key": "回答番号",
            "columns": {"Q1": "sus01", "Q2": "sus02"},
            "values": {"sus01": {"かなり": 4}},
        },
        "m.yaml",
        known,
    )
    parsed = parse_export(read_table_text(text, "q.csv"), SUS, mapping)
    assert parsed.report.ok
    assert parsed.responses[0].respondent_key == "row:R1"
    assert parsed.responses[0].answers == {"sus01": (4.0, None), "sus02": (2.0, None)}


def test_microsoft_forms_csv_export():
    text = (
        "ID,開始時刻,完了時刻,メール,名前,年代,アプリの操作は簡単だった,"
        "安否情報を共有したい相手（複数選択可）\n"
        "1,2022/3/11 10:00:00,2022/3/11 10:05:12,anonymous,,70代以上,とてもそう思う,家族;町内会;\n"
        "2,3/11/22 10:01:00,3/11/22 10:07:40,anonymous,,20代,2,家族;\n"
    )
    parsed = parse_export(read_table_text(text, "forms.csv"), DRILL)
    assert parsed.report.source_format == "ms_forms" and parsed.report.ok
    assert [r.respondent_key for r in parsed.responses] == ["msf:1", "msf:2"]
    assert parsed.responses[0].answers["share_targets"] == (None, "family;neighbourhood")
    assert parsed.responses[1].submitted_at == dt.datetime(2022, 3, 11, 1, 7, 40, tzinfo=dt.UTC)
    assert not any(p.code == "unknown_column" for p in parsed.report.problems)


def test_a_value_repeated_in_many_rows_is_reported_in_each_row_in_row_then_column_order():
    """Each distinct answer of a column is parsed once; its problem is still reported for
    every row it is in, row by row, the answers' columns in file order before the time stamp."""
    text = (
        "タイムスタンプ,アプリの操作は簡単だった,文字やアイコンは見やすかった,年代\n"
        "2022/03/11 10:00:00,6,6,20代\n"
        "2022/03/11 10:01:00,4,4,20代\n"
        "2022/13/45 99:99:99,6,とても,30代\n"
        "2022/03/11 10:03:00,5,6,20代\n"
    )
    parsed = parse_export(read_table_text(text, "r.csv"), DRILL)
    assert parsed.report.lines("error") == [
        "r.csv:2:アプリの操作は簡単だった: '6' is out of range 1–5",
        "r.csv:2:文字やアイコンは見やすかった: '6' is out of range 1–5",
        "r.csv:4:アプリの操作は簡単だった: '6' is out of range 1–5",
        "r.csv:4:文字やアイコンは見やすかった: 'とても' is not an answer on the 5-point scale",
        "r.csv:4:タイムスタンプ: '2022/13/45 99:99:99' is not a date and time",
        "r.csv:5:文字やアイコンは見やすかった: '6' is out of range 1–5",
    ]
    assert [p.code for p in parsed.report.errors] == [
        "out_of_range",
        "out_of_range",
        "out_of_range",
        "unparseable",
        "bad_timestamp",
        "out_of_range",
    ]
    # The rows' good answers are kept as parsed (the import is refused as a whole).
    assert [r.answers.get("ui_easy") for r in parsed.responses] == [
        None,
        (4.0, None),
        None,
        (5.0, None),
    ]
    assert [r.answers["age_band"] for r in parsed.responses] == [(None, "20s")] * 2 + [
        (None, "30s"),
        (None, "20s"),
    ]
