"""Japanese dates: era boundaries as officials write them."""

import datetime as dt

import pytest

from bosai.jpdate import (
    clock,
    file_stamp,
    format_datetime,
    jst_naive,
    moment_label,
    seireki,
    wareki,
    wareki_datetime,
)


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2022, 3, 11), "令和4年3月11日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(2011, 3, 11), "平成23年3月11日"),
        (dt.date(2026, 11, 25), "令和8年11月25日"),
    ],
)
def test_wareki(day, expected):
    assert wareki(day) == expected


def test_a_utc_time_is_shown_on_its_tokyo_date():
    late = dt.datetime(2022, 3, 10, 16, 30, tzinfo=dt.UTC)  # 01:30 on 11 March in Tokyo
    assert wareki(late) == "令和4年3月11日"
    assert seireki(late) == "2022年3月11日"
    assert wareki_datetime(late) == "令和4年3月11日 01:30"
    assert clock(late) == "01:30:00"


def test_weekday_and_table_formats():
    assert wareki(dt.date(2022, 3, 11), weekday=True) == "令和4年3月11日（金）"
    when = dt.datetime(2022, 3, 11, 5, 46, tzinfo=dt.UTC)
    # One style on every page: 和暦, as the city's officials read dates.
    assert format_datetime(when) == "令和4年3月11日 14:46"
    assert format_datetime(when, "en") == "2022-03-11 14:46 JST"
    assert format_datetime(when, era_style=False) == "2022年3月11日 14:46"
    assert format_datetime(None) == "—"


def test_file_names_charts_and_sliders_are_in_japan_time():
    late = dt.datetime(2026, 7, 9, 19, 30, tzinfo=dt.UTC)  # 7月10日 04:30 in Tokyo
    assert file_stamp(late) == "20260710_0430"
    assert moment_label(late) == "7月10日 04:30"
    assert moment_label(late, "en") == "Jul 10 04:30"
    assert jst_naive([late]) == [dt.datetime(2026, 7, 10, 4, 30)]
