"""The unaccounted-for list: scope, priority order, districts, households, key figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.unaccounted import (
    accounted_counts,
    by_district,
    households,
    unaccounted,
    with_states,
)

T = dt.datetime(2026, 7, 10, 6, 0, tzinfo=dt.UTC)


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "citizen_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "district": ["北", "北", "南", "南", "南", "北", None, "南"],
            "household_id": [10, 10, 20, 20, 30, 40, 50, np.nan],
            "on_register": [False, True, False, True, False, False, False, False],
            "in_zone": [True, False, False, False, True, False, False, True],
        }
    )


def merged() -> pd.DataFrame:
    def ago(m):
        return T - dt.timedelta(minutes=m)

    return pd.DataFrame(
        {
            "citizen_id": [1, 3, 4, 5, 6],
            "state": ["moving", "safe", "needs_help", "moving", "safe"],
            "source": ["app", "reception", "follow_up", "app", "supporter"],
            "detail": ["evacuating", "checked_in", "needs_help", "evacuating", "safe"],
            "at": [ago(20), ago(5), ago(50), ago(90), ago(1)],
            "last_contact_at": [ago(20), ago(5), ago(50), ago(90), ago(1)],
        }
    )


def rows() -> pd.DataFrame:
    return with_states(people(), merged())


def test_priority_order_register_then_hazard_zone_then_longest_without_contact():
    board = unaccounted(rows(), T)
    assert board["citizen_id"].tolist() == [2, 4, 8, 5, 1, 7]
    assert board["scope"].tolist() == ["priority"] * 5 + ["everyone"]
    assert board["state"].tolist() == [
        "no_contact",
        "needs_help",
        "no_contact",
        "moving",
        "moving",
        "no_contact",
    ]
    assert board["minutes_since_contact"].tolist()[1] == 50.0


def test_escalated_plans_come_first():
    board = unaccounted(rows(), T, escalated=[4])
    assert board["citizen_id"].tolist()[:2] == [4, 2]
    assert board["escalated"].tolist()[:2] == [True, False]


def test_grouped_by_district_most_priority_first():
    table = by_district(unaccounted(rows(), T))
    assert table["district"].tolist() == ["南", "北", "—"]
    south = table.iloc[0]
    assert (south["unaccounted"], south["priority"], south["needs_help"]) == (3, 3, 1)
    assert south["households"] == 2  # person 8 has no household


def test_households_are_accounted_for_when_all_members_are():
    table = households(rows())
    assert 40 not in table["household_id"].tolist()  # its only member is safe
    row = table.set_index("household_id").loc[20]
    assert (row["members"], row["accounted"], row["unaccounted"], row["needs_help"]) == (2, 1, 1, 1)
    assert table["household_id"].tolist()[:2] == [10, 20]  # register members first


def test_key_figures():
    counts = accounted_counts(rows())
    assert counts == {
        "people": 8,
        "accounted": 2,
        "unaccounted": 6,
        "needs_help": 1,
        "no_contact": 3,
        "moving": 2,
        "priority": 5,
        "priority_unaccounted": 5,
        "register": 2,
        "register_unaccounted": 2,
    }
