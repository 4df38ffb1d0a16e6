"""Trigger → issuance → notification opened → safe, per evacuation decision (issue 17).

For a drill (or an incident), each decision HQ took gets one row: minutes from the rules'
trigger to the issuance (None when decided by hand), then, among the citizens its push
reached, how many opened it and the median minutes from the issuance to the opening, and how
many reported themselves safe afterwards and the median minutes to that. Times are whole
minutes to one decimal; a median is None when nobody reached the stage.

>>> import datetime as dt, pandas as pd
>>> t0 = dt.datetime(2026, 7, 10, 4, 0, tzinfo=dt.UTC)
>>> decisions = pd.DataFrame({"decision_key": ["d1"], "action": ["issue"], "level": [3],
...     "areas": [2], "issued_at": [t0],
...     "trigger": [{"triggered_at": (t0 - dt.timedelta(minutes=4)).isoformat()}]})
>>> responses = pd.DataFrame({"decision_key": ["d1", "d1", "d1"],
...     "opened_at": [t0 + dt.timedelta(minutes=2), t0 + dt.timedelta(minutes=6), None],
...     "safe_at": [t0 + dt.timedelta(minutes=20), None, None]})
>>> row = response_times(decisions, responses).iloc[0].to_dict()
>>> [row[k] for k in ("trigger_to_issue_min", "reached", "opened", "issue_to_opened_median_min")]
[4.0, 3, 2, 4.0]
>>> row["safe"], row["issue_to_safe_median_min"]
(1, 20.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: How the city responded to one decision: minutes from the trigger to the issuance, people
#: reached, who opened it (median minutes from the issuance), who were safe (likewise).
RESPONSE_FIGURES = (
    "trigger_to_issue_min",
    "reached",
    "opened",
    "issue_to_opened_median_min",
    "safe",
    "issue_to_safe_median_min",
)
RESPONSE_COLUMNS = ("decision_key", "action", "level", "areas", "issued_at", *RESPONSE_FIGURES)


def _utc(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")


def _trigger_minutes(trigger: Any, issued_at: pd.Timestamp) -> float | None:
    reached = trigger.get("triggered_at") if isinstance(trigger, dict) else None
    if not reached:
        return None
    return round((issued_at - pd.Timestamp(reached).tz_convert("UTC")).total_seconds() / 60, 1)


def _median_minutes(times: pd.Series, issued_at: pd.Timestamp) -> float | None:
    minutes = (times.dropna() - issued_at).dt.total_seconds().to_numpy() / 60
    return None if minutes.size == 0 else round(float(np.median(minutes)), 1)


def response_times(decisions: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """One row per decision (oldest first) with :data:`RESPONSE_COLUMNS`.

    ``decisions``: ``decision_key``, ``action``, ``level``, ``areas`` (count), ``issued_at``,
    ``trigger`` (the issuance's trigger: ``triggered_at`` ISO time, or None). ``responses``:
    one row per citizen a decision's push reached — ``decision_key``, ``opened_at``,
    ``safe_at`` (missing when it did not happen).
    """
    if decisions.empty:
        return pd.DataFrame(columns=list(RESPONSE_COLUMNS))
    responses = responses.assign(
        opened_at=_utc(responses["opened_at"]), safe_at=_utc(responses["safe_at"])
    )
    groups = {key: part for key, part in responses.groupby("decision_key")}
    empty = responses.iloc[0:0]
    rows = []
    for d in decisions.assign(issued_at=_utc(decisions["issued_at"])).itertuples(index=False):
        part = groups.get(d.decision_key, empty)
        rows.append(
            {
                "decision_key": d.decision_key,
                "action": d.action,
                "level": None if pd.isna(d.level) else int(d.level),
                "areas": int(d.areas),
                "issued_at": d.issued_at,
                "trigger_to_issue_min": _trigger_minutes(d.trigger, d.issued_at),
                "reached": len(part),
                "opened": int(part["opened_at"].notna().sum()),
                "issue_to_opened_median_min": _median_minutes(part["opened_at"], d.issued_at),
                "safe": int(part["safe_at"].notna().sum()),
                "issue_to_safe_median_min": _median_minutes(part["safe_at"], d.issued_at),
            }
        )
    out = pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))
    return out.sort_values("issued_at", kind="stable").reset_index(drop=True)
