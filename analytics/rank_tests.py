"""Wilcoxon tests with Hodges–Lehmann estimates and confidence intervals, as R computes them.

:func:`wilcoxon_paired` follows R's ``wilcox.test(x, y, paired = TRUE, conf.int = TRUE)`` and
:func:`wilcoxon_two_sample` ``wilcox.test(x, y, conf.int = TRUE)`` (two-sided, ``mu = 0``,
``correct = TRUE``, ``exact = NULL``):

* **exact** when there are fewer than 50 observations (per sample) and no ties (and, paired, no
  zero differences). The p-value comes from the exact null distribution (signed-rank: the
  number of subsets of ``1..n`` with each rank sum; rank-sum: the Mann–Whitney counts), counted
  here with exact integer arithmetic. The Hodges–Lehmann estimate is the median of the Walsh
  averages ``(dᵢ + dⱼ)/2, i ≤ j`` (paired) or of all differences ``xᵢ − yⱼ`` (two samples), and
  the interval is ``[D₍q₎, D₍N−q+1₎]`` of the sorted averages/differences, where ``q`` is R's
  ``qsignrank(α/2, n)`` / ``qwilcox(α/2, m, n)`` — the smallest ``q`` with
  ``P(V ≤ q) ≥ α/2`` — raised to 1 when it is 0; ``achieved_confidence`` is
  ``1 − 2·P(V ≤ q − 1)``.
* **asymptotic** otherwise: the normal approximation with tie correction and continuity
  correction for the p-value; the interval endpoints and the estimate are the roots in ``d`` of
  the standardised statistic of ``x − d`` (R's algorithm; R solves with ``uniroot(tol =
  1e-4)``, here with ``brentq`` to 1e-10, so R's printed values agree to about 1e-4).

The statistic is R's: ``V`` = the sum of the ranks of the positive differences (paired), ``W`` =
the Mann–Whitney ``U`` of ``x`` (two samples).

Example: R's own help page for ``wilcox.test`` (Hollander & Wolfe 1973, p. 29: Hamilton
depression scale before (x) and after (y) the first tranquilizer treatment):

>>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
>>> y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
>>> r = wilcoxon_paired(x, y)
>>> r.statistic, round(r.p, 5), r.method
(40.0, 0.03906, 'exact')
>>> round(r.estimate, 4), round(r.ci_low, 4), round(r.ci_high, 4)
(0.46, 0.01, 0.786)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from functools import cache

import numpy as np
from scipy import optimize
from scipy.stats import norm, rankdata

EXACT_LIMIT = 50
_FUZZ = 10 * 2.220446049250313e-16  # R's quantile functions subtract 10·DBL_EPSILON from p


@dataclasses.dataclass(frozen=True)
class RankTestResult:
    statistic: float
    p: float
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    achieved_confidence: float
    method: str  # "exact" | "asymptotic"
    n: int
    n_y: int | None = None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- exact null distributions


@cache
def signrank_counts(n: int) -> tuple[int, ...]:
    """Number of subsets of ``{1..n}`` with each sum ``0..n(n+1)/2`` (the null distribution of
    V times ``2**n``)."""
    counts = [1]
    for r in range(1, n + 1):
        new = counts + [0] * r
        for s, c in enumerate(counts):
            new[s + r] += c
        counts = new
    return tuple(counts)


def psignrank(q: int, n: int) -> float:
    """``P(V ≤ q)`` for the signed-rank statistic with ``n`` non-zero differences."""
    counts = signrank_counts(n)
    if q < 0:
        return 0.0
    return sum(counts[: int(q) + 1]) / 2**n


def qsignrank(p: float, n: int) -> int:
    """Smallest ``q`` with ``P(V ≤ q) ≥ p`` (R's ``qsignrank``)."""
    counts = signrank_counts(n)
    total, cum = 2**n, 0
    for q, c in enumerate(counts):
        cum += c
        if cum / total >= p - _FUZZ:
            return q
    return len(counts) - 1


@cache
def ranksum_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of rank arrangements with each Mann–Whitney ``U = 0..mn`` (``m`` in x, ``n`` in y)."""
    # f[i][j] as a polynomial in U: f(i, j) = f(i-1, j) shifted by j + f(i, j-1).
    table: dict[tuple[int, int], list[int]] = {}
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                table[(i, j)] = [1]
                continue
            a = [0] * j + table[(i - 1, j)]
            b = table[(i, j - 1)]
            size = max(len(a), len(b))
            table[(i, j)] = [
                (a[k] if k < len(a) else 0) + (b[k] if k < len(b) else 0) for k in range(size)
            ]
    return tuple(table[(m, n)])


def pwilcox(q: int, m: int, n: int) -> float:
    counts = ranksum_counts(m, n)
    if q < 0:
        return 0.0
    return sum(counts[: int(q) + 1]) / math.comb(m + n, n)


def qwilcox(p: float, m: int, n: int) -> int:
    counts = ranksum_counts(m, n)
    total, cum = math.comb(m + n, n), 0
    for q, c in enumerate(counts):
        cum += c
        if cum / total >= p - _FUZZ:
            return q
    return len(counts) - 1


# ---------------------------------------------------------------- helpers


def walsh_averages(d: np.ndarray) -> np.ndarray:
    """Sorted ``(dᵢ + dⱼ)/2`` for ``i ≤ j``."""
    i, j = np.triu_indices(len(d))
    return np.sort((d[i] + d[j]) / 2)


def _tie_term(ranks: np.ndarray) -> float:
    _, counts = np.unique(ranks, return_counts=True)
    return float(np.sum(counts**3 - counts))


def _asymptotic_ci(
    z_of, lo: float, hi: float, alpha: float, confidence: float
) -> tuple[float, float, float, float]:
    """Roots of ``z_of(d) = ±z_{α/2}`` on ``[lo, hi]`` (R's algorithm), plus the estimate."""
    while True:
        mindiff = z_of(lo) - norm.isf(alpha / 2)
        maxdiff = z_of(hi) - norm.ppf(alpha / 2)
        if mindiff < 0 or maxdiff > 0:
            alpha *= 2
            if alpha >= 1:
                break
        else:
            break
    achieved = 1 - alpha
    if alpha >= 1:
        return float("nan"), float("nan"), float("nan"), 0.0

    def root(zq: float, correct: bool = True) -> float:
        f = lambda d: z_of(d, correct) - zq  # noqa: E731
        f_lo, f_hi = f(lo), f(hi)
        if f_lo <= 0:
            return lo
        if f_hi >= 0:
            return hi
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))

    low = root(float(norm.isf(alpha / 2)))
    high = root(float(norm.ppf(alpha / 2)))
    estimate = root(0.0, correct=False)
    return low, high, estimate, achieved if 1 - confidence < alpha * 0.75 else confidence


