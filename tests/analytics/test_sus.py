"""System Usability Scale scoring (Brooke 1996) and the Sauro–Lewis grades."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import sus


def test_brooke_scoring_worked_examples():
    # Brooke (1996): odd items contribute x - 1, even items 5 - x, the sum times 2.5.
    assert sus.sus_score([3] * 10) == 50.0
    assert sus.sus_score([5, 1] * 5) == 100.0
    assert sus.sus_score([1, 5] * 5) == 0.0
    # By hand: (3+3+3+4+3) + (3+4+3+4+3) = 33 → 82.5
    assert sus.sus_score([4, 2, 4, 1, 4, 2, 5, 1, 4, 2]) == 82.5


def test_incomplete_and_invalid_answers():
    assert math.isnan(sus.sus_score([4, 2, 4, 1, 4, 2, 5, 1, 4, np.nan]))
    with pytest.raises(ValueError):
        sus.sus_score([6, 2, 4, 1, 4, 2, 5, 1, 4, 2])
    with pytest.raises(ValueError):
        sus.sus_score([4, 2, 4])


def test_grades_follow_sauro_lewis_curved_scale():
    # Sauro & Lewis (2016), table 8.5: 84.1-100 A+, 80.8 A, 78.9 A-, 77.2 B+, 74.1 B,
    # 72.6 B-, 71.1 C+, 65.0 C, 62.7 C-, 51.7 D, below F.
    cases = {100: "A+", 84.1: "A+", 84.0: "A", 80.8: "A", 68.0: "C", 51.7: "D", 51.6: "F"}
    for score, expected in cases.items():
        assert sus.grade(score) == expected
    assert sus.grade(float("nan")) is None


def test_summary_uses_the_t_interval():
    scores = [82.5, 70.0, 55.0, 90.0, 67.5, 72.5, float("nan")]
    res = sus.summary(scores)
    ok = np.array(scores[:-1])
    # Reference: scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=sem)
    low, high = stats.t.interval(0.95, len(ok) - 1, loc=ok.mean(), scale=stats.sem(ok))
    assert res["n"] == 6 and res["incomplete"] == 1
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((low, high), abs=1e-9)
    assert res["mean"] == pytest.approx(ok.mean(), abs=1e-12)
    assert res["grade"] == sus.grade(ok.mean())


def test_scores_of_a_frame():
    frame = pd.DataFrame([[4, 2, 4, 1, 4, 2, 5, 1, 4, 2], [3] * 10], columns=list(sus.ITEMS))
    assert sus.sus_scores(frame).tolist() == [82.5, 50.0]
