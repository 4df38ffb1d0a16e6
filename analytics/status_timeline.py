"""Citizens' safety status over an incident, counted at chosen moments.

Input: the incident's status reports as pseudonymous rows ``citizen_id, state, reported_at``
in report order (:func:`sql.queries.report_figures.status_reports`). A citizen's state at a
moment is their newest report at or before it (a later row wins a tie, as the rows come in
report-id order) — the rule of the replay (:func:`sql.queries.status_snapshot.states_as_of`).
Only counts leave this module.

>>> import pandas as pd
>>> t = pd.to_datetime(["2026-07-10 04:00", "2026-07-10 05:00", "2026-07-10 06:00"], utc=True)
>>> reports = pd.DataFrame({"citizen_id": [1, 2, 1], "state": ["evacuating", "safe_at_home", "at_shelter"],
...                         "reported_at": [t[0], t[1], t[2]]})
>>> curve = status_over_time(reports, t, citizens=10)
>>> curve[["reported", "confirmed", "evacuating", "at_shelter"]].values.tolist()
[[1, 0, 1, 0], [2, 1, 1, 0], [2, 2, 0, 1]]
>>> ever_in_states(reports, ("evacuating", "at_shelter"))
1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bosai.vocab import SAFE_STATES, STATUS_STATES

CODES = {state: i for i, state in enumerate(STATUS_STATES)}
NO_REPORT = -1


def _naive_utc(moment: dt.datetime) -> pd.Timestamp:
    value = pd.Timestamp(moment)
    if value.tzinfo is None:
        return value
    return value.tz_convert("UTC").tz_localize(None)


def status_over_time(
    reports: pd.DataFrame,
    moments: Sequence[dt.datetime],
    citizens: int | None = None,
) -> pd.DataFrame:
    """Counts of citizens by latest state at each moment.

    Parameters
    ----------
    reports
        ``citizen_id, state, reported_at`` in report order.
    moments
        Increasing moments to count at.
    citizens
        Everyone who could report (for ``no_report``); default: those seen in ``reports``.

    Returns
    -------
    pandas.DataFrame
        ``at``, one column per state of :data:`bosai.vocab.STATUS_STATES`, ``reported``,
        ``confirmed`` (a safe state) and ``no_report``.
    """
    moments = [_naive_utc(m) for m in moments]
    times = pd.to_datetime(reports["reported_at"], utc=True).dt.tz_localize(None).to_numpy()
    order = np.argsort(times, kind="stable")
    times = times[order]
    ids, who = np.unique(reports["citizen_id"].to_numpy()[order], return_inverse=True)
    codes = np.array([CODES[s] for s in reports["state"].to_numpy()[order]], dtype=np.int8)
    state = np.full(len(ids), NO_REPORT, np.int8)
    safe = np.array([CODES[s] for s in SAFE_STATES])
    total = len(ids) if citizens is None else int(citizens)
    rows, done = [], 0
    for moment in moments:
        stop = int(np.searchsorted(times, moment.to_datetime64(), side="right"))
        if stop > done:
            chunk_who, chunk_code = who[done:stop][::-1], codes[done:stop][::-1]
            first, index = np.unique(chunk_who, return_index=True)  # the newest per citizen
            state[first] = chunk_code[index]
            done = stop
        counts = np.bincount(state[state >= 0], minlength=len(STATUS_STATES))
        reported = int((state >= 0).sum())
        rows.append(
            {
                "at": moment.tz_localize("UTC"),
                **{s: int(counts[i]) for s, i in CODES.items()},
                "reported": reported,
                "confirmed": int(np.isin(state, safe).sum()),
                "no_report": max(total - reported, 0),
            }
        )
    return pd.DataFrame(rows)


def ever_in_states(
    reports: pd.DataFrame, states: Sequence[str], until: dt.datetime | None = None
) -> int:
    """Citizens who reported one of ``states`` at least once (by ``until``)."""
    part = reports[reports["state"].isin(list(states))]
    if until is not None:
        part = part[pd.to_datetime(part["reported_at"], utc=True) <= pd.Timestamp(until)]
    return int(part["citizen_id"].nunique())


def evenly_spaced(start: dt.datetime, end: dt.datetime, steps: int = 48) -> list[pd.Timestamp]:
    """``steps + 1`` moments from ``start`` to ``end`` inclusive.

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-07-10 04:00", tz="UTC")
    >>> [m.hour for m in evenly_spaced(t0, t0 + pd.Timedelta(hours=2), steps=2)]
    [4, 5, 6]
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        return [start]
    return list(pd.date_range(start, end, periods=steps + 1))
