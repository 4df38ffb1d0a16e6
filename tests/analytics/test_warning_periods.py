"""Warning periods from JMA telegrams: each telegram states the whole current set."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.warning_periods import timeline_frame, warning_level, warning_periods

T = dt.datetime(2026, 7, 9, 17, 0, tzinfo=dt.UTC)


def history(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "telegram_id": tid,
                "report_time": T + dt.timedelta(minutes=minutes),
                "area_code": area,
                "area_name": "会津若松市",
                "kind_code": code,
                "kind_name": name,
                "status": status,
            }
            for tid, minutes, area, code, name, status in rows
        ]
    )


def test_a_kind_ends_when_lifted_or_no_longer_listed():
    frame = history(
        [
            (1, 0, "A", "10", "大雨注意報", "発表"),
            (1, 0, "A", "14", "雷注意報", "発表"),
            (2, 60, "A", "10", "大雨注意報", "継続"),
            (2, 60, "A", "14", "雷注意報", "解除"),
            (3, 90, "A", "00", "", "発表警報・注意報はなし"),
            (4, 150, "A", "10", "大雨注意報", "発表"),
        ]
    )
    periods = warning_periods(frame.sample(frac=1, random_state=3))  # any input order
    got = [
        (p.kind_code, p.start, None if pd.isna(p.end) else p.end, p.telegrams)
        for p in periods.itertuples()
    ]
    assert got == [
        ("10", T, T + dt.timedelta(minutes=90), 2),
        ("14", T, T + dt.timedelta(minutes=60), 1),
        ("10", T + dt.timedelta(minutes=150), None, 1),
    ]


def test_a_telegram_for_one_area_leaves_other_areas_alone():
    frame = history(
        [
            (1, 0, "A", "03", "大雨警報", "発表"),
            (2, 10, "B", "03", "大雨警報", "発表"),
            (3, 20, "A", "03", "大雨警報", "解除"),
        ]
    )
    periods = warning_periods(frame)
    ends = {p.area_code: p.end for p in periods.itertuples()}
    assert ends["A"] == T + dt.timedelta(minutes=20)
    assert pd.isna(ends["B"])


def test_levels_and_the_timeline_of_open_periods():
    assert [warning_level(n) for n in ("大雨特別警報", "洪水警報", "雷注意報", "")] == [
        "emergency",
        "warning",
        "advisory",
        "advisory",
    ]
    periods = warning_periods(history([(1, 0, "A", "33", "大雨特別警報", "発表")]))
    assert periods.iloc[0].level == "emergency"
    until = T + dt.timedelta(hours=2)
    shown = timeline_frame(periods, until)
    assert bool(shown.iloc[0].in_force) and shown.iloc[0].end_shown == pd.Timestamp(until)
    assert warning_periods(history([])).empty