def _exact_result(
    statistic: float,
    centre: float,
    cdf: Callable[[int], float],
    quantile: Callable[[float], int],
    shifts: Callable[[], np.ndarray],
    count: int,
    confidence: float,
    *sizes: int,
) -> RankTestResult:
    """The exact test and interval: the two-sided p of ``statistic`` under the null
    distribution ``cdf`` (symmetric about ``centre``, ``quantile`` its inverse), and the
    Hodges–Lehmann estimate with its distribution-free interval from the ``count`` sorted
    ``shifts()`` (Walsh averages, or differences between the samples)."""
    if statistic > centre:
        p = 1 - cdf(int(statistic) - 1)
    else:
        p = cdf(int(statistic))
    p = min(2 * p, 1.0)
    ordered = shifts()
    qu = quantile((1 - confidence) / 2)
    if qu == 0:
        qu = 1
    ql = count - qu
    achieved = 1 - 2 * cdf(qu - 1)
    return RankTestResult(
        statistic,
        p,
        float(np.median(ordered)),
        float(ordered[qu - 1]),
        float(ordered[ql]),
        confidence,
        achieved,
        "exact",
        *sizes,
    )


# ---------------------------------------------------------------- paired


def wilcoxon_paired(x, y, confidence: float = 0.95, exact: bool | None = None) -> RankTestResult:
    """Wilcoxon signed-rank test of ``x − y`` with the Hodges–Lehmann shift and its interval.

    Pairs with a missing value are dropped (as ``complete.cases`` in R).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    ok = np.isfinite(x) & np.isfinite(y)
    d_all = x[ok] - y[ok]
    zeroes = bool(np.any(d_all == 0))
    d = d_all[d_all != 0]
    n = len(d)
    if n < 1:
        raise ValueError("no non-zero paired differences")
    if exact is None:
        exact = n < EXACT_LIMIT
    ranks = rankdata(np.abs(d))
    statistic = float(ranks[d > 0].sum())
    ties = len(np.unique(ranks)) != n
    alpha = 1 - confidence
    if exact and not ties and not zeroes:
        return _exact_result(
            statistic,
            n * (n + 1) / 4,
            lambda q: psignrank(q, n),
            lambda a: qsignrank(a, n),
            lambda: walsh_averages(d),
            n * (n + 1) // 2,
            confidence,
            n,
        )
    sigma2 = n * (n + 1) * (2 * n + 1) / 24 - _tie_term(ranks) / 48
    z = statistic - n * (n + 1) / 4
    z = (z - np.sign(z) * 0.5) / math.sqrt(sigma2)
    p = float(2 * min(norm.cdf(z), norm.sf(z)))
    base = d  # R drops zero differences before computing the interval

    def z_of(shift: float, correct: bool = True) -> float:
        xd = base - shift
        xd = xd[xd != 0]
        nx = len(xd)
        r = rankdata(np.abs(xd))
        zd = r[xd > 0].sum() - nx * (nx + 1) / 4
        s2 = nx * (nx + 1) * (2 * nx + 1) / 24 - _tie_term(r) / 48
        if s2 <= 0:
            raise ValueError("cannot compute a confidence interval when all observations are tied")
        return (zd - (np.sign(zd) * 0.5 if correct else 0.0)) / math.sqrt(s2)

    low, high, estimate, achieved = _asymptotic_ci(
        z_of, float(base.min()), float(base.max()), alpha, confidence
    )
    return RankTestResult(statistic, p, estimate, low, high, confidence, achieved, "asymptotic", n)


# ---------------------------------------------------------------- two samples


def wilcoxon_two_sample(
    x, y, confidence: float = 0.95, exact: bool | None = None
) -> RankTestResult:
    """Wilcoxon rank-sum (Mann–Whitney) test with the Hodges–Lehmann shift ``x − y``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    m, n = len(x), len(y)
    if m < 1 or n < 1:
        raise ValueError("both samples need observations")
    if exact is None:
        exact = m < EXACT_LIMIT and n < EXACT_LIMIT
    ranks = rankdata(np.concatenate([x, y]))
    statistic = float(ranks[:m].sum() - m * (m + 1) / 2)
    ties = len(np.unique(ranks)) != m + n
    alpha = 1 - confidence
    if exact and not ties:
        return _exact_result(
            statistic,
            m * n / 2,
            lambda q: pwilcox(q, m, n),
            lambda a: qwilcox(a, m, n),
            lambda: np.sort(np.subtract.outer(x, y).ravel()),
            m * n,
            confidence,
            m,
            n,
        )
    N = m + n
    sigma2 = (m * n / 12) * ((N + 1) - _tie_term(ranks) / (N * (N - 1)))
    z = statistic - m * n / 2
    z = (z - np.sign(z) * 0.5) / math.sqrt(sigma2)
    p = float(2 * min(norm.cdf(z), norm.sf(z)))

    def z_of(shift: float, correct: bool = True) -> float:
        r = rankdata(np.concatenate([x - shift, y]))
        dz = r[:m].sum() - m * (m + 1) / 2 - m * n / 2
        s2 = (m * n / 12) * ((N + 1) - _tie_term(r) / (N * (N - 1)))
        if s2 <= 0:
            raise ValueError("cannot compute a confidence interval when all observations are tied")
        return (dz - (np.sign(dz) * 0.5 if correct else 0.0)) / math.sqrt(s2)

    low, high, estimate, achieved = _asymptotic_ci(
        z_of, float(x.min() - y.max()), float(x.max() - y.min()), alpha, confidence
    )
    return RankTestResult(
        statistic, p, estimate, low, high, confidence, achieved, "asymptotic", m, n
    )
