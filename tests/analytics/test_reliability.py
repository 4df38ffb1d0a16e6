"""Cronbach's α and McDonald's ω against independent references.

References: ``pingouin.cronbach_alpha`` (α and its Feldt interval), R 4.2.2 ``stats::factanal``
(one-factor ML loadings, the algorithm ω is built on), ``statsmodels`` ``Factor(method="ml")``,
and a worked example whose sample covariance *is* a one-factor structure, so ω is known exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analytics import reliability

DATA = Path(__file__).with_name("data")


@pytest.fixture
def likert() -> pd.DataFrame:
    """Five 5-point items driven by one factor, with two missing answers."""
    rng = np.random.default_rng(1)
    factor = rng.normal(size=(300, 1))
    raw = 3 + factor * [0.9, 0.8, 0.7, 0.6, 0.5] + rng.normal(size=(300, 5))
    frame = pd.DataFrame(np.clip(np.round(raw), 1, 5), columns=list("abcde"))
    frame.iloc[3, 2] = np.nan
    frame.iloc[10, 0] = np.nan
    return frame


@pytest.mark.parametrize("nan_policy", ["pairwise", "listwise"])
def test_alpha_equals_pingouin(likert, nan_policy):
    # Reference: pingouin.cronbach_alpha(data, ci=0.95) — for listwise on the complete rows,
    # pingouin.cronbach_alpha(data.dropna()): pingouin's own nan_policy="listwise" keeps the
    # original n in its Feldt interval, we use the n of the rows actually analysed.
    reference_data = likert if nan_policy == "pairwise" else likert.dropna()
    alpha_ref, ci_ref = pg.cronbach_alpha(reference_data)
    res = reliability.cronbach_alpha(likert, nan_policy=nan_policy)
    assert res.alpha == pytest.approx(alpha_ref, abs=1e-9)
    # pingouin rounds its interval to three decimals.
    assert res.ci_low == pytest.approx(ci_ref[0], abs=5e-4 + 1e-12)
    assert res.ci_high == pytest.approx(ci_ref[1], abs=5e-4 + 1e-12)
    assert res.n == (300 if nan_policy == "pairwise" else 298)


def test_feldt_interval_is_the_f_distribution_formula(likert):
    # Worked formula (Feldt 1965): [1 - (1-a) F_{.975}(n-1, (n-1)(k-1)), 1 - (1-a) F_{.025}(...)]
    from scipy.stats import f

    res = reliability.cronbach_alpha(likert, nan_policy="listwise")
    n, k = 298, 5
    low = 1 - (1 - res.alpha) * f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    high = 1 - (1 - res.alpha) * f.ppf(0.025, n - 1, (n - 1) * (k - 1))
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high), abs=1e-9)


def test_bootstrap_alpha_equals_pingouin_resample_by_resample(likert):
    complete = likert.dropna().reset_index(drop=True)
    indices = reliability.bootstrap_indices(len(complete), 40, seed=5)
    fast = reliability.alpha_bootstrap(complete, indices=indices)
    # Reference: pingouin.cronbach_alpha(data.iloc[idx]) for each resample
    slow = [pg.cronbach_alpha(complete.iloc[idx])[0] for idx in indices]
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    low, high = reliability.alpha_bootstrap_ci(complete, indices=indices)
    # Reference: numpy.percentile(values, [2.5, 97.5]) (percentile interval)
    assert (low, high) == pytest.approx(tuple(np.percentile(slow, [2.5, 97.5])), abs=1e-9)


def test_bootstrap_interval_is_seeded(likert):
    a = reliability.alpha_bootstrap_ci(likert, 300, seed=11)
    b = reliability.alpha_bootstrap_ci(likert, 300, seed=11)
    c = reliability.alpha_bootstrap_ci(likert, 300, seed=12)
    assert a == b and a != c
    point = reliability.cronbach_alpha(likert, nan_policy="listwise").alpha
    assert a[0] < point < a[1]


def exact_one_factor_sample(loadings, uniquenesses, n=200, seed=3) -> np.ndarray:
    """Data whose sample covariance equals ΛΛᵀ + Ψ exactly (whitened, then coloured)."""
    lam = np.asarray(loadings)
    sigma = np.outer(lam, lam) + np.diag(uniquenesses)
    z = np.random.default_rng(seed).normal(size=(n, len(lam)))
    z -= z.mean(axis=0)
    whiten = np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ whiten @ np.linalg.cholesky(sigma).T + 3.0


def test_omega_worked_example_with_an_exact_one_factor_covariance():
    # Worked example: if S = λλᵀ + Ψ exactly, the ML fit returns λ and Ψ, and
    # ω = (Σλ)² / ((Σλ)² + Σψ) = 3.9² / (3.9² + 2.55) = 15.21 / 17.76 (McDonald 1999, ch. 6).
    lam = [0.8, 1.1, 0.6, 0.9, 0.5]
    psi = [0.36, 0.5, 0.64, 0.3, 0.75]
    x = exact_one_factor_sample(lam, psi)
    res = reliability.omega_total(x)
    assert res.converged
    np.testing.assert_allclose(res.loadings, lam, atol=1e-7)
    np.testing.assert_allclose(res.uniquenesses, psi, atol=1e-7)
    assert res.omega == pytest.approx(15.21 / 17.76, abs=1e-9)


def test_one_factor_ml_equals_r_factanal():
    # Reference: R 4.2.2
    #   X <- as.matrix(read.csv("omega_items_300x5.csv", header = FALSE))
    #   f <- factanal(X, factors = 1, control = list(opt = list(factr = 1, pgtol = 0, maxit = 10000)))
    #   f$loadings[, 1]; f$uniquenesses
    r_loadings = [
        0.58336920447533558,
        0.53132738862424589,
        0.55458299638210662,
        0.49448371320434503,
        0.39460555967102506,
    ]
    r_uniquenesses = [
        0.65968037119226974,
        0.71769120619964766,
        0.69243770005397731,
        0.75548585742556040,
        0.84428645182597362,
    ]
    x = np.loadtxt(DATA / "omega_items_300x5.csv", delimiter=",")
    res = reliability.omega_total(x)
    # Both are iterative L-BFGS-B fits of the same likelihood: agreement to 1e-8, not 1e-9.
    np.testing.assert_allclose(res.std_loadings, r_loadings, atol=1e-8)
    sd2 = np.var(x, axis=0, ddof=1)
    np.testing.assert_allclose(res.uniquenesses / sd2, r_uniquenesses, atol=1e-8)
    lam = np.asarray(r_loadings) * np.sqrt(sd2)
    psi = np.asarray(r_uniquenesses) * sd2
    assert res.omega == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()), abs=1e-8)


def test_one_factor_ml_agrees_with_statsmodels_factor():
    from statsmodels.multivariate.factor import Factor

    x = np.loadtxt(DATA / "omega_items_300x5.csv", delimiter=",")
    # Reference: statsmodels Factor(x, n_factor=1, method="ml").fit() (its optimiser stops
    # earlier than factanal's with factr = 1, hence 1e-6).
    ref = Factor(x, n_factor=1, method="ml").fit()
    res = reliability.omega_total(x)
    np.testing.assert_allclose(res.std_loadings, np.abs(ref.loadings[:, 0]), atol=1e-6)


def test_omega_refuses_what_a_one_factor_model_cannot_do():
    x = exact_one_factor_sample([0.8, 0.7, 0.6], [0.4, 0.5, 0.6])
    with pytest.raises(ValueError, match="three items"):
        reliability.omega_total(x[:, :2])
    with pytest.raises(ValueError, match="more respondents"):
        reliability.omega_total(x[:3])
    flat = x.copy()
    flat[:, 1] = 4.0
    with pytest.raises(ValueError, match="variance"):
        reliability.omega_total(flat)


def test_omega_bootstrap_interval_brackets_the_estimate():
    x = np.loadtxt(DATA / "omega_items_300x5.csv", delimiter=",")
    low, high = reliability.omega_bootstrap_ci(x, n_boot=60, seed=2)
    assert low < reliability.omega_total(x).omega < high
    assert (low, high) == reliability.omega_bootstrap_ci(x, n_boot=60, seed=2)


def test_omega_bootstrap_from_counts_equals_refitting_the_resampled_rows():
    """Each resample's ω from its counts' covariance, fitted in one batch, equals ω fitted
    alone by L-BFGS-B (to 1e-15) on the resampled rows themselves (numpy.cov of x[idx]) from
    the same start — resample by resample."""
    x = np.loadtxt(DATA / "omega_items_300x5.csv", delimiter=",")
    indices = reliability.bootstrap_indices(len(x), 40, seed=4)
    full = reliability.omega_total(x)
    start = full.uniquenesses / np.var(x, axis=0, ddof=1)
    rows = [reliability._omega(x[idx], start, tol=1e-15).omega for idx in indices]
    ours = reliability.omega_bootstrap(x, indices=indices)
    np.testing.assert_allclose(ours, rows, atol=1e-7)


def test_batched_omega_fits_reach_the_minimum_or_hand_over_to_l_bfgs_b():
    """The batched fits of the resamples never end above L-BFGS-B's own minimum, and the fits
    it cannot finish inside the bounds (three weak items: Heywood cases, saddles) still get
    L-BFGS-B's ω — the same values as fitting each resample alone."""
    rng = np.random.default_rng(11)
    factor = rng.normal(size=(120, 1))
    x = np.clip(np.round(3 + factor * [0.9, 0.2, 0.1] + rng.normal(size=(120, 3))), 1, 5)
    variances = np.var(x, axis=0, ddof=1)
    start = reliability._omega(x).uniquenesses / variances
    counts = reliability.resample_counts(len(x), 80, seed=3)
    covariances = reliability._resample_covariances(x, counts)
    sd = np.sqrt(np.einsum("bii->bi", covariances))
    corr = covariances / (sd[:, :, None] * sd[:, None, :])
    full_corr = np.cov(x, rowvar=False) / np.sqrt(np.outer(variances, variances))
    hessian = reliability._hessian(start, full_corr)
    psi, _, done = reliability._chord_batch(corr, start, hessian)
    assert 0 < done.sum() < len(done)  # both paths are taken
    for b in np.flatnonzero(done):
        _, alone, _ = reliability.one_factor_ml(corr[b], start, tol=1e-15)
        objective = reliability._fa_objective
        assert objective(psi[b], corr[b])[0] <= objective(alone, corr[b])[0] + 1e-12
    ours = reliability.omega_bootstrap(x, n_boot=80, seed=3)
    alone = []
    for cov in covariances:
        try:
            alone.append(reliability._omega_from_cov(cov, len(x), start, tol=1e-15).omega)
        except ValueError:
            alone.append(np.nan)
    np.testing.assert_allclose(ours, alone, atol=1e-5)  # a flat objective: ω to ~1e-6


