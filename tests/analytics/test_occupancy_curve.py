"""Total head count of the open shelters over time, its peak, each shelter's peak."""

from __future__ import annotations

import pandas as pd

from analytics.occupancy_curve import open_at, peak, shelter_peaks, shelters_used, total_curve

T = pd.to_datetime(
    ["2024-01-09 09:00", "2024-01-09 21:00", "2024-01-10 09:00", "2024-01-10 21:00"], utc=True
)


def test_counts_carry_forward_while_open_and_stop_when_closed():
    counts = pd.DataFrame(
        {
            "shelter_id": [1, 2, 1, 3, 2],
            "observed_at": [T[0], T[0], T[1], T[1], T[3]],
            "head_count": [100, 40, 90, 10, 30],
        }
    )
    periods = pd.DataFrame(
        {
            "shelter_id": [1, 2, 3],
            "opened_at": [T[0], T[0], T[1]],
            "closed_at": [T[2], pd.NaT, pd.NaT],
        }
    )
    curve = total_curve(counts, periods, moments=list(T))
    # 09:00: 100 + 40; 21:00: 90 + 40 (carried) + 10; next day shelter 1 is closed
    assert curve["head_count"].tolist() == [140, 140, 50, 40]
    assert curve["shelters_open"].tolist() == [2, 3, 2, 2]
    assert peak(curve) == {"head_count": 140, "at": T[0], "shelters_open": 2}
    assert shelters_used(counts, periods) == 3
    assert sorted(open_at(periods, T[2])) == [2, 3]


def test_the_curve_at_a_snapshot_is_the_snapshot_total():
    """Snapshot imports (every open shelter listed at every time) give the per-time sums."""
    rows = []
    for k, moment in enumerate(T):
        for shelter in range(1, 5 - (k % 2)):
            rows.append((shelter, moment, 10 * shelter + k))
    counts = pd.DataFrame(rows, columns=["shelter_id", "observed_at", "head_count"])
    # As the importer derives them: shelter 4 is listed at the 1st and 3rd snapshots only.
    periods = pd.DataFrame(
        {
            "shelter_id": [1, 2, 3, 4, 4],
            "opened_at": [T[0], T[0], T[0], T[0], T[2]],
            "closed_at": [pd.NaT, pd.NaT, pd.NaT, T[1], T[3]],
        }
    )
    curve = total_curve(counts, periods)
    per_time = counts.groupby("observed_at")["head_count"].sum()
    assert curve.set_index("at")["head_count"].to_dict() == per_time.to_dict()


def test_without_periods_every_counted_shelter_counts():
    counts = pd.DataFrame({"shelter_id": [1, 2], "observed_at": [T[0], T[1]], "head_count": [5, 7]})
    empty = pd.DataFrame(columns=["shelter_id", "opened_at", "closed_at"])
    assert total_curve(counts, empty)["head_count"].tolist() == [5, 12]


def test_shelter_peaks_first_time_of_the_highest_count():
    counts = pd.DataFrame(
        {
            "shelter_id": [1, 1, 1, 2],
            "observed_at": [T[0], T[1], T[2], T[0]],
            "head_count": [5, 9, 9, 1],
        }
    )
    peaks = shelter_peaks(counts)
    assert peaks[["shelter_id", "peak", "reports"]].values.tolist() == [[1, 9, 3], [2, 1, 1]]
    assert peaks["peak_at"].iloc[0] == T[1]


def test_empty_counts():
    empty = pd.DataFrame(columns=["shelter_id", "observed_at", "head_count"])
    periods = pd.DataFrame({"shelter_id": [1], "opened_at": [T[0]], "closed_at": [pd.NaT]})
    assert total_curve(empty, periods).empty
    assert total_curve(empty, periods, moments=[T[1]])[
        ["head_count", "shelters_open"]
    ].values.tolist() == [[0, 1]]
    assert peak(total_curve(empty, periods))["head_count"] is None


def test_one_new_count_at_a_new_time_keeps_the_other_shelters_totals():
    """The replay's bug: summing per exact timestamp made the city total fall to the one new
    count. Hand-computed: every shelter's latest count carried forward."""
    t = pd.to_datetime(
        [
            "2026-07-09 19:30:00",
            "2026-07-09 19:45:00",
            "2026-07-09 19:52:30",
            "2026-07-09 20:00:00",
        ],
        utc=True,
    )
    counts = pd.DataFrame(
        {
            # three shelters counted every 15 minutes; staff count shelter 2 once in between
            "shelter_id": [1, 2, 3, 1, 2, 3, 2, 1, 2, 3],
            "observed_at": [t[0]] * 3 + [t[1]] * 3 + [t[2]] + [t[3]] * 3,
            "head_count": [300, 200, 100, 320, 210, 110, 75, 330, 80, 120],
        }
    )
    periods = pd.DataFrame(
        {"shelter_id": [1, 2, 3], "opened_at": [t[0]] * 3, "closed_at": [pd.NaT] * 3}
    )
    curve = total_curve(counts, periods)
    assert curve["at"].tolist() == list(t)
    # 19:52:30 — 320 (carried) + 75 (new) + 110 (carried) = 505, not 75.
    assert curve["head_count"].tolist() == [600, 640, 505, 530]
    assert curve["shelters_counted"].tolist() == [3, 3, 3, 3]
