"""Small-cell suppression: counts below 5 are shown as 「5未満」, their shares hidden."""

from __future__ import annotations

import pandas as pd

from analytics.small_cells import is_small, suppress, suppress_records


def test_counts_below_five_are_suppressed_but_zero_is_shown():
    assert [is_small(n) for n in (0, 1, 4, 5, 12, None, "x")] == [
        False,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_suppress_frame_masks_dependent_columns():
    frame = pd.DataFrame(
        {"group": ["a", "b", "c"], "n": [12, 3, 0], "count": [6, 2, 0], "share": [0.5, 0.67, 0.0]}
    )
    out = suppress(frame, counts=["n", "count"], dependent=["share"])
    assert out["n"].tolist() == ["12", "5未満", "0"]
    assert out["count"].tolist() == ["6", "5未満", "0"]
    assert out["share"].tolist() == ["0.5", "—", "0"]
    english = suppress(frame, counts=["n"], lang="en")
    assert english["n"].tolist()[1] == "<5"


def test_a_small_count_in_a_large_group_is_still_suppressed():
    out = suppress(pd.DataFrame({"n": [40], "count": [2], "share": [0.05]}), ["n", "count"])
    assert out["count"].tolist() == ["5未満"] and out["n"].tolist() == ["40"]


def test_suppress_records_for_json():
    records = [{"n": 3, "count": 2, "share": 0.67, "ci_low": 0.2}, {"n": 20, "count": 1}]
    out = suppress_records(records)
    assert out[0] == {"n": "5未満", "count": "5未満", "share": None, "ci_low": None}
    assert out[1] == {"n": 20, "count": "5未満"}
