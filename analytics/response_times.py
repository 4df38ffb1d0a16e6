"""Rescue requests over an incident: how fast they were answered, how many were open when.

Input: one row per request with ``priority``, ``requested_at`` and the first time it reached
each status (``triaged_at``, ``assigned_at``, ``en_route_at``, ``resolved_at``,
``cancelled_at``; missing if never) — :func:`sql.queries.report_figures.rescue_timeline`.

* **Time to assignment**: minutes from the request to the first time a team was assigned
  (``assigned_at``; a request that went straight to a later status counts from that status).
* **Time to resolution**: minutes from the request to ``resolved_at``.
* A request is **open** at a moment when it was made by then and was neither resolved nor
  cancelled by then.

Statistics are over the requests that reached the stage by the reference time (requests still
waiting are counted as such, not given a time): ``n``, median, 90th percentile (linear
interpolation, as ``numpy.percentile``), mean.

>>> import pandas as pd
>>> t0 = pd.Timestamp("2026-07-10 04:00", tz="UTC")
>>> m = pd.Timedelta(minutes=1)
>>> frame = pd.DataFrame({
...     "priority": ["high", "high", "low"],
...     "requested_at": [t0, t0 + 10 * m, t0 + 20 * m],
...     "assigned_at": [t0 + 5 * m, t0 + 40 * m, pd.NaT],
...     "resolved_at": [t0 + 60 * m, pd.NaT, pd.NaT],
... })
>>> response_minutes(frame)[["to_assignment", "to_resolution"]].values.tolist()
[[5.0, 60.0], [30.0, nan], [nan, nan]]
>>> row = response_summary(frame).iloc[0]
>>> row["priority"], int(row["requests"]), float(row["assignment_median_min"])
('all', 3, 17.5)
>>> open_requests(frame, t0 + 30 * m), open_requests(frame, t0 + 60 * m)
(3, 2)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

PRIORITIES = ("high", "medium", "low")
#: Statuses after assignment: reaching one of them means a team was assigned by then.
ASSIGNED_OR_LATER = ("assigned_at", "en_route_at", "resolved_at")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return pd.to_datetime(frame[name], utc=True)
    return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")


def _cut(times: pd.Series, until: dt.datetime | None) -> pd.Series:
    return times if until is None else times.where(times <= pd.Timestamp(until))


def response_minutes(frame: pd.DataFrame, until: dt.datetime | None = None) -> pd.DataFrame:
    """Minutes to assignment and to resolution per request, as known at ``until``.

    Parameters
    ----------
    frame
        One row per request (see the module docs).
    until
        Reference time; stages reached later count as not reached. ``None``: everything.

    Returns
    -------
    pandas.DataFrame
        ``priority, requested_at, to_assignment, to_resolution, closed`` (``closed``: resolved
        or cancelled by ``until``), one row per request made by ``until``.
    """
    requested = _column(frame, "requested_at")
    keep = requested.notna() if until is None else requested <= pd.Timestamp(until)
    part = frame[keep]
    requested = requested[keep]
    assigned = pd.concat([_cut(_column(part, c), until) for c in ASSIGNED_OR_LATER], axis=1).min(
        axis=1
    )
    resolved = _cut(_column(part, "resolved_at"), until)
    cancelled = _cut(_column(part, "cancelled_at"), until)
    return pd.DataFrame(
        {
            "priority": part["priority"].to_numpy(),
            "requested_at": requested.to_numpy(),
            "to_assignment": ((assigned - requested).dt.total_seconds() / 60).to_numpy(),
            "to_resolution": ((resolved - requested).dt.total_seconds() / 60).to_numpy(),
            "closed": (resolved.notna() | cancelled.notna()).to_numpy(),
        }
    )


def _stats(values: pd.Series, prefix: str) -> dict[str, float | int]:
    done = values.dropna().to_numpy(float)
    if not len(done):
        return {
            f"{prefix}_n": 0,
            f"{prefix}_median_min": np.nan,
            f"{prefix}_p90_min": np.nan,
            f"{prefix}_mean_min": np.nan,
        }
    return {
        f"{prefix}_n": int(len(done)),
        f"{prefix}_median_min": float(np.median(done)),
        f"{prefix}_p90_min": float(np.percentile(done, 90)),
        f"{prefix}_mean_min": float(np.mean(done)),
    }


def response_summary(
    frame: pd.DataFrame,
    until: dt.datetime | None = None,
    priorities: Sequence[str] = PRIORITIES,
) -> pd.DataFrame:
    """Requests, resolved, open and response-time statistics, overall and per priority.

    Parameters
    ----------
    frame
        One row per request (see the module docs).
    until
        Reference time (``None``: everything known).
    priorities
        The priorities to list after the ``all`` row (in this order).

    Returns
    -------
    pandas.DataFrame
        One row per ``priority`` (``"all"`` first): ``requests``, ``resolved``, ``open``,
        ``assignment_n``, ``assignment_median_min``, ``assignment_p90_min``,
        ``assignment_mean_min`` and the same four for ``resolution``.
    """
    minutes = response_minutes(frame, until)
    rows = []
    for priority in ("all", *priorities):
        part = minutes if priority == "all" else minutes[minutes["priority"] == priority]
        rows.append(
            {
                "priority": priority,
                "requests": int(len(part)),
                "resolved": int(part["to_resolution"].notna().sum()),
                "open": int((~part["closed"]).sum()),
                **_stats(part["to_assignment"], "assignment"),
                **_stats(part["to_resolution"], "resolution"),
            }
        )
    return pd.DataFrame(rows)


def open_requests(frame: pd.DataFrame, at: dt.datetime) -> int:
    """Requests open at ``at`` (made by then, neither resolved nor cancelled by then)."""
    minutes = response_minutes(frame, at)
    return int((~minutes["closed"]).sum())


def requests_between(frame: pd.DataFrame, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Requests made, resolved and cancelled in the interval ``(since, until]``.

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-07-10 04:00", tz="UTC")
    >>> frame = pd.DataFrame({"requested_at": [t0, t0 + pd.Timedelta(hours=2)],
    ...                       "resolved_at": [t0 + pd.Timedelta(hours=2), pd.NaT]})
    >>> requests_between(frame, t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=3))
    {'new': 1, 'resolved': 1, 'cancelled': 0}
    """
    low, high = pd.Timestamp(since), pd.Timestamp(until)

    def within(column: str) -> int:
        times = _column(frame, column)
        return int(((times > low) & (times <= high)).sum())

    return {
        "new": within("requested_at"),
        "resolved": within("resolved_at"),
        "cancelled": within("cancelled_at"),
    }


def requests_per_period(
    frame: pd.DataFrame, freq: str = "1h", priorities: Sequence[str] = PRIORITIES
) -> pd.DataFrame:
    """New requests per period and priority (periods start on multiples of ``freq``).

    Returns
    -------
    pandas.DataFrame
        ``period`` (start, UTC) and one column per priority; periods without requests are
        listed with zeros between the first and the last.

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-07-10 04:10", tz="UTC")
    >>> frame = pd.DataFrame({"priority": ["high", "low", "high"],
    ...     "requested_at": [t0, t0, t0 + pd.Timedelta(hours=2)]})
    >>> requests_per_period(frame)[["high", "low"]].values.tolist()
    [[1, 1], [0, 0], [1, 0]]
    """
    if frame.empty:
        return pd.DataFrame(columns=["period", *priorities])
    requested = _column(frame, "requested_at")
    period = requested.dt.floor(freq)
    table = pd.crosstab(period, frame["priority"])
    full = pd.date_range(period.min(), period.max(), freq=freq)
    table = table.reindex(index=full, columns=list(priorities), fill_value=0)
    table.index.name = "period"
    table.columns.name = None
    return table.reset_index().astype({p: "int64" for p in priorities})
