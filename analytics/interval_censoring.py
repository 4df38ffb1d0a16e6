"""Interval-censored time to event: Turnbull's nonparametric maximum-likelihood estimate.

A drill does not see the moment someone reaches safety: it sees the moments their phone or a
reception desk reports. What is known for each participant is an interval ``(left, right]`` —
not yet safe at ``left`` (the drill's start, or their last report before), safe at ``right``
(the first report that says so); ``right = inf`` when no report ever said so (right-censored at
``left``). Kaplan–Meier treats ``right`` as the exact time and so puts every arrival late;
Turnbull's estimator uses the interval itself.

* :func:`turnbull` — the NPMLE by Turnbull's self-consistency (EM) algorithm (Turnbull 1976,
  *JRSS B* 38: 290–295) on the innermost intervals (the Peto–Turnbull "equivalence sets"): the
  probability mass of each, and the survival just after it. Inside an innermost interval the
  NPMLE does not say how the mass is spread, so the curve is determined only between them.
  Same estimate as R ``icenReg::ic_np`` and lifelines' ``lifelines.fitters.npmle.npmle``.
  Each observation covers a run of consecutive innermost intervals, so an EM step is two
  cumulative sums (O(n + m), not O(n·m)); SQUAREM accelerates it, vanishing masses are dropped
  and the Kuhn–Tucker conditions checked at the end (5,000 people: seconds, was over nine
  minutes; ``benchmarks/bench_research_turnbull.py``).
* :func:`turnbull_median` — the interval in which the estimated survival crosses one half.
* :func:`drill_intervals` — the intervals of one drill's log for an event (``arrived``: time to
  safe), from the drill start.

Intervals are half-open ``(left, right]`` ("not yet at left, already at right"); ``left ==
right`` is an exact time. Times are in minutes.

A tiny example worked by hand: two people safe in ``(0, 2]``, one in ``(1, 3]``, one in ``(2,
4]``. The innermost intervals are ``(1, 2]`` and ``(2, 3]``; the likelihood is ``p₁²·1·p₂`` with
``p₁ + p₂ = 1``, largest at ``p₁ = 2/3``:

>>> curve = turnbull([0, 0, 1, 2], [2, 2, 3, 4])
>>> curve[["low", "high", "mass", "survival"]].round(6).values.tolist()
[[1.0, 2.0, 0.666667, 0.333333], [2.0, 3.0, 0.333333, 0.0]]
>>> turnbull_median(curve)
(1.0, 2.0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Columns of :func:`turnbull`'s result.
TURNBULL_COLUMNS = ("low", "high", "mass", "survival", "at_risk")
#: Columns of :func:`drill_intervals`' result.
INTERVAL_COLUMNS = ("participant", "group", "left", "right", "observed")

# Sort keys of interval end points: at one value a right end (closed) comes before an open left
# end; the left end of an exact observation (closed) comes before both.
_CLOSED_LEFT, _RIGHT, _OPEN_LEFT = -1, 0, 1


def _innermost(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The innermost intervals: a left end point immediately followed, in the order of end
    points, by a right end point. Returns their ``low``, ``high`` and whether ``low`` is closed."""
    exact = left == right
    values = np.concatenate([left, right])
    kinds = np.concatenate([np.where(exact, _CLOSED_LEFT, _OPEN_LEFT), np.full(len(right), _RIGHT)])
    order = np.lexsort((kinds, values))
    values, kinds = values[order], kinds[order]
    is_left = kinds != _RIGHT
    starts = np.flatnonzero(is_left[:-1] & ~is_left[1:])
    return values[starts], values[starts + 1], kinds[starts] == _CLOSED_LEFT


