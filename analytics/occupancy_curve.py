"""Shelter head counts over an incident: the total curve, its peak, each shelter's peak.

Head counts are reported at different moments by different shelters (staff entering counts,
or the snapshots of an open-shelter list). The total at a moment is the sum, over the shelters
**open then**, of each one's latest count at or before that moment — as the shelter board and
the replay show it (:func:`sql.queries.shelter_board.shelter_board`). A shelter is open at a
moment when one of its open periods covers it (opened at or before, not closed by then). Only
for an incident without any open period (counts kept without opening shelters) does every
shelter count from its first report on.

>>> import pandas as pd
>>> t = pd.to_datetime(["2024-01-09 09:00", "2024-01-10 09:00", "2024-01-11 09:00"], utc=True)
>>> counts = pd.DataFrame({"shelter_id": [1, 2, 1, 1], "observed_at": [t[0], t[0], t[1], t[2]],
...                        "head_count": [100, 40, 80, 70]})
>>> periods = pd.DataFrame({"shelter_id": [1, 2], "opened_at": [t[0], t[0]],
...                         "closed_at": [pd.NaT, t[1]]})
>>> total_curve(counts, periods)[["head_count", "shelters_open"]].values.tolist()
[[140, 2], [80, 1], [70, 1]]
>>> peak(total_curve(counts, periods))["head_count"]
140
>>> shelter_peaks(counts)[["shelter_id", "peak"]].values.tolist()
[[1, 100], [2, 40]]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

CURVE_COLUMNS = ["at", "head_count", "shelters_open", "shelters_counted"]


def _utc(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True)


def _naive_utc(values: Any) -> np.ndarray:
    """Times as ``datetime64[ns]`` in UTC (NaT where missing), for fast comparisons."""
    return _utc(values).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def open_at(periods: pd.DataFrame, at: dt.datetime) -> set[int]:
    """Ids of the shelters with an open period covering ``at``.

    Examples
    --------
    >>> t = pd.to_datetime(["2024-01-09", "2024-01-10"], utc=True)
    >>> periods = pd.DataFrame({"shelter_id": [1, 2], "opened_at": [t[0], t[1]],
    ...                         "closed_at": [t[1], pd.NaT]})
    >>> sorted(open_at(periods, t[0])), sorted(open_at(periods, t[1]))
    ([1], [2])
    """
    return _Periods(periods).open_at(at)


class _Periods:
    """Open periods converted once, for many moments."""

    def __init__(self, periods: pd.DataFrame):
        self.ids = periods["shelter_id"].astype(int).to_numpy()
        self.opened = _naive_utc(periods["opened_at"])
        self.closed = _naive_utc(periods["closed_at"])
        self.still_open = np.isnat(self.closed)

    def open_at(self, at: dt.datetime) -> set[int]:
        if not len(self.ids):
            return set()
        moment = pd.Timestamp(at)
        if moment.tzinfo is not None:
            moment = moment.tz_convert("UTC").tz_localize(None)
        moment = moment.to_datetime64()
        covering = (self.opened <= moment) & (self.still_open | (self.closed > moment))
        return {int(i) for i in self.ids[covering]}


def total_curve(
    counts: pd.DataFrame,
    periods: pd.DataFrame,
    moments: Sequence[dt.datetime] | None = None,
) -> pd.DataFrame:
    """The total head count of the open shelters at each moment.

    Parameters
    ----------
    counts
        ``shelter_id, observed_at, head_count`` (one row per shelter and moment).
    periods
        ``shelter_id, opened_at, closed_at`` (``closed_at`` missing while open).
    moments
        Where to evaluate the curve; default every distinct observation time.

    Returns
    -------
    pandas.DataFrame
        ``at, head_count, shelters_open, shelters_counted`` — the total, the shelters open
        then, and how many of those had reported a count by then.
    """
    if counts.empty:
        rows = [
            {
                "at": pd.Timestamp(m),
                "head_count": 0,
                "shelters_open": len(open_at(periods, m)),
                "shelters_counted": 0,
            }
            for m in moments or ()
        ]
        return pd.DataFrame(rows, columns=CURVE_COLUMNS)
    observed = _utc(counts["observed_at"])
    frame = counts.assign(observed_at=observed.to_numpy()).sort_values(["observed_at"])
    if moments is None:
        moments = sorted(set(frame["observed_at"]))
    wide = frame.pivot_table(
        index="observed_at", columns="shelter_id", values="head_count", aggfunc="max"
    ).sort_index()
    shelter_ids = [int(s) for s in wide.columns]
    latest = wide.ffill()
    converted = _Periods(periods)
    rows = []
    for moment in moments:
        at = pd.Timestamp(moment)
        at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
        position = latest.index.searchsorted(at, side="right") - 1
        values = (
            latest.iloc[position].to_numpy(float)
            if position >= 0
            else np.full(len(shelter_ids), np.nan)
        )
        reported = ~np.isnan(values)
        if periods.empty:
            is_open = reported
            shelters_open = int(reported.sum())
        else:
            opened = converted.open_at(at)
            is_open = np.array([s in opened for s in shelter_ids], bool)
            shelters_open = len(opened)
        rows.append(
            {
                "at": at,
                "head_count": int(np.nansum(np.where(is_open, values, 0.0))),
                "shelters_open": shelters_open,
                "shelters_counted": int((is_open & reported).sum()),
            }
        )
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def peak(curve: pd.DataFrame) -> dict[str, Any]:
    """The highest total of a curve and when it was first reached (``None`` when empty)."""
    if curve.empty:
        return {"head_count": None, "at": None, "shelters_open": None}
    row = curve.loc[curve["head_count"].astype(float).idxmax()]
    return {
        "head_count": int(row["head_count"]),
        "at": row["at"],
        "shelters_open": int(row["shelters_open"]),
    }


def shelter_peaks(counts: pd.DataFrame) -> pd.DataFrame:
    """Each shelter's highest count and when it was first reported.

    Returns
    -------
    pandas.DataFrame
        ``shelter_id, peak, peak_at, reports, first_at, last_at``, highest peak first.
    """
    if counts.empty:
        return pd.DataFrame(
            columns=["shelter_id", "peak", "peak_at", "reports", "first_at", "last_at"]
        )
    frame = counts.assign(observed_at=_utc(counts["observed_at"]).to_numpy())
    frame = frame.sort_values(
        ["shelter_id", "head_count", "observed_at"], ascending=[True, False, True]
    )
    top = frame.groupby("shelter_id", sort=False).head(1).set_index("shelter_id")
    grouped = frame.groupby("shelter_id")["observed_at"]
    out = pd.DataFrame(
        {
            "peak": top["head_count"].astype(int),
            "peak_at": top["observed_at"],
            "reports": grouped.size(),
            "first_at": grouped.min(),
            "last_at": grouped.max(),
        }
    ).reset_index()
    return out.sort_values(["peak", "shelter_id"], ascending=[False, True]).reset_index(drop=True)


def shelters_used(counts: pd.DataFrame, periods: pd.DataFrame) -> int:
    """Shelters opened in the incident or with a head count above zero."""
    opened = set(periods["shelter_id"].astype(int)) if not periods.empty else set()
    counted = set(counts.loc[counts["head_count"] > 0, "shelter_id"].astype(int))
    return len(opened | counted)
