"""System Usability Scale (Brooke 1996): scores, summary and the Sauro–Lewis grade.

Each of the ten 5-point items contributes ``x − 1`` (odd items) or ``5 − x`` (even items); the
sum times 2.5 is the SUS score (0–100). A response needs all ten answers (Brooke's scoring has
no rule for missing items; incomplete responses get NaN and are counted as such). The grade is
the curved grading scale of Sauro & Lewis (2016, *Quantifying the User Experience*, 2nd ed.,
table 8.5).

>>> sus_score([4, 2, 4, 1, 4, 2, 5, 1, 4, 2])
82.5
>>> grade(82.5)
'A'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

ITEMS = tuple(f"sus{i:02d}" for i in range(1, 11))
#: (lowest score of the grade, grade), Sauro & Lewis curved grading scale.
GRADES = (
    (84.1, "A+"),
    (80.8, "A"),
    (78.9, "A-"),
    (77.2, "B+"),
    (74.1, "B"),
    (72.6, "B-"),
    (71.1, "C+"),
    (65.0, "C"),
    (62.7, "C-"),
    (51.7, "D"),
    (0.0, "F"),
)


def sus_score(answers: Sequence[float]) -> float:
    """The SUS score of one response given as the ten raw answers (1–5) in item order."""
    values = np.asarray(answers, dtype=float)
    if values.shape != (10,):
        raise ValueError("SUS needs exactly ten answers")
    if np.isnan(values).any():
        return float("nan")
    if ((values < 1) | (values > 5)).any():
        raise ValueError("SUS answers must be between 1 and 5")
    odd = values[0::2] - 1
    even = 5 - values[1::2]
    return float((odd.sum() + even.sum()) * 2.5)


def sus_scores(frame: pd.DataFrame, items: Sequence[str] = ITEMS) -> pd.Series:
    """SUS score of each row of ``frame`` (raw answers in the columns ``items``)."""
    values = frame[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return pd.Series([sus_score(row) for row in values], index=frame.index, name="sus")


def grade(score: float) -> str | None:
    if score is None or math.isnan(score):
        return None
    return next(g for lower, g in GRADES if score >= lower)


def summary(
    scores: Sequence[float], confidence: float = 0.95
) -> dict[str, float | int | str | None]:
    """``n``, ``incomplete``, ``mean``, ``sd``, t-interval of the mean, ``median`` and ``grade``."""
    arr = np.asarray(scores, dtype=float)
    ok = arr[np.isfinite(arr)]
    n = len(ok)
    out: dict[str, float | int | str | None] = {"n": n, "incomplete": int(len(arr) - n)}
    if n == 0:
        return out | {
            "mean": None,
            "sd": None,
            "ci_low": None,
            "ci_high": None,
            "median": None,
            "grade": None,
        }
    mean = float(ok.mean())
    sd = float(ok.std(ddof=1)) if n > 1 else float("nan")
    if n > 1:
        half = stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = float("nan")
    return out | {
        "mean": mean,
        "sd": sd,
        "ci_low": float(low),
        "ci_high": float(high),
        "median": float(np.median(ok)),
        "grade": grade(mean),
    }
