"""Rescue response times: minutes to assignment and resolution, open requests, per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.response_times import (
    open_requests,
    requests_between,
    requests_per_period,
    response_minutes,
    response_summary,
)

T0 = pd.Timestamp("2026-07-10 04:00", tz="UTC")
MIN = pd.Timedelta(minutes=1)


def timeline() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "priority": ["high", "high", "medium", "low", "high", "medium"],
            "requested_at": [
                T0,
                T0 + 5 * MIN,
                T0 + 10 * MIN,
                T0 + 20 * MIN,
                T0 + 65 * MIN,
                T0 + 70 * MIN,
            ],
            # request 2 skipped "assigned" and went en route: assigned by then
            "assigned_at": [T0 + 10 * MIN, pd.NaT, T0 + 40 * MIN, pd.NaT, pd.NaT, pd.NaT],
            "en_route_at": [T0 + 12 * MIN, T0 + 25 * MIN, pd.NaT, pd.NaT, pd.NaT, pd.NaT],
            "resolved_at": [T0 + 50 * MIN, T0 + 80 * MIN, pd.NaT, pd.NaT, pd.NaT, pd.NaT],
            "cancelled_at": [pd.NaT, pd.NaT, pd.NaT, T0 + 30 * MIN, pd.NaT, pd.NaT],
        }
    )


def test_minutes_count_from_the_first_status_at_or_after_assignment():
    minutes = response_minutes(timeline())
    assert minutes["to_assignment"].tolist()[:3] == [10.0, 20.0, 30.0]
    assert np.isnan(minutes["to_assignment"].iloc[3])
    assert minutes["to_resolution"].tolist()[:2] == [50.0, 75.0]
    assert minutes["closed"].tolist() == [True, True, False, True, False, False]


def test_until_forgets_what_happened_later():
    minutes = response_minutes(timeline(), until=T0 + 30 * MIN)
    assert len(minutes) == 4  # the two later requests were not made yet
    assert minutes["to_assignment"].tolist()[:2] == [10.0, 20.0]
    assert np.isnan(minutes["to_assignment"].iloc[2])  # assigned at 40 min
    assert minutes["to_resolution"].isna().all()
    assert open_requests(timeline(), T0 + 30 * MIN) == 3  # request 4 cancelled at 30


def test_summary_matches_numpy_per_priority():
    summary = response_summary(timeline()).set_index("priority")
    assert summary.loc["all", "requests"] == 6
    assert summary.loc["all", "resolved"] == 2
    assert summary.loc["all", "open"] == 3
    assert summary.loc["all", "assignment_median_min"] == np.median([10, 20, 30])
    assert summary.loc["all", "assignment_p90_min"] == np.percentile([10, 20, 30], 90)
    assert summary.loc["high", "requests"] == 3
    assert summary.loc["high", "resolution_mean_min"] == np.mean([50, 75])
    assert summary.loc["low", "assignment_n"] == 0
    assert np.isnan(summary.loc["low", "assignment_median_min"])


def test_between_and_per_hour():
    assert requests_between(timeline(), T0 + 15 * MIN, T0 + 70 * MIN) == {
        "new": 3,
        "resolved": 1,
        "cancelled": 1,
    }
    hourly = requests_per_period(timeline())
    assert hourly["period"].tolist() == [T0, T0 + 60 * MIN]
    assert hourly[["high", "medium", "low"]].values.tolist() == [[2, 1, 1], [1, 1, 0]]


def test_empty_timeline():
    empty = timeline().iloc[0:0]
    assert response_summary(empty)["requests"].tolist() == [0, 0, 0, 0]
    assert requests_per_period(empty).empty
