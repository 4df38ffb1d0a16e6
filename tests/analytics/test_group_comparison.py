"""Group comparisons against scipy (``mannwhitneyu``, ``kruskal``, ``ttest_ind``, ``f_oneway``)
and statsmodels (``multipletests(method="holm")``)."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analytics.group_comparison import compare_groups, describe_groups, holm

SCORES = {
    "resident": [4, 5, 3, 4, 4, 5, 2, 4, 3, 5, 4],
    "staff": [3, 3, 4, 2, 3, 4, 3, 2],
    "visitor": [2, 3, 2, 1, 3, 2, 4],
}


def frame(groups: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(g, v) for g, values in groups.items() for v in values], columns=["who", "score"]
    )


def test_two_groups_ordinal_is_mann_whitney():
    data = {k: SCORES[k] for k in ("resident", "visitor")}
    res = compare_groups(frame(data), "score", "who", n_boot=0)
    # Reference: scipy.stats.mannwhitneyu(resident, visitor, alternative="two-sided")
    ref = stats.mannwhitneyu(data["resident"], data["visitor"], alternative="two-sided")
    assert res["test"] == "mann_whitney"
    assert res["statistic"] == pytest.approx(ref.statistic, abs=1e-9)
    assert res["p"] == pytest.approx(ref.pvalue, abs=1e-12)
    assert res["contrast"] == "resident - visitor"
    assert res["effect"]["value"] == pytest.approx(2 * ref.statistic / (11 * 7) - 1, abs=1e-12)
    assert res["shift"]["method"] == "asymptotic"  # ties in Likert answers


def test_two_groups_parametric_is_welch():
    data = {k: SCORES[k] for k in ("resident", "staff")}
    res = compare_groups(frame(data), "score", "who", kind="parametric")
    # Reference: scipy.stats.ttest_ind(resident, staff, equal_var=False)
    ref = stats.ttest_ind(data["resident"], data["staff"], equal_var=False)
    assert res["test"] == "welch_t"
    assert (res["statistic"], res["p"], res["df"]) == pytest.approx(
        (ref.statistic, ref.pvalue, ref.df), abs=1e-12
    )


def test_three_groups_kruskal_with_holm_pairwise():
    res = compare_groups(frame(SCORES), "score", "who", n_boot=0)
    # Reference: scipy.stats.kruskal(resident, staff, visitor)
    ref = stats.kruskal(*SCORES.values())
    assert res["test"] == "kruskal_wallis" and res["df"] == 2
    assert (res["statistic"], res["p"]) == pytest.approx((ref.statistic, ref.pvalue), abs=1e-12)
    raw = [p["p"] for p in res["pairwise"]]
    # Reference: statsmodels multipletests(raw, method="holm")
    assert [p["p_holm"] for p in res["pairwise"]] == pytest.approx(
        list(multipletests(raw, method="holm")[1]), abs=1e-12
    )
    assert [(p["a"], p["b"]) for p in res["pairwise"]] == [
        ("resident", "staff"),
        ("resident", "visitor"),
        ("staff", "visitor"),
    ]


def test_three_groups_parametric_is_anova():
    res = compare_groups(frame(SCORES), "score", "who", kind="parametric", n_boot=0)
    # Reference: scipy.stats.f_oneway(resident, staff, visitor)
    ref = stats.f_oneway(*SCORES.values())
    assert res["test"] == "anova" and res["df"] == (2, 23)
    assert (res["statistic"], res["p"]) == pytest.approx((ref.statistic, ref.pvalue), abs=1e-12)


def test_small_groups_are_left_out_and_listed():
    data = dict(SCORES, council=[5])
    res = compare_groups(frame(data), "score", "who", n_boot=0)
    assert res["left_out"] == ["council"]
    assert res["test"] == "kruskal_wallis"
    single = compare_groups(frame({"resident": SCORES["resident"]}), "score", "who")
    assert single["test"] is None and single["note"] == "fewer than two groups"
    with pytest.raises(ValueError):
        compare_groups(frame(SCORES), "score", "who", kind="magic")


def test_describe_groups_matches_pandas():
    table = describe_groups(frame(SCORES), "score", "who").set_index("group")
    for name, values in SCORES.items():
        s = pd.Series(values, dtype=float)
        assert table.loc[name, "n"] == len(values)
        assert table.loc[name, "mean"] == pytest.approx(s.mean(), abs=1e-12)
        assert table.loc[name, "sd"] == pytest.approx(s.std(), abs=1e-12)
        assert table.loc[name, "q1"] == pytest.approx(s.quantile(0.25), abs=1e-12)


def test_holm_worked_example():
    # Worked example (Holm 1979): p = .01, .04, .03, .005 → .03, .06, .06, .02
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
