"""Effect sizes against pingouin (``compute_effsize``, ``compute_esci``, ``mwu``, ``kruskal``,
``anova``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analytics import effect_sizes

X = [5.1, 6.2, 7.3, 8.0, 6.6, 7.7, 5.9]
Y = [3.2, 4.4, 5.1, 6.0, 4.9, 3.8]
GROUPS = [[1, 2, 3, 4, 5.5], [2, 3, 4, 6, 7, 8], [5, 6, 7, 9]]


def long(groups) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "v": [v for g in groups for v in g],
            "g": [i for i, g in enumerate(groups) for _ in g],
        }
    )


def test_hedges_g_and_interval_equal_pingouin():
    res = effect_sizes.hedges_g(X, Y)
    # Reference: pingouin.compute_effsize(x, y, eftype="hedges")
    g = pg.compute_effsize(X, Y, eftype="hedges")
    assert res.value == pytest.approx(g, abs=1e-9)
    # Reference: pingouin.compute_esci(g, nx, ny, eftype="hedges", decimals=12)
    low, high = pg.compute_esci(g, len(X), len(Y), eftype="hedges", decimals=12)
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high), abs=1e-9)


def test_rank_biserial_equals_pingouin_mwu():
    # Reference: pingouin.mwu(x, y)["RBC"]
    ref = pg.mwu(X, Y)["RBC"].iloc[0]
    assert effect_sizes.rank_biserial(X, Y, n_boot=0).value == pytest.approx(ref, abs=1e-9)
    assert effect_sizes.rank_biserial(Y, X, n_boot=0).value == pytest.approx(-ref, abs=1e-9)


def test_epsilon_squared_from_pingouin_kruskal():
    # Reference: pingouin.kruskal(data, dv="v", between="g")["H"]; ε² = H / (n - 1)
    h = pg.kruskal(long(GROUPS), dv="v", between="g")["H"].iloc[0]
    n = sum(len(g) for g in GROUPS)
    res = effect_sizes.epsilon_squared(GROUPS, n_boot=0)
    assert res.value == pytest.approx(h * (n + 1) / (n * n - 1), abs=1e-9)
    assert res.value == pytest.approx(h / (n - 1), abs=1e-9)


def test_kruskal_h_equals_scipy():
    from scipy import stats

    tied = [[1, 2, 2, 3], [2, 3, 3, 5, 5], [4, 5, 6]]
    for groups in (GROUPS, tied):
        arrays = [np.asarray(g, dtype=float) for g in groups]
        # Reference: scipy.stats.kruskal(*groups).statistic (tie-corrected H)
        ref = stats.kruskal(*groups).statistic
        assert effect_sizes.kruskal_h(arrays) == pytest.approx(ref, abs=1e-12)


def test_eta_squared_equals_pingouin_anova():
    # Reference: pingouin.anova(data, dv="v", between="g", effsize="n2")["n2"]
    ref = pg.anova(long(GROUPS), dv="v", between="g", effsize="n2")["n2"].iloc[0]
    assert effect_sizes.eta_squared(GROUPS, n_boot=0).value == pytest.approx(ref, abs=1e-9)


def test_bootstrap_intervals_are_seeded_and_resample_within_groups():
    a = effect_sizes.rank_biserial(X, Y, n_boot=400, seed=3)
    assert a == effect_sizes.rank_biserial(X, Y, n_boot=400, seed=3)
    assert a.ci_low <= a.value <= a.ci_high
    # Independent re-computation of the percentile bootstrap (same generator, same draws)
    rng = np.random.default_rng(3)
    x, y = np.asarray(X), np.asarray(Y)
    boots = []
    for _ in range(400):
        xs = x[rng.integers(0, len(x), len(x))]
        ys = y[rng.integers(0, len(y), len(y))]
        boots.append(pg.mwu(xs, ys)["RBC"].iloc[0])
    assert (a.ci_low, a.ci_high) == pytest.approx(
        tuple(np.percentile(boots, [2.5, 97.5])), abs=1e-9
    )
    e = effect_sizes.eta_squared(GROUPS, n_boot=300, seed=1)
    assert 0 <= e.ci_low <= e.value <= e.ci_high <= 1


def test_too_small_groups_are_refused():
    with pytest.raises(ValueError):
        effect_sizes.hedges_g([1.0], [2.0, 3.0])


def test_rank_bootstraps_from_counts_equal_re_ranking_every_resample():
    """r and ε² of each resample from the pooled counts (ranked once) equal the statistic
    re-ranked from scratch on the same resamples (``stratified_bootstrap`` with scipy's
    ``rankdata``) — with heavy ties (Likert means) and without."""
    rng = np.random.default_rng(4)
    tied = [np.round(rng.normal(3, 1, n) * 4) / 4 for n in (120, 90, 60)]
    distinct = [rng.normal(0, 1, n) for n in (30, 45, 25)]
    for groups in (tied, distinct):
        loop = effect_sizes.stratified_bootstrap(groups, effect_sizes._epsilon2, 300, 9)
        assert effect_sizes._epsilon2_boot(groups, 300, 9) == pytest.approx(loop, abs=1e-12)
        x, y = groups[0], groups[1]
        loop = effect_sizes.stratified_bootstrap(
            [x, y], lambda s: effect_sizes._rbc(s[0], s[1]), 300, 9
        )
        assert effect_sizes._rbc_boot(x, y, 300, 9) == pytest.approx(loop, abs=1e-12)
    # A resample with a single value leaves ε² undefined, as the loop says.
    same = [np.ones(4), np.ones(3)]
    assert np.isnan(effect_sizes._epsilon2_boot(same, 5, 0)).all()
