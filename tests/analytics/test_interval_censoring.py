"""Turnbull's NPMLE against references computed independently of our EM."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.drill_evaluation import kaplan_meier, time_to_event
from analytics.interval_censoring import drill_intervals, turnbull, turnbull_at, turnbull_median


def test_a_tiny_example_worked_by_hand():
    """(0,2], (0,2], (1,3], (2,4]: innermost intervals (1,2] and (2,3]; the likelihood
    p1² · (p1 + p2) · p2 with p1 + p2 = 1 is largest at p1 = 2/3 (d/dp (p² − p³) = 0)."""
    curve = turnbull([0, 0, 1, 2], [2, 2, 3, 4], tol=1e-14)
    assert curve[["low", "high"]].values.tolist() == [[1.0, 2.0], [2.0, 3.0]]
    assert curve["mass"].tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-9)
    assert curve["survival"].tolist() == pytest.approx([1 / 3, 0.0], abs=1e-9)
    assert turnbull_median(curve) == (1.0, 2.0)
    assert turnbull_at(curve, 1.5) == pytest.approx((1 / 3, 1.0))


def test_half_open_intervals_at_a_shared_end_point():
    """(0,1] and (1,2]: the two do not overlap (not yet at 1, already at 1), so each keeps
    its own half of the mass; an exact time [1,1] belongs to (0,1], not to (1,2]."""
    curve = turnbull([0, 1], [1, 2])
    assert curve[["low", "high", "mass"]].values.tolist() == [[0.0, 1.0, 0.5], [1.0, 2.0, 0.5]]
    exact = turnbull([1, 0], [1, 2])  # [1,1] and (0,2]: all mass at 1
    assert exact[["low", "high", "mass"]].values.tolist() == [[1.0, 1.0, 1.0]]


def test_exact_and_right_censored_times_give_kaplan_meier():
    """With exact times and right censoring only, the NPMLE is the product-limit estimate:
    checked against ``analytics.drill_evaluation.kaplan_meier`` (a different algorithm)."""
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(20, 200), 1)
    c = np.round(rng.uniform(5, 60, 200), 1)
    observed = t <= c
    time = np.minimum(t, c)
    curve = turnbull(time, np.where(observed, time, np.inf), tol=1e-13)
    km = kaplan_meier(time, observed)
    for row in km.itertuples():
        low, high = turnbull_at(curve, row.time + 1e-9)
        assert low == pytest.approx(row.survival, abs=1e-6)
        assert high == pytest.approx(row.survival, abs=1e-6)


def _log_likelihood(left, right, curve) -> float:
    inside = (curve["low"].to_numpy()[None, :] >= np.asarray(left)[:, None]) & (
        curve["high"].to_numpy()[None, :] <= np.asarray(right)[:, None]
    )
    return float(np.log(inside.astype(float) @ curve["mass"].to_numpy()).sum())


def test_the_same_estimate_as_lifelines_npmle():
    """Reference: ``lifelines.fitters.npmle.npmle(left, right)`` (closed intervals; the end
    points here are all distinct, so open or closed makes no difference) — the same survival
    wherever the NPMLE is determined, and no larger likelihood."""
    from lifelines.fitters.npmle import npmle

    rng = np.random.default_rng(11)
    n = 80
    left = rng.uniform(0, 50, n)
    right = left + rng.uniform(0.5, 20, n)
    right[rng.random(n) < 0.2] = np.inf
    curve = turnbull(left, right, tol=1e-13)
    probabilities, intervals = npmle(left, right, tol=1e-13, max_iter=1e6)
    reference = pd.DataFrame(
        {
            "low": [i.left for i in intervals],
            "high": [i.right for i in intervals],
            "mass": probabilities,
        }
    )
    reference["survival"] = 1 - reference["mass"].cumsum()
    big = curve["mass"] > 1e-3
    assert curve.loc[big, "low"].tolist() == pytest.approx(
        reference.loc[reference["mass"] > 1e-3, "low"].tolist()
    )
    for time in np.linspace(0, 80, 401):
        assert turnbull_at(curve, time) == pytest.approx(turnbull_at(reference, time), abs=5e-4)
    assert _log_likelihood(left, right, curve) >= _log_likelihood(left, right, reference) - 1e-7


def test_the_estimate_meets_the_npmle_optimality_conditions():
    """Kuhn–Tucker conditions of the NPMLE (Gentleman & Geyer 1994): for every innermost
    interval j, d_j = Σ_i α_ij / Σ_k α_ik p_k ≤ n, with equality where p_j > 0 — checked here
    on the fitted masses, independently of how they were found."""
    rng = np.random.default_rng(5)
    left = rng.uniform(0, 30, 60)
    right = left + rng.uniform(1, 10, 60)
    curve = turnbull(left, right, tol=1e-14)
    alpha = (curve["low"].to_numpy()[None, :] >= left[:, None]) & (
        curve["high"].to_numpy()[None, :] <= right[:, None]
    )
    d = (alpha / (alpha @ curve["mass"].to_numpy())[:, None]).sum(axis=0)
    assert d == pytest.approx(np.full(len(d), 60.0), rel=1e-6)


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError, match="right < left"):
        turnbull([3], [2])


def test_drill_intervals_from_an_event_log():
    t0 = dt.datetime(2022, 3, 11, 5, 0, tzinfo=dt.UTC)
    at = lambda m: t0 + dt.timedelta(minutes=m)  # noqa: E731
    events = pd.DataFrame(
        [
            ("a", "resident", "notification_opened", at(1)),
            ("a", "resident", "evacuation_started", at(6)),
            ("a", "resident", "arrived", at(25)),
            ("a", "resident", "arrived", at(40)),
            ("b", "elderly", "notification_opened", at(3)),
            ("c", "elderly", "arrived", at(30)),
            ("d", "staff", "evacuation_started", at(50)),
            ("d", "staff", "arrived", at(95)),
        ],
        columns=["participant", "group", "event_type", "at"],
    )
    frame = drill_intervals(events, t0, at(90))
    assert frame.values.tolist() == [
        ["a", "resident", 6.0, 25.0, True],
        ["b", "elderly", 90.0, np.inf, False],
        ["c", "elderly", 0.0, 30.0, True],
        ["d", "staff", 90.0, np.inf, False],
    ]
    # Kaplan–Meier's right-censored times are the intervals' right ends (or the end).
    tte = time_to_event(events, "arrived", t0, at(90))
    assert tte["minutes"].tolist() == [25.0, 90.0, 30.0, 90.0]


def _dense_membership(left, right, q, p, closed) -> np.ndarray:
    """α as a dense matrix, entry by entry from the definition (the construction before the
    runs): innermost interval j starts inside observation i's interval and ends by its end."""
    exact = left == right
    starts_after = np.where(
        exact[:, None],
        q[None, :] >= left[:, None],
        (q[None, :] > left[:, None]) | ((q[None, :] == left[:, None]) & ~closed[None, :]),
    )
    return starts_after & (p[None, :] <= right[:, None])


