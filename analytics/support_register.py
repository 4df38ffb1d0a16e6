"""The evacuation-support register (要支援者) as staff work through it: unconfirmed first,
longest without contact first, filtered by district and status.

The rows come from :func:`sql.policy.register_people` (already limited to what the viewer may
see); these functions only order, filter and add the time since the last contact.

>>> import pandas as pd, datetime as dt
>>> t0 = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
>>> people = pd.DataFrame({"citizen_id": [1, 2, 3, 4],
...     "district": ["北", "南", "北", "北"],
...     "state": ["safe_at_home", None, "injured", "evacuating"],
...     "last_contact_at": [t0 - dt.timedelta(minutes=5), None,
...                         t0 - dt.timedelta(minutes=90), t0 - dt.timedelta(minutes=30)]})
>>> board = work_order(people, t0)
>>> board[["citizen_id", "status", "minutes_since_contact"]].to_dict("records")
[{'citizen_id': 2, 'status': 'no_report', 'minutes_since_contact': nan}, {'citizen_id': 3, 'status': 'injured', 'minutes_since_contact': 90.0}, {'citizen_id': 4, 'status': 'evacuating', 'minutes_since_contact': 30.0}, {'citizen_id': 1, 'status': 'safe_at_home', 'minutes_since_contact': 5.0}]
>>> select(board, districts=["北"], statuses=["injured", "safe_at_home"])["citizen_id"].tolist()
[3, 1]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bosai.vocab import SAFE_STATES

#: Status of a register person who has not answered in the incident.
NO_REPORT = "no_report"


def reference_time(
    now: dt.datetime, newest_data: dt.datetime | None, synthetic: bool
) -> dt.datetime:
    """The moment "time since last contact" is counted to.

    Live data: now. A synthetic (demo) incident is a fixed moment in the past or future, so
    its clock is the newest data it holds.

    Examples
    --------
    >>> import datetime as dt
    >>> now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    >>> demo = dt.datetime(2026, 7, 10, 3, tzinfo=dt.UTC)
    >>> reference_time(now, demo, synthetic=True) == demo, reference_time(now, demo, False) == now
    (True, True)
    """
    if synthetic and newest_data is not None:
        return newest_data
    return now


def minutes_since(moments: pd.Series, as_of: dt.datetime) -> pd.Series:
    """Whole minutes from each moment to ``as_of`` (never negative; NaN where missing).

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> t = dt.datetime(2026, 7, 10, 3, tzinfo=dt.UTC)
    >>> minutes_since(pd.Series([t - dt.timedelta(seconds=150), None]), t).tolist()
    [2.0, nan]
    """
    times = pd.to_datetime(moments, utc=True)
    minutes = (pd.Timestamp(as_of) - times).dt.total_seconds() // 60
    return minutes.clip(lower=0).astype(float)


def work_order(people: pd.DataFrame, as_of: dt.datetime) -> pd.DataFrame:
    """Register rows in the order staff work through them.

    Parameters
    ----------
    people
        Rows with ``state`` (None = no answer) and ``last_contact_at``.
    as_of
        The moment the time since last contact is counted to (:func:`reference_time`).

    Returns
    -------
    pandas.DataFrame
        The rows with ``status`` (the state, or ``"no_report"``), ``confirmed`` (a safe state)
        and ``minutes_since_contact`` (NaN without contact), sorted: not confirmed safe first;
        within each, never contacted first, then the longest since the last contact.
    """
    out = people.copy()
    out["status"] = out["state"].where(out["state"].notna(), NO_REPORT)
    out["confirmed"] = out["state"].isin(SAFE_STATES)
    out["minutes_since_contact"] = minutes_since(out["last_contact_at"], as_of)
    never = out["minutes_since_contact"].isna()
    waited = out["minutes_since_contact"].fillna(np.inf)
    out = out.assign(_never=~never, _waited=-waited)
    keys = ["confirmed", "_never", "_waited"]
    if "citizen_id" in out:
        keys.append("citizen_id")
    out = out.sort_values(keys, kind="stable").drop(columns=["_never", "_waited"])
    return out.reset_index(drop=True)


def select(
    board: pd.DataFrame,
    districts: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The rows of a :func:`work_order` board in the chosen districts and statuses (an empty
    or missing choice keeps every row)."""
    keep = pd.Series(True, index=board.index)
    districts = list(districts or [])
    statuses = list(statuses or [])
    if districts:
        keep &= board["district"].isin(districts)
    if statuses:
        keep &= board["status"].isin(statuses)
    return board[keep].reset_index(drop=True)