def turnbull(
    left: Sequence[float],
    right: Sequence[float],
    *,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> pd.DataFrame:
    """Turnbull's NPMLE of the distribution of an interval-censored time.

    Parameters
    ----------
    left, right : sequences of float
        Each observation's interval ``(left, right]``; ``right = inf`` for right-censored,
        ``left == right`` for an exact time. ``left <= right`` is required.
    tol : float
        Stop when no mass changes by more than ``tol`` in one EM step.
    max_iter : int
        At most this many EM steps (a ``RuntimeError`` when not converged).

    Returns
    -------
    pandas.DataFrame
        One row per innermost interval with mass above 1e-9: ``low, high`` (its end points),
        ``mass`` (its probability), ``survival`` (S(t) for t between this interval's ``high``
        and the next one's ``low``) and ``at_risk`` (observations whose interval reaches
        past ``low``, for reading how much data stands behind a step).

    Examples
    --------
    With exact and right-censored times only, Turnbull's estimate is Kaplan–Meier's:

    >>> curve = turnbull([6, 6, 6, 7, 10], [6, 6, np.inf, 7, np.inf])
    >>> curve[["low", "high", "survival"]].round(4).values.tolist()
    [[6.0, 6.0, 0.6], [7.0, 7.0, 0.3], [10.0, inf, 0.0]]
    """
    lo = np.asarray(left, dtype=float)
    hi = np.asarray(right, dtype=float)
    if lo.shape != hi.shape:
        raise ValueError("left and right differ in length")
    keep = np.isfinite(lo)
    lo, hi = lo[keep], hi[keep]
    if (hi < lo).any():
        raise ValueError("an interval ends before it starts (right < left)")
    if not len(lo):
        return pd.DataFrame(columns=list(TURNBULL_COLUMNS))
    q, p, closed = _innermost(lo, hi)
    first, last = _runs(lo, hi, q, p, closed)
    # Observations with the same run of innermost intervals are one term of the likelihood,
    # weighted by how many they are.
    runs, weight = np.unique(np.column_stack([first, last]), axis=0, return_counts=True)
    a = _Runs(runs[:, 0], runs[:, 1], len(q))
    mass = _fit(a, weight.astype(float), len(lo), tol, max_iter)
    kept = mass > 1e-9
    mass = np.where(kept, mass, 0.0) / mass[kept].sum()
    survival = np.clip(1 - np.cumsum(mass), 0.0, 1.0)
    survival[np.isclose(survival, 0.0, atol=1e-12)] = 0.0
    at_risk = len(hi) - np.searchsorted(np.sort(hi), q, side="right")
    frame = pd.DataFrame(
        {
            "low": q,
            "high": p,
            "mass": mass,
            "survival": survival,
            "at_risk": at_risk,
        }
    )
    return frame[kept].reset_index(drop=True)


def _runs(
    lo: np.ndarray, hi: np.ndarray, q: np.ndarray, p: np.ndarray, closed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first and last innermost interval inside each observation's interval.

    The innermost intervals are disjoint and in order, so those inside ``(lo, hi]`` are a run:
    from the first whose start lies in it (at ``q = lo`` only an exact observation ``[lo, lo]``
    takes the closed ``[lo, …]`` one, which comes first among equal starts) to the last that
    ends by ``hi``. Every observation's run is non-empty (its own end points bound one)."""
    first = np.searchsorted(q, lo, side="left")
    at = np.minimum(first, len(q) - 1)
    skip = (lo != hi) & (first < len(q)) & (q[at] == lo) & closed[at]
    first = first + skip
    last = np.searchsorted(p, hi, side="right") - 1
    return first, last


class _Runs:
    """The membership matrix ``α`` (observation × innermost interval) of runs ``first..last``
    per row, without storing it: ``α @ p`` is a difference of cumulative sums and ``αᵀ @ w`` a
    cumulative sum of a difference array, each O(rows + intervals) whatever the runs' length
    (a stored sparse matrix costs the sum of the runs: millions of entries for a few thousand
    wide intervals)."""

    def __init__(self, first: np.ndarray, last: np.ndarray, m: int) -> None:
        self.first, self.last, self.m = first, last, m

    def times(self, mass: np.ndarray) -> np.ndarray:
        """``α @ mass``."""
        cumulative = np.concatenate([[0.0], np.cumsum(mass)])
        return cumulative[self.last + 1] - cumulative[self.first]

    def transposed_times(self, w: np.ndarray) -> np.ndarray:
        """``αᵀ @ w``."""
        diff = np.bincount(self.first, w, minlength=self.m + 1)
        diff -= np.bincount(self.last + 1, w, minlength=self.m + 1)
        return np.cumsum(diff[: self.m])


def _em(a: _Runs, weight: np.ndarray, mass: np.ndarray, n: int) -> np.ndarray:
    """One self-consistency step: p_j ← p_j · Σ_i w_i α_ij / (α_i · p) / n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return mass * a.transposed_times(weight / a.times(mass)) / n


def _loglik(a: _Runs, weight: np.ndarray, mass: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(weight @ np.log(a.times(mass)))


#: A mass below this whose interval the likelihood pulls down (``d_j < n``) is set to zero
#: while iterating; the optimality check at the end brings back any it should not have.
PRUNE = 1e-6


def _fit(a: _Runs, weight: np.ndarray, n: int, tol: float, max_iter: int) -> np.ndarray:
    """The NPMLE's masses: SQUAREM-accelerated EM on a shrinking support, checked at the end
    against the Kuhn–Tucker conditions of the NPMLE (Gentleman & Geyer 1994: ``d_j = Σ_i w_i
    α_ij / (α_i · p) ≤ n`` for every interval, with equality where ``p_j > 0``).

    EM never revives a zero mass and lowers a vanishing one only by the factor ``d_j / n``
    per step — near 1, tens of thousands of steps for thousands of wide intervals. So masses
    below :data:`PRUNE` with ``d_j < n`` are dropped as they appear; an interval dropped
    wrongly shows ``d_j > n`` at the end, gets a share of mass back and is not dropped again,
    and EM goes on."""
    m = a.m
    mass = np.full(m, 1.0 / m)
    kept = np.zeros(m, dtype=bool)
    steps = 0
    while True:
        mass, used = _squarem(a, weight, mass, n, tol, max_iter - steps, kept)
        steps += used
        d = a.transposed_times(weight / a.times(mass))
        revive = (mass == 0) & (d > n * (1 + 1e-9))
        if not revive.any():
            return mass
        kept |= revive
        mass = np.where(revive, 1.0 / m, mass)
        mass /= mass.sum()


def _squarem(
    a: _Runs,
    weight: np.ndarray,
    mass: np.ndarray,
    n: int,
    tol: float,
    max_iter: int,
    kept: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Turnbull's EM accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3): two EM
    steps, an extrapolation along them kept inside the simplex, one more EM step; the plain
    EM step whenever the extrapolation would lower the likelihood; vanishing masses dropped
    (:func:`_fit`; never those in ``kept``). Returns the masses and the number of steps."""
    for step_number in range(max(max_iter, 0)):
        first = _em(a, weight, mass, n)
        second = _em(a, weight, first, n)
        r = first - mass
        v = second - first - r
        if np.abs(r).max() <= tol:
            return second, step_number + 1
        step = -np.sqrt((r @ r) / (v @ v)) if (v @ v) > 0 else -1.0
        step = min(step, -1.0)
        jump = np.clip(mass - 2 * step * r + step**2 * v, 0.0, None)
        jump = _em(a, weight, jump / jump.sum(), n) if jump.sum() > 0 else second
        jump_ll = _loglik(a, weight, jump)
        if not np.isfinite(jump_ll) or jump_ll < _loglik(a, weight, second):
            jump = second
        if np.abs(jump - mass).max() <= tol:
            return jump, step_number + 1
        pulled_down = a.transposed_times(weight / a.times(jump)) < n
        mass = np.where((jump < PRUNE) & pulled_down & ~kept, 0.0, jump)
        mass /= mass.sum()
    raise RuntimeError(f"Turnbull EM did not converge in {max_iter} steps")


def turnbull_median(curve: pd.DataFrame) -> tuple[float, float] | None:
    """``(low, high)`` of the innermost interval in which S(t) falls to one half or below; None
    when the estimate stays above one half.

    Examples
    --------
    >>> turnbull_median(turnbull([0, 0, 3], [1, 2, np.inf]))
    (0.0, 1.0)
    """
    below = curve[curve["survival"] <= 0.5 + 1e-12]
    if below.empty:
        return None
    row = below.iloc[0]
    return float(row["low"]), float(row["high"])


def turnbull_at(curve: pd.DataFrame, time: float) -> tuple[float, float]:
    """Bounds ``(lower, upper)`` of S(``time``): equal where the NPMLE is determined, the values
    before and after the innermost interval that contains ``time`` where it is not.

    Examples
    --------
    >>> curve = turnbull([0, 0, 1, 2], [2, 2, 3, 4])
    >>> [tuple(round(v, 4) for v in turnbull_at(curve, t)) for t in (0.5, 1.5, 2.0, 5.0)]
    [(1.0, 1.0), (0.3333, 1.0), (0.3333, 0.3333), (0.0, 0.0)]
    """
    before = 1.0
    for row in curve.itertuples():
        if time <= row.low:
            return before, before
        if time < row.high:
            return float(row.survival), before
        before = float(row.survival)
    return before, before


# ---------------------------------------------------------------- from drill logs


def _minutes(values: pd.Series, start: pd.Timestamp) -> pd.Series:
    return (pd.to_datetime(values, utc=True) - start).dt.total_seconds() / 60


def drill_intervals(
    events: pd.DataFrame,
    start: dt.datetime,
    end: dt.datetime | None,
    event: str = "arrived",
) -> pd.DataFrame:
    """Each participant's interval for the time from the drill start to the first ``event``.

    ``right`` is the first record of ``event`` (minutes from the start), ``left`` the
    participant's last record of anything else before it (not yet there then), or 0. Without
    the event by the drill's ``end`` (else its last logged event) the interval is ``(end, inf)``
    and ``observed`` is False: absent an arrival record, the log says the person was not safe
    at the end — the same assumption as Kaplan–Meier's censoring at the end.

    Parameters
    ----------
    events : pandas.DataFrame
        ``participant, group, event_type, at`` (see ``sql.queries.research.drill_events``).
    start, end : datetime
        The drill's start and end (time-zone aware).
    event : str
        The event that ends the wait (``arrived`` = safe at a shelter).

    Returns
    -------
    pandas.DataFrame
        ``participant, group, left, right, observed`` (minutes; ``right`` inf when censored).

    Examples
    --------
    >>> t0 = pd.Timestamp("2022-03-11 05:00", tz="UTC")
    >>> ev = pd.DataFrame({"participant": ["a", "a", "a", "b", "b"],
    ...     "group": ["resident"] * 5,
    ...     "event_type": ["notification_opened", "evacuation_started", "arrived",
    ...                    "notification_opened", "evacuation_started"],
    ...     "at": [t0 + pd.Timedelta(minutes=m) for m in (2, 5, 20, 3, 8)]})
    >>> drill_intervals(ev, t0, t0 + pd.Timedelta(minutes=90)).values.tolist()
    [['a', 'resident', 5.0, 20.0, True], ['b', 'resident', 90.0, inf, False]]
    """
    if events.empty:
        return pd.DataFrame(columns=list(INTERVAL_COLUMNS))
    start_ts = pd.Timestamp(start).tz_convert("UTC")
    ev = events.assign(minute=_minutes(events["at"], start_ts))
    end_min = (
        float(_minutes(pd.Series([end]), start_ts).iloc[0])
        if end is not None
        else float(ev["minute"].max())
    )
    groups = ev.groupby("participant", sort=True)["group"].agg(
        lambda s: s.dropna().iloc[0] if s.notna().any() else "unknown"
    )
    hits = ev[(ev["event_type"] == event) & (ev["minute"] <= end_min)]
    first = hits.groupby("participant")["minute"].min().reindex(groups.index)
    others = ev[ev["event_type"] != event].merge(
        first.rename("first").reset_index(), on="participant", how="left"
    )
    before = others[others["first"].notna() & (others["minute"] <= others["first"])]
    last_before = before.groupby("participant")["minute"].max().reindex(groups.index)
    observed = first.notna()
    left = np.where(observed, last_before.fillna(0.0).clip(lower=0.0), end_min)
    right = np.where(observed, first.clip(lower=0.0), np.inf)
    return pd.DataFrame(
        {
            "participant": groups.index.to_numpy(),
            "group": groups.to_numpy(),
            "left": np.minimum(left, right).astype(float),
            "right": right.astype(float),
            "observed": observed.to_numpy(),
        }
    )
