"""The Cox model and its proportional-hazards check against lifelines, fitted independently
(``lifelines.CoxPHFitter`` — Newton–Raphson of its own, Efron ties — and
``lifelines.statistics.proportional_hazard_test``); our fit is statsmodels' ``PHReg``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.proportional_hazards import COX_COLUMNS, PH_COLUMNS, cox_model, design, ph_test

COVARIATES = ["age_band", "register", "hazard_zone"]
REFERENCE = {"age_band": "20s", "register": "no", "hazard_zone": "none"}


@pytest.fixture(scope="module")
def drill_like() -> pd.DataFrame:
    """Times to safe of 160 people: older, register and flood-zone people differ in pace."""
    rng = np.random.default_rng(7)
    n = 160
    age = rng.choice(["20s", "40s", "70plus"], n)
    register = rng.choice(["no", "yes"], n, p=[0.7, 0.3])
    zone = rng.choice(["none", "1", "2"], n)
    rate = (
        0.05
        * np.where(age == "70plus", 0.5, 1.0)
        * np.where(register == "yes", 0.7, 1.0)
        * np.where(zone == "2", 1.5, 1.0)
    )
    t = rng.exponential(1 / rate)
    c = rng.uniform(20, 90, n)
    return pd.DataFrame(
        {
            "minutes": np.round(np.minimum(t, c), 4),
            "observed": t <= c,
            "age_band": age,
            "register": register,
            "hazard_zone": zone,
        }
    )


def _lifelines(frame: pd.DataFrame, terms: list[str]):
    from lifelines import CoxPHFitter

    x = pd.DataFrame({"T": frame["minutes"], "E": frame["observed"].astype(int)})
    for term in terms:
        variable, level = term.split("=")
        x[term] = (frame[variable] == level).astype(float)
    return CoxPHFitter().fit(x, "T", "E"), x


def test_hazard_ratios_equal_lifelines_coxphfitter(drill_like):
    fit = cox_model(drill_like, "minutes", "observed", COVARIATES, reference=REFERENCE)
    assert list(fit.columns) == list(COX_COLUMNS)
    assert fit["term"].tolist() == [
        "age_band=40s",
        "age_band=70plus",
        "register=yes",
        "hazard_zone=1",
        "hazard_zone=2",
    ]
    reference, _ = _lifelines(drill_like, fit["term"].tolist())
    summary = reference.summary.loc[fit["term"]]
    assert fit["coef"].to_numpy() == pytest.approx(summary["coef"].to_numpy(), abs=1e-4)
    assert fit["se"].to_numpy() == pytest.approx(summary["se(coef)"].to_numpy(), rel=1e-4)
    assert fit["hazard_ratio"].to_numpy() == pytest.approx(
        summary["exp(coef)"].to_numpy(), rel=1e-4
    )
    assert fit["ci_low"].to_numpy() == pytest.approx(
        summary["exp(coef) lower 95%"].to_numpy(), rel=1e-4
    )
    assert fit["ci_high"].to_numpy() == pytest.approx(
        summary["exp(coef) upper 95%"].to_numpy(), rel=1e-4
    )
    assert fit["p"].to_numpy() == pytest.approx(summary["p"].to_numpy(), rel=1e-3, abs=1e-6)
    assert fit.attrs["log_likelihood"] == pytest.approx(reference.log_likelihood_, abs=1e-6)
    # the simulated effects point the right way: older and register people slower
    by_term = fit.set_index("term")["hazard_ratio"]
    assert by_term["age_band=70plus"] < 1 and by_term["register=yes"] < 1


def test_tied_times_are_handled_as_efron_does(drill_like):
    """Times rounded to whole minutes tie often; lifelines uses Efron's method too."""
    tied = drill_like.assign(minutes=np.ceil(drill_like["minutes"]))
    fit = cox_model(tied, "minutes", "observed", COVARIATES, reference=REFERENCE)
    reference, _ = _lifelines(tied, fit["term"].tolist())
    assert fit["coef"].to_numpy() == pytest.approx(
        reference.summary.loc[fit["term"], "coef"].to_numpy(), abs=1e-4
    )


@pytest.mark.parametrize("transform", ["rank", "km", "identity", "log"])
def test_ph_check_equals_lifelines_proportional_hazard_test(drill_like, transform):
    from lifelines.statistics import proportional_hazard_test

    fit = cox_model(drill_like, "minutes", "observed", COVARIATES, reference=REFERENCE)
    mine = ph_test(drill_like, "minutes", "observed", COVARIATES, fit, transform)
    assert list(mine.columns) == list(PH_COLUMNS)
    reference, x = _lifelines(drill_like, fit["term"].tolist())
    theirs = proportional_hazard_test(reference, x, time_transform=transform).summary
    theirs = theirs.loc[fit["term"]]
    assert mine["statistic"].to_numpy() == pytest.approx(
        theirs["test_statistic"].to_numpy(), rel=1e-3
    )
    assert mine["p"].to_numpy() == pytest.approx(theirs["p"].to_numpy(), rel=1e-3, abs=1e-6)


def test_ph_check_finds_crossing_hazards():
    """A group fast early and slow late breaks proportional hazards: the check says so."""
    rng = np.random.default_rng(1)
    early = np.concatenate([rng.uniform(0, 5, 60), rng.uniform(60, 80, 40)])
    steady = rng.uniform(0, 80, 100)
    frame = pd.DataFrame(
        {
            "minutes": np.concatenate([early, steady]),
            "observed": True,
            "zone": ["flood"] * 100 + ["none"] * 100,
        }
    )
    fit = cox_model(frame, "minutes", "observed", ["zone"], reference={"zone": "none"})
    assert float(ph_test(frame, "minutes", "observed", ["zone"], fit)["p"].iloc[0]) < 0.001


def test_levels_without_events_and_missing_values_are_left_out():
    frame = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7],
            "e": [1, 1, 1, 0, 1, 0, 1],
            "g": ["a", "b", "a", "c", "b", None, "a"],
        }
    )
    rows, x, dropped = design(frame, "t", "e", ["g"])
    assert dropped == ["g=c"] and len(rows) == 5 and list(x.columns) == ["g=b"]
    fit = cox_model(frame, "t", "e", ["g"])
    assert fit.attrs["dropped"] == ["g=c"] and fit.attrs["n"] == 5
    assert cox_model(frame.assign(e=0), "t", "e", ["g"]).empty