def test_seeded_resamples_are_shared_and_read_only():
    """α's draw is made once for the subscales of one questionnaire (same rows, same seed)
    and cannot be changed by a caller; another seed draws anew."""
    a = reliability.resample_counts(500, 30, seed=8)
    assert reliability.resample_counts(500, 30, seed=8) is a
    assert not a.flags.writeable
    assert (a.sum(axis=1) == 500).all()
    assert not np.array_equal(reliability.resample_counts(500, 30, seed=9), a)
    indices = reliability.bootstrap_indices(500, 30, seed=8)
    expected = np.stack([np.bincount(row, minlength=500) for row in indices])
    assert np.array_equal(a, expected)


def test_item_total_correlations(likert):
    table = reliability.item_total(likert).set_index("item")
    complete = likert.dropna()
    for col in likert.columns:
        rest = complete.drop(columns=[col]).sum(axis=1)
        # Reference: numpy.corrcoef(item, sum of the other items) (corrected item-total r)
        assert table.loc[col, "r_item_total"] == pytest.approx(
            np.corrcoef(complete[col], rest)[0, 1], abs=1e-9
        )
        # Reference: pingouin.cronbach_alpha(data without the item)
        assert table.loc[col, "alpha_if_deleted"] == pytest.approx(
            pg.cronbach_alpha(likert.drop(columns=[col]))[0], abs=1e-9
        )


def test_alpha_needs_two_items_and_two_people():
    with pytest.raises(ValueError):
        reliability.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(ValueError):
        reliability.cronbach_alpha(pd.DataFrame({"a": [1], "b": [2]}))
