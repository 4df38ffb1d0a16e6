"""Compare a score between groups (participant type, age band, …) with the right test.

``kind="ordinal"`` (the default, for Likert items and subscale scores): two groups — the
Mann–Whitney U test (``scipy.stats.mannwhitneyu``, two-sided; exact for small samples without
ties, otherwise normal approximation with continuity correction), rank-biserial correlation and
the Hodges–Lehmann shift with R's interval (:mod:`analytics.rank_tests`); more groups — the
Kruskal–Wallis H test (``scipy.stats.kruskal``, tie-corrected) with ε², and pairwise
Mann–Whitney tests with Holm-adjusted p-values.

``kind="parametric"`` (on request): two groups — Welch's t-test with Hedges' g; more groups —
one-way ANOVA (``scipy.stats.f_oneway``) with η².

Groups with fewer than ``min_group`` (default 2) answers are left out and listed; the display
layer suppresses counts below 5.

>>> import pandas as pd
>>> frame = pd.DataFrame({"score": [5, 4, 5, 4, 2, 3, 2, 1], "who": ["a"] * 4 + ["b"] * 4})
>>> res = compare_groups(frame, "score", "who", n_boot=0)
>>> res["test"], res["statistic"], round(res["p"], 4), res["effect"]["value"]
('mann_whitney', 16.0, 0.0275, 1.0)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .effect_sizes import epsilon_squared, eta_squared, hedges_g, rank_biserial
from .rank_tests import wilcoxon_two_sample

KINDS = ("ordinal", "parametric")


def holm(pvalues: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (as ``statsmodels`` ``multipletests(method="holm")``)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted.tolist()


def describe_groups(frame: pd.DataFrame, value: str, group: str) -> pd.DataFrame:
    """``group, n, mean, sd, median, q1, q3`` of ``value`` per group (missing values dropped)."""
    data = frame[[group, value]].dropna()
    grouped = data.groupby(group, observed=True, sort=True)[value]
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "mean": grouped.mean(),
            "sd": grouped.std(),
            "median": grouped.median(),
            "q1": grouped.quantile(0.25),
            "q3": grouped.quantile(0.75),
        }
    ).reset_index()
    return out.rename(columns={group: "group"})


def compare_groups(
    frame: pd.DataFrame,
    value: str,
    group: str,
    kind: str = "ordinal",
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    min_group: int = 2,
) -> dict[str, Any]:
    """Test whether ``value`` differs between the levels of ``group``; see the module docs."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    data = frame[[group, value]].dropna()
    data = data.assign(**{value: pd.to_numeric(data[value], errors="coerce")}).dropna()
    samples = {str(k): g[value].to_numpy(dtype=float) for k, g in data.groupby(group, sort=True)}
    left_out = sorted(k for k, v in samples.items() if len(v) < min_group)
    samples = {k: v for k, v in samples.items() if len(v) >= min_group}
    result: dict[str, Any] = {
        "value": value,
        "group": group,
        "kind": kind,
        "groups": describe_groups(data, value, group).to_dict("records"),
        "left_out": left_out,
    }
    names = list(samples)
    arrays = [samples[k] for k in names]
    if len(arrays) < 2:
        result.update(test=None, statistic=None, p=None, effect=None, note="fewer than two groups")
        return result
    if len(arrays) == 2:
        x, y = arrays
        result["contrast"] = f"{names[0]} - {names[1]}"
        if kind == "ordinal":
            mw = stats.mannwhitneyu(x, y, alternative="two-sided")
            hl = wilcoxon_two_sample(x, y, confidence)
            result.update(
                test="mann_whitney",
                statistic=float(mw.statistic),
                p=float(mw.pvalue),
                effect=rank_biserial(x, y, confidence, n_boot, seed).as_dict(),
                shift={
                    "estimate": hl.estimate,
                    "ci_low": hl.ci_low,
                    "ci_high": hl.ci_high,
                    "method": hl.method,
                },
            )
        else:
            t = stats.ttest_ind(x, y, equal_var=False)
            result.update(
                test="welch_t",
                statistic=float(t.statistic),
                df=float(t.df),
                p=float(t.pvalue),
                effect=hedges_g(x, y, confidence).as_dict(),
            )
        return result
    if kind == "ordinal":
        h = stats.kruskal(*arrays)
        result.update(
            test="kruskal_wallis",
            statistic=float(h.statistic),
            df=len(arrays) - 1,
            p=float(h.pvalue),
            effect=epsilon_squared(arrays, confidence, n_boot, seed).as_dict(),
        )
        pairs = list(itertools.combinations(range(len(names)), 2))
        raw = [
            float(stats.mannwhitneyu(arrays[i], arrays[j], alternative="two-sided").pvalue)
            for i, j in pairs
        ]
        adjusted = holm(raw)
        result["pairwise"] = [
            {"a": names[i], "b": names[j], "p": p, "p_holm": q}
            for (i, j), p, q in zip(pairs, raw, adjusted, strict=True)
        ]
    else:
        f = stats.f_oneway(*arrays)
        n = sum(len(a) for a in arrays)
        result.update(
            test="anova",
            statistic=float(f.statistic),
            df=(len(arrays) - 1, n - len(arrays)),
            p=float(f.pvalue),
            effect=eta_squared(arrays, confidence, n_boot, seed).as_dict(),
        )
    return result
