"""The register work order: unconfirmed first, longest without contact first; filters."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.support_register import NO_REPORT, reference_time, select, work_order

T = dt.datetime(2026, 7, 10, 6, 0, tzinfo=dt.UTC)


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "citizen_id": [1, 2, 3, 4, 5, 6],
            "district": ["北", "北", "南", "南", "北", "南"],
            "state": ["safe_at_home", None, "needs_rescue", "at_shelter", "evacuating", None],
            "last_contact_at": [
                T - dt.timedelta(minutes=200),
                None,
                T - dt.timedelta(minutes=10),
                T - dt.timedelta(minutes=5),
                T - dt.timedelta(minutes=50),
                None,
            ],
        }
    )


def test_unconfirmed_first_then_never_contacted_then_longest_waiting():
    board = work_order(people(), T)
    assert board["citizen_id"].tolist() == [2, 6, 5, 3, 1, 4]
    assert board["status"].tolist()[:2] == [NO_REPORT, NO_REPORT]
    assert board["confirmed"].tolist() == [False, False, False, False, True, True]
    assert board["minutes_since_contact"].tolist()[2:] == [50.0, 10.0, 200.0, 5.0]


def test_contact_after_the_reference_counts_as_zero_minutes():
    frame = people().assign(last_contact_at=[T + dt.timedelta(minutes=3)] * 6)
    assert set(work_order(frame, T)["minutes_since_contact"]) == {0.0}


def test_filters_by_district_and_status():
    board = work_order(people(), T)
    assert select(board)["citizen_id"].tolist() == board["citizen_id"].tolist()
    assert select(board, districts=["南"])["citizen_id"].tolist() == [6, 3, 4]
    assert select(board, statuses=[NO_REPORT])["citizen_id"].tolist() == [2, 6]
    assert select(board, ["北"], ["safe_at_home", NO_REPORT])["citizen_id"].tolist() == [2, 1]


def test_reference_time_is_the_demo_clock_only_for_synthetic_data():
    now = T + dt.timedelta(days=100)
    assert reference_time(now, T, synthetic=True) == T
    assert reference_time(now, T, synthetic=False) == now
    assert reference_time(now, None, synthetic=True) == now
