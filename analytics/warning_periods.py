"""JMA warnings over time: when each warning or advisory was in force, from the telegrams.

A JMA warnings telegram states the *whole* current set for an area: a kind that the next
telegram no longer lists, or lists as lifted (解除), has ended at that telegram's time. So the
history (one row per telegram × kind, as from ``sql.queries.hazards.warning_history``) becomes
one period per stretch of consecutive telegrams listing a kind in force.

>>> import datetime as dt, pandas as pd
>>> t = lambda h: dt.datetime(2026, 7, 9, h, tzinfo=dt.UTC)
>>> history = pd.DataFrame({
...     "telegram_id": [1, 1, 2, 2, 3, 3],
...     "report_time": [t(17), t(17), t(18), t(18), t(20), t(20)],
...     "area_code": ["0720200"] * 6,
...     "kind_code": ["10", "18", "03", "18", "03", "04"],
...     "kind_name": ["大雨注意報", "洪水注意報", "大雨警報", "洪水注意報", "大雨警報", "洪水警報"],
...     "status": ["発表", "発表", "注意報から警報", "継続", "継続", "注意報から警報"]})
>>> periods = warning_periods(history)
>>> [(p.kind_name, p.start.hour, None if pd.isna(p.end) else p.end.hour, p.level)
...  for p in periods.itertuples()]
[('大雨注意報', 17, 18, 'advisory'), ('洪水注意報', 17, 20, 'advisory'), ('大雨警報', 18, None, 'warning'), ('洪水警報', 20, None, 'warning')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

#: Statuses that mean "not in force" (as ``sql.queries.hazards.ENDED_STATUSES``).
ENDED_STATUSES = ("解除", "発表警報・注意報はなし")
LEVELS = ("advisory", "warning", "emergency")
PERIOD_COLUMNS = (
    "area_code",
    "area_name",
    "kind_code",
    "kind_name",
    "level",
    "start",
    "end",
    "last_status",
    "telegrams",
)


def warning_level(kind_name: str) -> str:
    """``emergency`` (特別警報), ``warning`` (警報) or ``advisory`` (注意報) from the kind's name.

    Examples
    --------
    >>> warning_level("大雨特別警報"), warning_level("洪水警報"), warning_level("雷注意報")
    ('emergency', 'warning', 'advisory')
    """
    name = str(kind_name)
    if "特別警報" in name:
        return "emergency"
    if name.endswith("警報"):
        return "warning"
    return "advisory"


def warning_periods(
    history: pd.DataFrame, ended_statuses: Iterable[str] = ENDED_STATUSES
) -> pd.DataFrame:
    """One row per stretch in which a warning kind was in force for an area.

    Parameters
    ----------
    history
        Rows with ``telegram_id``, ``report_time``, ``area_code``, ``kind_code``,
        ``kind_name``, ``status`` (and ``area_name`` when known), in any order.
    ended_statuses
        Statuses meaning the kind is not in force.

    Returns
    -------
    pandas.DataFrame
        ``area_code``, ``area_name``, ``kind_code``, ``kind_name`` (the latest name),
        ``level`` (:func:`warning_level`), ``start`` (the telegram that first listed it),
        ``end`` (the telegram that no longer listed it or lifted it; NaT while in force),
        ``last_status`` and ``telegrams`` (how many telegrams listed it), ordered by start.
    """
    if history.empty:
        return pd.DataFrame(columns=list(PERIOD_COLUMNS))
    ended = set(ended_statuses)
    frame = history.copy()
    if "area_name" not in frame:
        frame["area_name"] = None
    frame["report_time"] = pd.to_datetime(frame["report_time"], utc=True)
    telegrams = (
        frame[["telegram_id", "report_time", "area_code"]]
        .drop_duplicates("telegram_id")
        .sort_values(["report_time", "telegram_id"])
    )
    periods: list[dict] = []
    open_now: dict[tuple[str, str], dict] = {}
    for telegram in telegrams.itertuples(index=False):
        rows = frame[frame["telegram_id"] == telegram.telegram_id]
        listed = {}
        for row in rows.itertuples(index=False):
            if row.status not in ended:
                listed[(row.area_code, row.kind_code)] = row
        # A telegram speaks for its area: kinds of that area it no longer lists have ended.
        for key in [k for k in open_now if k[0] == telegram.area_code and k not in listed]:
            period = open_now.pop(key)
            period["end"] = telegram.report_time
            periods.append(period)
        for key, row in listed.items():
            period = open_now.get(key)
            if period is None:
                period = open_now[key] = {
                    "area_code": row.area_code,
                    "area_name": row.area_name,
                    "kind_code": row.kind_code,
                    "start": telegram.report_time,
                    "end": pd.NaT,
                    "telegrams": 0,
                }
            period["kind_name"] = row.kind_name
            period["level"] = warning_level(row.kind_name)
            period["last_status"] = row.status
            period["telegrams"] += 1
    periods.extend(open_now.values())
    out = pd.DataFrame(periods, columns=list(PERIOD_COLUMNS))
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out.sort_values(["start", "kind_code"], kind="stable").reset_index(drop=True)


def timeline_frame(periods: pd.DataFrame, until: dt.datetime) -> pd.DataFrame:
    """Periods ready for a timeline chart: open periods drawn up to ``until``
    (``end_shown``), and ``in_force`` telling which ones are still open.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> p = pd.DataFrame({"start": pd.to_datetime(["2026-07-09T17:00Z"]), "end": [pd.NaT]})
    >>> timeline_frame(p, dt.datetime(2026, 7, 9, 21, tzinfo=dt.UTC))[["in_force"]].to_dict("records")
    [{'in_force': True}]
    """
    out = periods.copy()
    out["in_force"] = out["end"].isna()
    until_ts = pd.Timestamp(until)
    out["end_shown"] = pd.to_datetime(out["end"], utc=True).fillna(until_ts)
    # A period that started after ``until`` (clock skew) is still drawn as a sliver.
    out["end_shown"] = out[["end_shown", "start"]].max(axis=1)
    return out
