"""Wilson intervals against ``statsmodels.stats.proportion.proportion_confint``."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics.proportions import proportion, wilson_ci


@pytest.mark.parametrize("nobs", [1, 2, 5, 12, 37, 240, 12000])
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_wilson_equals_statsmodels(nobs, confidence):
    for count in sorted({0, 1, nobs // 3, nobs // 2, nobs - 1, nobs}):
        if count < 0:
            continue
        # Reference: proportion_confint(count, nobs, alpha=1 - confidence, method="wilson")
        ref = proportion_confint(count, nobs, alpha=1 - confidence, method="wilson")
        assert wilson_ci(count, nobs, confidence) == pytest.approx(ref, abs=1e-12)


def test_wilson_worked_example():
    # Worked example (Newcombe 1998, Statistics in Medicine 17:857, table I, case 81/263):
    # Wilson 95 % interval 0.2553 to 0.3662.
    low, high = wilson_ci(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_proportion_record_and_empty_denominator():
    rec = proportion(3, 4)
    assert rec["count"] == 3 and rec["n"] == 4 and rec["share"] == 0.75
    empty = proportion(0, 0)
    assert math.isnan(empty["share"]) and math.isnan(empty["ci_low"])
    with pytest.raises(ValueError):
        wilson_ci(5, 4)
