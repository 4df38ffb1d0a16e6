"""Japanese dates and times: 和暦 (Japanese era) and Asia/Tokyo display.

Times are stored in UTC and shown in the city's timezone (Asia/Tokyo by default).

>>> import datetime as dt
>>> wareki(dt.date(2022, 3, 11))
'令和4年3月11日'
>>> wareki(dt.date(2019, 5, 1))
'令和元年5月1日'
>>> wareki(dt.date(2019, 4, 30))
'平成31年4月30日'
>>> seireki(dt.date(2022, 3, 11))
'2022年3月11日'
>>> jst(dt.datetime(2022, 3, 11, 1, 30, tzinfo=dt.UTC)).hour
10
>>> file_stamp(dt.datetime(2026, 7, 9, 19, 30, tzinfo=dt.UTC))
'20260710_0430'
>>> moment_label(dt.datetime(2026, 7, 9, 19, 30, tzinfo=dt.UTC))
'7月10日 04:30'
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

#: (first day, era name) newest first.
ERAS: tuple[tuple[dt.date, str, str], ...] = (
    (dt.date(2019, 5, 1), "令和", "Reiwa"),
    (dt.date(1989, 1, 8), "平成", "Heisei"),
    (dt.date(1926, 12, 25), "昭和", "Showa"),
    (dt.date(1912, 7, 30), "大正", "Taisho"),
    (dt.date(1873, 1, 1), "明治", "Meiji"),
)
WEEKDAYS_JA = "月火水木金土日"


def jst(value: dt.datetime, tz: ZoneInfo = TOKYO) -> dt.datetime:
    """``value`` in the display timezone (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz)


def era(day: dt.date) -> tuple[str, int]:
    """The era name and year of ``day`` (e.g. ``("令和", 4)``)."""
    for first, name, _ in ERAS:
        if day >= first:
            return name, day.year - first.year + 1
    raise ValueError(f"{day} is before the Meiji era's calendar (1873)")


def wareki(day: dt.date | dt.datetime, weekday: bool = False) -> str:
    """A date in the Japanese era, as officials write it: 令和4年3月11日 (元年 for year 1)."""
    if isinstance(day, dt.datetime):
        day = jst(day).date()
    name, year = era(day)
    year_text = "元" if year == 1 else str(year)
    text = f"{name}{year_text}年{day.month}月{day.day}日"
    if weekday:
        text += f"（{WEEKDAYS_JA[day.weekday()]}）"
    return text


def seireki(day: dt.date | dt.datetime) -> str:
    """A Western-calendar date in Japanese style: 2022年3月11日."""
    if isinstance(day, dt.datetime):
        day = jst(day).date()
    return f"{day.year}年{day.month}月{day.day}日"


def wareki_datetime(value: dt.datetime) -> str:
    """令和4年3月11日 14:46 (Asia/Tokyo)."""
    local = jst(value)
    return f"{wareki(local.date())} {local:%H:%M}"


def clock(value: dt.datetime, seconds: bool = True) -> str:
    """HH:MM:SS (or HH:MM) in Asia/Tokyo."""
    local = jst(value)
    return local.strftime("%H:%M:%S" if seconds else "%H:%M")


def format_datetime(value: dt.datetime | None, lang: str = "ja", era_style: bool = True) -> str:
    """A timestamp for pages and tables, in one style: ``令和4年3月11日 14:46`` (ja, 和暦 — the
    dashboard is read by city officials) or ``2022年3月11日 14:46`` with ``era_style=False``
    (a citizen's own report); ``2022-03-11 14:46 JST`` (en)."""
    if value is None:
        return "—"
    local = jst(value)
    if lang == "en":
        return f"{local:%Y-%m-%d %H:%M} JST"
    day = wareki(local.date()) if era_style else seireki(local.date())
    return f"{day} {local:%H:%M}"


def moment_label(value: dt.datetime, lang: str = "ja") -> str:
    """A moment within an incident, short (a slider's steps): ``7月10日 04:30`` / ``Jul 10 04:30``."""
    local = jst(value)
    if lang == "en":
        return f"{local:%b} {local.day} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def file_stamp(value: dt.datetime) -> str:
    """Japan time for a file name: ``20260710_0430``."""
    return f"{jst(value):%Y%m%d_%H%M}"


def jst_naive(values) -> list[dt.datetime]:
    """Times for a chart's axis in Japan time, naive: plotly shows a time as it is written, so an
    aware UTC time would be drawn as UTC ("Jul 9 19:30" for 7月10日 04:30)."""
    import pandas as pd

    return [jst(pd.Timestamp(v).to_pydatetime()).replace(tzinfo=None) for v in values]


#: Tick and hover formats of a time axis (d3 time format; the values are already Japan time).
TIME_AXIS_FORMATS = {
    "ja": {"tickformat": "%H:%M<br>%-m月%-d日", "hoverformat": "%-m月%-d日 %H:%M"},
    "en": {"tickformat": "%H:%M<br>%b %-d", "hoverformat": "%b %-d %H:%M JST"},
}