def test_each_observation_covers_one_run_of_innermost_intervals():
    """The runs (first..last) the EM works with are exactly the rows of the membership matrix
    built from its definition — with exact times, shared end points and right censoring."""
    from analytics.interval_censoring import _innermost, _runs

    rng = np.random.default_rng(21)
    left = rng.integers(0, 30, 400).astype(float)
    right = left + rng.integers(0, 8, 400)
    right[rng.random(400) < 0.15] = np.inf
    q, p, closed = _innermost(left, right)
    first, last = _runs(left, right, q, p, closed)
    columns = np.arange(len(q))[None, :]
    runs = (columns >= first[:, None]) & (columns <= last[:, None])
    assert (runs == _dense_membership(left, right, q, p, closed)).all()
    assert (first <= last).all()


def test_thousands_of_wide_intervals_meet_the_optimality_conditions_everywhere():
    """3,000 wide intervals with distinct end points (over a thousand innermost intervals, most
    of them ending with no mass — what plain EM crept over for minutes): the Kuhn–Tucker
    conditions hold for every innermost interval, those given no mass included
    (d_j ≤ n; = n where p_j > 0), so no dropped interval should have kept mass."""
    from analytics.interval_censoring import _innermost

    rng = np.random.default_rng(8)
    n = 3_000
    left = rng.uniform(0, 50, n)
    right = left + rng.uniform(0.5, 20, n)
    right[rng.random(n) < 0.2] = np.inf
    curve = turnbull(left, right)
    q, p, closed = _innermost(left, right)
    assert len(q) > 1_000
    mass = pd.Series(curve["mass"].to_numpy(), index=curve["low"]).reindex(q, fill_value=0.0)
    alpha = _dense_membership(left, right, q, p, closed).astype(float)
    d = (alpha / (alpha @ mass.to_numpy())[:, None]).sum(axis=0)
    assert d.max() <= n * (1 + 1e-6)
    assert d[mass.to_numpy() > 0] == pytest.approx(np.full(len(curve), float(n)), rel=1e-6)
