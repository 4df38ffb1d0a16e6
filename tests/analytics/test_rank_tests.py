"""Wilcoxon tests and Hodges–Lehmann intervals against R's ``wilcox.test`` and scipy.

R values were computed with R 4.2.2 (``options(digits = 17)``) by the calls quoted in each
test; exact cases agree to 1e-9. In the asymptotic (ties) cases R finds the interval with
``uniroot(tol = 1e-4)``, so R's printed endpoints are within 1e-4 of the exact roots we compute
(which are Walsh averages / pairwise differences, where the step function crosses).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from analytics import rank_tests

# Hollander & Wolfe (1973, p. 29), the example of R's ?wilcox.test: Hamilton depression scale.
HW_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
HW_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]


def brute_force_signrank(n: int) -> dict[int, int]:
    """The null distribution of V by enumerating all 2**n sign vectors (independent check)."""
    counts: dict[int, int] = {}
    for signs in itertools.product((0, 1), repeat=n):
        v = sum(rank for rank, s in zip(range(1, n + 1), signs, strict=True) if s)
        counts[v] = counts.get(v, 0) + 1
    return counts


def test_signed_rank_distribution_by_enumeration():
    for n in (1, 4, 9, 12):
        brute = brute_force_signrank(n)
        assert rank_tests.signrank_counts(n) == tuple(brute[v] for v in range(len(brute)))
    # Reference: R psignrank(5, 9) = 0.01953125; qsignrank(0.025, 5:12) = 0 1 3 4 6 9 11 14
    assert rank_tests.psignrank(5, 9) == pytest.approx(0.01953125, abs=1e-15)
    assert [rank_tests.qsignrank(0.025, n) for n in range(5, 13)] == [0, 1, 3, 4, 6, 9, 11, 14]


def test_rank_sum_distribution():
    # Reference: R qwilcox(0.025, 10, 5) = 9; pwilcox(10, 10, 5) = 0.037629037629037625
    assert rank_tests.qwilcox(0.025, 10, 5) == 9
    assert rank_tests.pwilcox(10, 10, 5) == pytest.approx(0.037629037629037625, abs=1e-15)
    # Independent: enumerate every split of 1..8 into x (3) and y (5)
    brute: dict[int, int] = {}
    for xs in itertools.combinations(range(1, 9), 3):
        u = sum(xs) - 6
        brute[u] = brute.get(u, 0) + 1
    assert rank_tests.ranksum_counts(3, 5) == tuple(brute[u] for u in range(16))


def test_paired_exact_equals_r_help_example():
    # Reference: R> wilcox.test(x, y, paired = TRUE, conf.int = TRUE)
    #   V = 40, p-value = 0.0390625; 95 percent CI 0.010 0.786; (pseudo)median 0.46
    r = rank_tests.wilcoxon_paired(HW_X, HW_Y)
    assert r.method == "exact"
    assert r.statistic == 40
    assert r.p == pytest.approx(0.0390625, abs=1e-12)
    assert r.estimate == pytest.approx(0.46, abs=1e-9)
    assert r.ci_low == pytest.approx(0.010, abs=1e-9)
    assert r.ci_high == pytest.approx(0.786, abs=1e-9)
    # Hollander & Wolfe: the interval [W(6), W(40)] has confidence 1 - 2·P(V <= 5) = 96.1 %.
    assert r.achieved_confidence == pytest.approx(1 - 2 * 0.01953125, abs=1e-12)
    # Reference: scipy.stats.wilcoxon(x, y, method="exact")
    assert r.p == pytest.approx(stats.wilcoxon(HW_X, HW_Y, method="exact").pvalue, abs=1e-12)


def test_paired_exact_interval_by_hand():
    # By hand: the 45 Walsh averages of the differences; qsignrank(0.025, 9) = 6, so the
    # interval is [6th smallest, 6th largest] and the estimate their median.
    d = np.subtract(HW_X, HW_Y)
    walsh = sorted((d[i] + d[j]) / 2 for i in range(9) for j in range(i, 9))
    r = rank_tests.wilcoxon_paired(HW_X, HW_Y)
    assert (r.ci_low, r.ci_high) == pytest.approx((walsh[5], walsh[-6]), abs=1e-12)
    assert r.estimate == pytest.approx(walsh[22], abs=1e-12)


def test_paired_six_participants_paper_vs_app():
    paper = [883.0, 715.0, 973.0, 827.0, 1025.0, 746.0]
    app = [425.0, 316.0, 376.0, 345.0, 366.0, 318.0]
    # Reference: R> wilcox.test(paper, app, paired = TRUE, conf.int = TRUE)
    #   V = 21, p-value = 0.03125, CI 399 659, (pseudo)median 498
    r = rank_tests.wilcoxon_paired(paper, app)
    assert (r.statistic, r.method) == (21, "exact")
    assert r.p == pytest.approx(0.03125, abs=1e-12)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((498, 399, 659), abs=1e-9)


def test_paired_tiny_sample_widens_the_interval_like_r():
    # Reference: R> wilcox.test(c(10,12,15,20), c(8,9,11,13), paired = TRUE, conf.int = TRUE)
    #   V = 10, p = 0.125, CI 2 7 (warning: requested conf.level not achievable), estimate 3.75
    r = rank_tests.wilcoxon_paired([10, 12, 15, 20], [8, 9, 11, 13])
    assert (r.statistic, r.p, r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (10, 0.125, 3.75, 2, 7), abs=1e-12
    )
    assert r.achieved_confidence == pytest.approx(0.875, abs=1e-12)


def test_paired_with_ties_uses_the_normal_approximation_like_r():
    paper = [750, 812, 690, 905, 640, 1020, 780, 870, 720, 960, 655, 830]
    app = [410, 395, 450, 520, 380, 610, 430, 470, 400, 560, 372, 455]
    # Reference: R> wilcox.test(paper, app, paired = TRUE, conf.int = TRUE)
    #   V = 78, p-value = 0.002516496563841506, estimate 350.000033192029150,
    #   CI 307.500074802382642 392.500050842193673
    r = rank_tests.wilcoxon_paired(paper, app)
    assert r.method == "asymptotic"
    assert r.statistic == 78
    assert r.p == pytest.approx(0.002516496563841506, abs=1e-12)
    assert r.estimate == pytest.approx(350.000033192029150, abs=1e-4)
    assert r.ci_low == pytest.approx(307.500074802382642, abs=1e-4)
    assert r.ci_high == pytest.approx(392.500050842193673, abs=1e-4)
    # Reference: scipy.stats.wilcoxon(paper, app, correction=True, method="approx")
    ref = stats.wilcoxon(paper, app, correction=True, method="approx")
    assert r.p == pytest.approx(ref.pvalue, abs=1e-12)


def test_paired_with_a_zero_difference_like_r():
    p2 = [120, 95, 130, 110, 140, 100, 125, 115, 105, 135]
    a2 = [100, 95, 110, 100, 120, 90, 100, 100, 100, 110]
    # Reference: R> wilcox.test(p2, a2, paired = TRUE, conf.int = TRUE)
    #   V = 45, p-value = 0.0087888038746777083, estimate 17.4999961454574517,
    #   CI 10.0000606759536339 22.5000253445312524
    r = rank_tests.wilcoxon_paired(p2, a2)
    assert (r.statistic, r.n, r.method) == (45, 9, "asymptotic")
    assert r.p == pytest.approx(0.0087888038746777083, abs=1e-12)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((17.5, 10.0, 22.5), abs=1e-4)


def test_two_sample_exact_like_r():
    a = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    b = [1.15, 0.88, 0.90, 0.74, 1.21]
    # Reference: R> wilcox.test(a, b, conf.int = TRUE)  (the example of ?wilcox.test)
    #   W = 35, p-value = 0.2544122544122544, difference in location 0.305, CI -0.15 0.76
    r = rank_tests.wilcoxon_two_sample(a, b)
    assert (r.statistic, r.method) == (35, "exact")
    assert r.p == pytest.approx(0.25441225441225440, abs=1e-12)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((0.305, -0.15, 0.76), abs=1e-9)
    # Reference: scipy.stats.mannwhitneyu(a, b, method="exact")
    ref = stats.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    assert (r.statistic, r.p) == pytest.approx((ref.statistic, ref.pvalue), abs=1e-12)


def test_two_sample_with_ties_like_r():
    a3 = [3, 4, 4, 5, 5, 5, 2, 4]
    b3 = [2, 2, 3, 3, 4, 1, 2]
    # Reference: R> wilcox.test(a3, b3, conf.int = TRUE)
    #   W = 48, p-value = 0.020595891428921383, estimate 1.99997, CI 1.9e-05 2.9999998
    r = rank_tests.wilcoxon_two_sample(a3, b3)
    assert (r.statistic, r.method) == (48, "asymptotic")
    assert r.p == pytest.approx(0.020595891428921383, abs=1e-12)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((2.0, 0.0, 3.0), abs=1e-4)
    # Reference: scipy.stats.mannwhitneyu(a3, b3, use_continuity=True, method="asymptotic")
    ref = stats.mannwhitneyu(a3, b3, alternative="two-sided", method="asymptotic")
    assert r.p == pytest.approx(ref.pvalue, abs=1e-12)


def test_missing_pairs_are_dropped_and_no_differences_is_an_error():
    r = rank_tests.wilcoxon_paired([*HW_X, np.nan], [*HW_Y, 1.0])
    assert r.n == 9 and r.statistic == 40
    with pytest.raises(ValueError):
        rank_tests.wilcoxon_paired([1, 2], [1, 2])
