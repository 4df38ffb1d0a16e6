"""Single values as Japanese municipal data writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from bosai.spreadsheet_safe import safe_text
from importers.field_values import parse_capacity, parse_count, parse_hazard_flag
from importers.japanese_datetime import parse_japanese_datetime
from importers.municipality_codes import (
    municipality_code_from_gsi_id,
    normalise_municipality_code,
)
from importers.problems import FieldError, FileRejected
from importers.text_encoding import decode_text

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "indoor"),
    [
        ("屋内480人／屋外3,350人(面積の1/2)", 480),
        ("屋内１，２００人／屋外０人", 1200),
        ("480", 480),
        ("約480人", 480),
        ("1,700人", 1700),
        ("屋外3,350人", None),
        ("120人・200人", None),
        ("未定", None),
    ],
)
def test_capacity_keeps_the_indoor_figure_and_the_text(text, indoor):
    assert parse_capacity(text) == (indoor, text)


def test_capacity_empty_and_refused():
    assert parse_capacity("  ") == (None, None)
    with pytest.raises(FieldError, match="制御文字"):
        parse_capacity("480\x00人")


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("1.0", True), ("○", True), ("〇", True), ("△", True), ("１", True)]
    + [("", False), (None, False), ("0", False), ("×", False), ("-", False)],
)
def test_hazard_flag_spellings(raw, value):
    assert parse_hazard_flag(raw) is value


def test_unknown_hazard_flag_is_refused_with_the_value():
    with pytest.raises(FieldError, match='"yes"'):
        parse_hazard_flag("yes")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("令和6年1月9日午後6時", dt.datetime(2024, 1, 9, 9, 0, tzinfo=UTC)),
        ("令和6年5月29日正午", dt.datetime(2024, 5, 29, 3, 0, tzinfo=UTC)),
        ("令和6年8月31日午後1時30分", dt.datetime(2024, 8, 31, 4, 30, tzinfo=UTC)),
        ("令和6年1月12日午前6時半", dt.datetime(2024, 1, 11, 21, 30, tzinfo=UTC)),
        ("令和元年5月1日", dt.datetime(2019, 4, 30, 15, 0, tzinfo=UTC)),
        ("２０２４年１月９日１８時", dt.datetime(2024, 1, 9, 9, 0, tzinfo=UTC)),
        ("2024-01-09T18:00:00+09:00", dt.datetime(2024, 1, 9, 9, 0, tzinfo=UTC)),
        ("2024/01/09 18:00", dt.datetime(2024, 1, 9, 9, 0, tzinfo=UTC)),
    ],
)
def test_japanese_datetimes_become_utc(raw, expected):
    assert parse_japanese_datetime(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("令和6年2月30日", "存在しない日時"),
        ("令和6年1月9日午後13時", "存在しない日時"),
        ("きのうの夕方", "日時として読めません"),
    ],
)
def test_impossible_or_unreadable_datetimes(raw, reason):
    with pytest.raises(FieldError, match=reason):
        parse_japanese_datetime(raw)


def test_head_counts():
    assert parse_count("1,234") == 1234 and parse_count("１２") == 12 and parse_count("7.0") == 7
    for bad in ("-5", "3.5", "多数"):
        with pytest.raises(FieldError, match="0 以上の整数"):
            parse_count(bad)


def test_municipality_codes():
    assert normalise_municipality_code("07202") == "072028"
    assert normalise_municipality_code("72028") == "072028"  # lost its leading zero
    assert normalise_municipality_code("172022") == "172022"
    assert normalise_municipality_code("172023") is None  # wrong check digit
    assert municipality_code_from_gsi_id("E0720200001201") == "072028"


def test_encodings():
    text = "ID,名称\n1,鶴ヶ城公園\n"
    assert decode_text(text.encode("utf-8"), "f") == (text, "utf-8")
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8"), "f") == (text, "utf-8-sig")
    assert decode_text(text.encode("cp932"), "f") == (text, "cp932")
    assert decode_text("①髙".encode("cp932"), "f") == ("①髙", "cp932")  # CP932 extensions
    with pytest.raises(FileRejected, match="EUC-JP"):
        decode_text(text.encode("euc_jp"), "f")


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+81", "'+81"),
        ("-5", "'-5"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("鶴ヶ城", "鶴ヶ城"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_spreadsheet_safe(value, safe):
    assert safe_text(value) == safe
