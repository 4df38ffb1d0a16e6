"""Citizens' states counted at moments: the same as counting each moment from scratch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.status_timeline import evenly_spaced, ever_in_states, status_over_time
from bosai.vocab import SAFE_STATES, STATUS_STATES


def naive_counts(reports: pd.DataFrame, at: pd.Timestamp) -> dict[str, int]:
    seen = reports[reports["reported_at"] <= at]
    latest = seen.groupby("citizen_id").tail(1)  # rows are in report order
    counts = latest["state"].value_counts().to_dict()
    return {
        "reported": len(latest),
        "confirmed": int(latest["state"].isin(SAFE_STATES).sum()),
        **{s: counts.get(s, 0) for s in STATUS_STATES},
    }


def test_matches_a_naive_recount_at_every_moment():
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-07-10 04:00", tz="UTC")
    n = 3000
    times = start + pd.to_timedelta(np.sort(rng.integers(0, 3 * 3600, n)), unit="s")
    reports = pd.DataFrame(
        {
            "citizen_id": rng.integers(1, 800, n),
            "state": rng.choice(STATUS_STATES, n),
            "reported_at": times,
        }
    )
    moments = evenly_spaced(start, start + pd.Timedelta(hours=3), steps=12)
    curve = status_over_time(reports, moments, citizens=1000)
    for row, moment in zip(curve.to_dict("records"), moments, strict=True):
        expected = naive_counts(reports, moment)
        assert {k: row[k] for k in expected} == expected
        assert row["no_report"] == 1000 - expected["reported"]


def test_a_tie_goes_to_the_later_row_and_ever_counts_distinct_people():
    t = pd.Timestamp("2026-07-10 05:00", tz="UTC")
    reports = pd.DataFrame(
        {
            "citizen_id": [1, 1, 2, 2],
            "state": ["evacuating", "at_shelter", "evacuating", "evacuating"],
            "reported_at": [t, t, t, t + pd.Timedelta(minutes=5)],
        }
    )
    row = status_over_time(reports, [t]).iloc[0]
    assert (row["at_shelter"], row["evacuating"], row["confirmed"]) == (1, 1, 1)
    assert ever_in_states(reports, ("evacuating",)) == 2
    assert ever_in_states(reports, ("at_shelter",), until=t - pd.Timedelta(minutes=1)) == 0


def test_no_reports():
    empty = pd.DataFrame({"citizen_id": [], "state": [], "reported_at": []})
    t = pd.Timestamp("2026-07-10 05:00", tz="UTC")
    row = status_over_time(empty, [t], citizens=5).iloc[0]
    assert (row["reported"], row["no_report"]) == (0, 5)
