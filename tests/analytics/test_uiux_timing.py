"""UI/UX task timing: summaries as pandas computes them, the Tukey outlier rule, and paired /
unpaired comparisons against R's ``wilcox.test(conf.int = TRUE)`` on the sample sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import uiux_timing
from surveys.timing_sheet import read_timing_sheet

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"


@pytest.fixture(scope="module")
def sheet() -> pd.DataFrame:
    return read_timing_sheet(SAMPLES / "uiux_timings_2021.csv").frame


def test_summary_per_task_method_group_equals_pandas(sheet):
    table = uiux_timing.summary(sheet)
    assert len(table) == 12
    for row in table.to_dict("records"):
        part = sheet[
            (sheet["task"] == row["task"])
            & (sheet["method"] == row["method"])
            & (sheet["group"] == row["group"])
        ]
        times = part["seconds"].dropna()
        assert row["n"] == len(times) and row["attempts"] == len(part)
        assert row["median_s"] == pytest.approx(times.median(), abs=1e-12)
        assert row["mean_s"] == pytest.approx(times.mean(), abs=1e-12)
        assert row["failures"] == int((part["success"] == False).sum())  # noqa: E712
        assert row["errors"] == int(part["error_count"].fillna(0).sum())
    # paper is listed before app for each task
    plan = table[table["task"] == "マイタイムライン作成"]["method"].tolist()
    assert plan == ["paper"] * 3 + ["app"] * 3


def test_outliers_are_flagged_by_tukey_fences_and_kept():
    frame = pd.DataFrame(
        {
            "participant": list("abcdefg"),
            "group": ["general"] * 7,
            "task": ["t"] * 7,
            "method": ["app"] * 7,
            "seconds": [100, 104, 98, 101, 99, 103, 400],
            "success": [True] * 7,
        }
    )
    flags = uiux_timing.flag_outliers(frame)
    # By hand: Q1 = 99.5, Q3 = 103.5, IQR = 4 → upper fence 109.5; only 400 is outside.
    assert flags.tolist() == [False] * 6 + [True]
    row = uiux_timing.summary(frame).iloc[0]
    assert row["outliers"] == 1 and row["n"] == 7  # flagged, not removed
    assert row["mean_s"] == pytest.approx(np.mean([100, 104, 98, 101, 99, 103, 400]))


def test_paired_paper_vs_app_equals_r(sheet):
    results = uiux_timing.paired_comparisons(sheet, by_group=True)
    plan = {r["group"]: r for r in results if r["task"] == "マイタイムライン作成"}
    everyone = plan["all"]
    assert (everyone["first"], everyone["second"], everyone["n"]) == ("paper", "app", 18)
    # Reference: R> wilcox.test(paper, app, paired = TRUE, conf.int = TRUE) on the 18 pairs
    #   V = 171, p-value = 2.1372191522501475e-04 (normal approximation: tied differences),
    #   (pseudo)median 340.49993, CI 289.49996 423.99996 (uniroot tol 1e-4)
    assert everyone["statistic"] == 171
    assert everyone["p"] == pytest.approx(2.1372191522501475e-04, abs=1e-12)
    assert everyone["hl_shift_s"] == pytest.approx(340.5, abs=1e-4)
    assert (everyone["ci_low"], everyone["ci_high"]) == pytest.approx((289.5, 424.0), abs=1e-4)
    # Reference: R> wilcox.test(paper[1:6], app[1:6], paired = TRUE, conf.int = TRUE) (elderly)
    #   V = 21, p-value = 0.03125, (pseudo)median 498, CI 399 659 (exact)
    elderly = plan["elderly"]
    assert elderly["method"] == "exact" and elderly["n"] == 6
    assert (elderly["statistic"], elderly["p"]) == pytest.approx((21, 0.03125), abs=1e-12)
    assert (elderly["hl_shift_s"], elderly["ci_low"], elderly["ci_high"]) == pytest.approx(
        (498, 399, 659), abs=1e-9
    )
    # Tasks done with one method only get no comparison.
    assert {r["task"] for r in results} == {"マイタイムライン作成"}


def test_unpaired_when_different_people_used_each_method():
    a = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    b = [1.15, 0.88, 0.90, 0.74, 1.21]
    frame = pd.DataFrame(
        {
            "participant": [f"p{i}" for i in range(10)] + [f"a{i}" for i in range(5)],
            "group": ["general"] * 15,
            "task": ["plan"] * 15,
            "method": ["paper"] * 10 + ["app"] * 5,
            "seconds": a + b,
            "success": [True] * 15,
        }
    )
    assert uiux_timing.paired_comparisons(frame) == []
    (res,) = uiux_timing.unpaired_comparisons(frame)
    # Reference: R> wilcox.test(a, b, conf.int = TRUE): W = 35, p = 0.2544122544122544,
    #   difference in location 0.305, CI -0.15 0.76
    assert (res["statistic"], res["p"]) == pytest.approx((35, 0.2544122544122544), abs=1e-12)
    assert (res["hl_shift_s"], res["ci_low"], res["ci_high"]) == pytest.approx(
        (0.305, -0.15, 0.76), abs=1e-9
    )


def test_abandoned_attempts_leave_pairs_incomplete(sheet):
    frame = sheet.copy()
    row = frame.index[(frame["task"] == "マイタイムライン作成") & (frame["method"] == "app")][0]
    frame.loc[row, ["seconds", "success"]] = [np.nan, False]
    everyone = next(r for r in uiux_timing.paired_comparisons(frame) if r["group"] == "all")
    assert everyone["n"] == 17 and everyone["incomplete_pairs"] == 1


def test_analyse_states_its_methods(sheet):
    out = uiux_timing.analyse(sheet)
    assert out["n_participants"] == 18
    assert "Tukey" in out["method"]["outliers"]
    assert {"n", "median_s", "mean_s"} <= set(out["summary"][0])
    assert {"statistic", "p", "hl_shift_s", "ci_low", "ci_high"} <= set(out["paired"][0])
