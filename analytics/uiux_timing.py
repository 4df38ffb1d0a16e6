"""UI/UX task timing: summaries, outliers, paired and unpaired comparisons of methods.

Input: one row per participant × task × method with ``participant, group, task, method,
seconds, success`` (and optionally ``error_count``) — :mod:`surveys.timing_sheet` or
:func:`sql.queries.research.uiux_timings`.

* :func:`summary` — per task × method × group: ``n`` (timed attempts), ``median_s``,
  ``mean_s``, ``sd_s``, ``q1_s``, ``q3_s``, successes, failures, errors, outliers.
* :func:`flag_outliers` — **outlier rule**: a time is flagged when it lies outside Tukey's
  fences ``[Q1 − 1.5·IQR, Q3 + 1.5·IQR]`` of its task × method × group (quartiles by linear
  interpolation); flagged times are shown and kept in every statistic (nothing is dropped).
* :func:`paired_comparisons` — for every task that the same participants did with two methods
  (e.g. マイタイムライン on paper and in the app): the Wilcoxon signed-rank test of
  ``first − second`` with the Hodges–Lehmann shift and its interval as R's
  ``wilcox.test(paired = TRUE, conf.int = TRUE)`` (:mod:`analytics.rank_tests`). Only
  participants with a time for both methods count; attempts without a time (abandoned) are left
  out and counted.
* :func:`unpaired_comparisons` — when the methods were done by different people: the
  Wilcoxon rank-sum (Mann–Whitney) test with the two-sample Hodges–Lehmann shift.

Method order: ``paper`` before ``app`` (so a positive shift means the app is faster), other
methods alphabetically.

>>> frame = pd.DataFrame({
...     "participant": ["a", "a", "b", "b", "c", "c"], "group": ["elderly"] * 6,
...     "task": ["plan"] * 6, "method": ["paper", "app"] * 3,
...     "seconds": [600, 300, 540, 320, 700, 350], "success": [True] * 6})
>>> row = paired_comparisons(frame)[0]
>>> row["n"], row["hl_shift_s"], row["method"]
(3, 292.5, 'exact')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .rank_tests import wilcoxon_paired, wilcoxon_two_sample

METHOD_ORDER = {"paper": 0, "app": 1}
OUTLIER_RULE = "Tukey fences: outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] within task x method x group; flagged, not removed"


def ordered_methods(methods) -> list[str]:
    return sorted(set(methods), key=lambda m: (METHOD_ORDER.get(m, 2), m))


def flag_outliers(frame: pd.DataFrame, k: float = 1.5) -> pd.Series:
    """True for times outside the Tukey fences of their task × method × group."""
    flags = pd.Series(False, index=frame.index, name="outlier")
    for _, group in frame.groupby(["task", "method", "group"], sort=False):
        times = group["seconds"].dropna()
        if len(times) < 4:
            continue
        q1, q3 = np.percentile(times, [25, 75])
        iqr = q3 - q1
        out = (times < q1 - k * iqr) | (times > q3 + k * iqr)
        flags.loc[out.index] = out
    return flags


def summary(frame: pd.DataFrame, by_group: bool = True) -> pd.DataFrame:
    keys = ["task", "method", "group"] if by_group else ["task", "method"]
    data = frame.assign(outlier=flag_outliers(frame))
    rows = []
    for key, group in data.groupby(keys, sort=True):
        times = group["seconds"].dropna()
        success = group["success"]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "n": int(len(times)),
                "attempts": int(len(group)),
                "median_s": float(times.median()) if len(times) else None,
                "mean_s": float(times.mean()) if len(times) else None,
                "sd_s": float(times.std()) if len(times) > 1 else None,
                "q1_s": float(np.percentile(times, 25)) if len(times) else None,
                "q3_s": float(np.percentile(times, 75)) if len(times) else None,
                "min_s": float(times.min()) if len(times) else None,
                "max_s": float(times.max()) if len(times) else None,
                "successes": int((success == True).sum()),  # noqa: E712 - nullable booleans
                "failures": int((success == False).sum()),  # noqa: E712
                "errors": int(
                    pd.to_numeric(group.get("error_count"), errors="coerce").fillna(0).sum()
                )
                if "error_count" in group
                else 0,
                "outliers": int(group["outlier"].sum()),
            }
        )
    out = pd.DataFrame(rows)
    if not out.empty:
        out["_m"] = out["method"].map(lambda m: METHOD_ORDER.get(m, 2))
        out = out.sort_values(["task", "_m", "method", *(["group"] if by_group else [])]).drop(
            columns="_m"
        )
    return out.reset_index(drop=True)


def _pairs(
    frame: pd.DataFrame, task: str, first: str, second: str, group: str | None
) -> pd.DataFrame:
    data = frame[frame["task"] == task]
    if group is not None:
        data = data[data["group"] == group]
    wide = data.pivot_table(
        index="participant", columns="method", values="seconds", aggfunc="first"
    )
    if first not in wide or second not in wide:
        return pd.DataFrame(columns=[first, second])
    return wide[[first, second]]


def paired_comparisons(
    frame: pd.DataFrame, confidence: float = 0.95, by_group: bool = False
) -> list[dict[str, Any]]:
    """Signed-rank test and Hodges–Lehmann shift for each task done with two methods by the same
    participants (all groups together, and per group with ``by_group``)."""
    results = []
    for task, data in frame.groupby("task", sort=True):
        methods = ordered_methods(data["method"])
        for i, first in enumerate(methods):
            for second in methods[i + 1 :]:
                groups: list[str | None] = [None]
                if by_group:
                    groups += sorted(data["group"].dropna().unique())
                for group in groups:
                    wide = _pairs(frame, task, first, second, group)
                    both = wide.dropna()
                    if len(both) < 2:
                        continue
                    entry: dict[str, Any] = {
                        "task": task,
                        "group": group or "all",
                        "first": first,
                        "second": second,
                        "n": int(len(both)),
                        "incomplete_pairs": int(len(wide) - len(both)),
                        "median_first_s": float(both[first].median()),
                        "median_second_s": float(both[second].median()),
                    }
                    try:
                        r = wilcoxon_paired(
                            both[first].to_numpy(), both[second].to_numpy(), confidence
                        )
                    except ValueError as exc:
                        entry.update(
                            statistic=None,
                            p=None,
                            hl_shift_s=0.0,
                            ci_low=None,
                            ci_high=None,
                            method=None,
                            note=str(exc),
                        )
                    else:
                        entry.update(
                            statistic=r.statistic,
                            p=r.p,
                            hl_shift_s=r.estimate,
                            ci_low=r.ci_low,
                            ci_high=r.ci_high,
                            confidence=r.confidence,
                            achieved_confidence=r.achieved_confidence,
                            method=r.method,
                        )
                    results.append(entry)
    return results


def unpaired_comparisons(frame: pd.DataFrame, confidence: float = 0.95) -> list[dict[str, Any]]:
    """Rank-sum test and two-sample Hodges–Lehmann shift for each task × method pair whose
    participants do not overlap (different people used each method)."""
    results = []
    for task, data in frame.groupby("task", sort=True):
        methods = ordered_methods(data["method"])
        for i, first in enumerate(methods):
            for second in methods[i + 1 :]:
                a = data[data["method"] == first]
                b = data[data["method"] == second]
                if set(a["participant"]) & set(b["participant"]):
                    continue  # paired design: see paired_comparisons
                x, y = a["seconds"].dropna().to_numpy(), b["seconds"].dropna().to_numpy()
                if len(x) < 2 or len(y) < 2:
                    continue
                r = wilcoxon_two_sample(x, y, confidence)
                results.append(
                    {
                        "task": task,
                        "first": first,
                        "second": second,
                        "n_first": len(x),
                        "n_second": len(y),
                        "statistic": r.statistic,
                        "p": r.p,
                        "hl_shift_s": r.estimate,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "confidence": r.confidence,
                        "achieved_confidence": r.achieved_confidence,
                        "method": r.method,
                    }
                )
    return results


def analyse(frame: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Everything ``bosai analyze uiux --json`` prints."""
    table = summary(frame)
    return {
        "n_participants": int(frame["participant"].nunique()),
        "summary": table.to_dict("records"),
        "paired": paired_comparisons(frame, confidence, by_group=True),
        "unpaired": unpaired_comparisons(frame, confidence),
        "method": {
            "outliers": OUTLIER_RULE,
            "paired": "Wilcoxon signed-rank test of first - second; Hodges-Lehmann shift with the "
            "interval of R's wilcox.test(paired = TRUE, conf.int = TRUE): exact from the signed-rank "
            "distribution when n < 50 without ties or zeros, else the normal approximation",
            "unpaired": "Wilcoxon rank-sum test; two-sample Hodges-Lehmann shift with R's interval",
            "times": "seconds; abandoned attempts (no time) are counted as failures and left out of times",
        },
    }
