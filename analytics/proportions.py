"""Proportions with Wilson score confidence intervals.

The Wilson interval (Wilson 1927) is the one ``statsmodels.stats.proportion.proportion_confint(
count, nobs, alpha, method="wilson")`` computes; it behaves well for small samples and for
proportions near 0 or 1 (unlike the Wald interval).

>>> low, high = wilson_ci(9, 10)
>>> round(low, 4), round(high, 4)
(0.5958, 0.9821)
>>> wilson_ci(0, 0)
(nan, nan)
"""

from __future__ import annotations

import math

from scipy.stats import norm


def wilson_ci(count: int, nobs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``count`` successes out of ``nobs`` (NaN when ``nobs`` is 0)."""
    if nobs <= 0:
        return float("nan"), float("nan")
    if not 0 <= count <= nobs:
        raise ValueError(f"count {count} must be between 0 and nobs {nobs}")
    z = float(norm.isf((1 - confidence) / 2))
    p = count / nobs
    denom = 1 + z * z / nobs
    centre = (p + z * z / (2 * nobs)) / denom
    half = z * math.sqrt(p * (1 - p) / nobs + z * z / (4 * nobs * nobs)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def proportion(count: int, nobs: int, confidence: float = 0.95) -> dict[str, float | int]:
    """``{"n", "count", "share", "ci_low", "ci_high"}`` for one proportion.

    >>> proportion(3, 4)["share"]
    0.75
    """
    low, high = wilson_ci(count, nobs, confidence)
    return {
        "n": int(nobs),
        "count": int(count),
        "share": count / nobs if nobs else float("nan"),
        "ci_low": low,
        "ci_high": high,
    }
