"""What changed between two moments: figures, shelters, warnings, empty sections."""

from __future__ import annotations

import pandas as pd

from analytics.situation_changes import (
    compare_figures,
    empty_sections,
    shelter_changes,
    warning_changes,
)


def test_figures_mark_exactly_what_moved():
    table = compare_figures(
        {"a": 10, "b": 5, "c": None, "d": 2.5},
        {"a": 10, "b": 7, "c": 3, "d": 2.0},
        ["a", "b", "c", "d"],
    )
    assert table["changed"].tolist() == [False, True, True, True]
    assert table["delta"].tolist()[:2] == [0, 2]
    assert table["delta"].iloc[2] is None
    assert table["delta"].iloc[3] == -0.5


def test_shelters_opened_closed_full_and_largest_changes():
    before = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["=HYPERLINK(1)", "B", "C"],
            "is_open": [True, True, False],
            "head_count": [100, 10, None],
            "congestion": ["crowded", "vacant", "unknown"],
        }
    )
    after = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["=HYPERLINK(1)", "B", "C"],
            "is_open": [True, False, True],
            "head_count": [160, 10, 20],
            "congestion": ["full", "vacant", "vacant"],
        }
    )
    changes = shelter_changes(before, after)
    assert changes["opened"] == ["C"]
    assert changes["closed"] == ["B"]
    assert changes["became_full"] == ["=HYPERLINK(1)"]
    assert changes["head_count"] == (110, 180)
    assert changes["largest"][["name", "delta"]].values.tolist() == [
        ["=HYPERLINK(1)", 60],
        ["C", 20],
    ]


def test_warnings_and_empty_sections():
    before = pd.DataFrame({"kind_code": ["03"], "kind_name": ["大雨警報"]})
    after = pd.DataFrame({"kind_code": ["03", "04"], "kind_name": ["大雨警報", "洪水警報"]})
    assert warning_changes(before, after) == {
        "issued": ["洪水警報"],
        "lifted": [],
        "continuing": ["大雨警報"],
    }
    assert warning_changes(after, before.iloc[0:0])["lifted"] == ["大雨警報", "洪水警報"]
    assert empty_sections({"status": 3, "rescue": 0, "warnings": None}) == ["rescue", "warnings"]
