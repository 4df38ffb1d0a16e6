"""Opt-in acceptance: ledger semantics by hand, Wilson CIs as statsmodels, and the logistic
regression against R's ``glm(family = binomial)``."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics import optin_acceptance as oa

T0 = dt.datetime(2022, 3, 11, 0, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def ledger(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=oa.LEDGER_COLUMNS[:-1])
    frame["event_id"] = range(1, len(frame) + 1)
    return frame


@pytest.fixture
def events() -> pd.DataFrame:
    return ledger(
        [
            (1, "location", "city_hq", "given", T0, None),
            (1, "safety_status", "family", "given", T0, None),
            (2, "location", "city_hq", "given", T0, None),
            (2, "location", "city_hq", "withdrawn", T0 + 2 * H, None),
            (3, "location", "city_hq", "given", T0, T0 + 3 * H),  # expires
            (3, "safety_status", "city_hq", "given", T0, None),
            (4, "basic_info", "city_hq", "given", T0 + 10 * H, None),  # later
            (5, "location", "city_hq", "given", T0, None),
            (5, "location", "city_hq", "withdrawn", T0, None),  # same instant: id order
        ]
    )


def test_latest_event_wins_and_expiry_counts(events):
    state = oa.current_consent(events, T0 + 5 * H).set_index(["citizen_id", "data_item"])
    assert state.loc[(1, "location"), "in_force"]
    assert not state.loc[(2, "location"), "in_force"]  # withdrawn
    assert not state.loc[(3, "location"), "in_force"]  # expired at T0 + 3h
    assert state.loc[(3, "safety_status"), "in_force"]
    assert not state.loc[(5, "location"), "in_force"]  # tie broken by event id
    assert (4, "basic_info") not in state.index  # not yet given
    earlier = oa.current_consent(events, T0 + H).set_index(["citizen_id", "data_item"])
    assert earlier.loc[(2, "location"), "in_force"] and earlier.loc[(3, "location"), "in_force"]


def test_acceptance_per_item_with_wilson_intervals(events):
    table = oa.acceptance(events, "data_item", T0 + 5 * H, population=range(1, 11))
    row = table.set_index("data_item").loc["location"]
    assert (row["count"], row["n"]) == (1, 10)
    # Reference: proportion_confint(1, 10, alpha=0.05, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        proportion_confint(1, 10, method="wilson"), abs=1e-12
    )
    by_target = oa.acceptance(events, "share_target", T0 + 5 * H).set_index("share_target")
    # Population defaults to everyone in the ledger (5); city_hq: citizens 1 and 3.
    assert by_target.loc["city_hq", "count"] == 2 and by_target.loc["city_hq", "n"] == 5


def test_funnel_by_hand(events):
    f = oa.funnel(events, invited=range(1, 8), items=["location", "safety_status"], at=T0 + 11 * H)
    counts = dict(zip(f["stage"], f["count"], strict=True))
    assert counts == {
        "invited": 7,
        "started": 5,
        "item:location": 1,
        "item:safety_status": 2,
        "completed": 1,
    }
    shares = f.set_index("stage")["share_of_previous"]
    assert shares["started"] == pytest.approx(5 / 7) and shares["completed"] == pytest.approx(1 / 5)


def test_withdrawals_per_japanese_day():
    frame = ledger(
        [
            (
                1,
                "location",
                "city_hq",
                "withdrawn",
                dt.datetime(2022, 3, 10, 14, tzinfo=dt.UTC),
                None,
            ),
            (
                2,
                "location",
                "city_hq",
                "withdrawn",
                dt.datetime(2022, 3, 10, 16, tzinfo=dt.UTC),
                None,
            ),
            (
                2,
                "profile_image",
                "city_hq",
                "withdrawn",
                dt.datetime(2022, 3, 10, 16, tzinfo=dt.UTC),
                None,
            ),
        ]
    )
    out = oa.withdrawals_over_time(frame).to_dict("records")
    # 14:00 UTC = 23:00 JST on the 10th; 16:00 UTC = 01:00 JST on the 11th.
    assert out == [
        {"period": "2022-03-10", "withdrawals": 1, "citizens": 1},
        {"period": "2022-03-11", "withdrawals": 2, "citizens": 1},
    ]


def logit_data() -> tuple[pd.Series, pd.DataFrame]:
    """96 people, four age bands × two sexes, acceptance by a fixed arithmetic rule."""
    rows = []
    ages = ["20s", "40s", "60s", "70plus"]
    threshold = {"20s": 10, "40s": 8, "60s": 6, "70plus": 4}
    for i in range(96):
        age, sex = ages[i % 4], ("female", "male")[(i // 4) % 2]
        accepted = int((i * 37) % 13 < threshold[age] + (1 if sex == "female" else -1))
        rows.append((i + 1, age, sex, accepted))
    frame = pd.DataFrame(rows, columns=["citizen_id", "age_band", "sex", "accepted"])
    frame = frame.set_index("citizen_id")
    return frame["accepted"], frame[["age_band", "sex"]]


def test_logit_equals_r_glm():
    flags, attrs = logit_data()
    res = oa.acceptance_logit(flags, attrs, ["age_band", "sex"])
    # Reference: R 4.2.2
    #   d$age_band <- relevel(factor(d$age_band), ref = "20s"); d$sex <- relevel(factor(d$sex), "female")
    #   coef(summary(glm(accepted ~ age_band + sex, family = binomial, data = d,
    #                    control = glm.control(epsilon = 1e-14))))
    r = {
        "const": (1.63964702017651454, 0.55692869819160673, 0.0032390803112587151),
        "age_band=40s": (-0.80085647544783012, 0.64362198610063759, 0.2133905211334556351),
        "age_band=60s": (-1.33402287803254427, 0.64305220714026401, 0.0380313010435640447),
        "age_band=70plus": (-2.09332831477554038, 0.67314787477846560, 0.0018723943301830167),
        "sex=male": (-0.96513339115585861, 0.45069886831629069, 0.0322405731272707302),
    }
    assert res["references"] == {"age_band": "20s", "sex": "female"}
    assert res["n"] == 96 and res["converged"]
    got = {c["term"]: (c["coef"], c["se"], c["p"]) for c in res["coefficients"]}
    assert set(got) == set(r)
    for term, expected in r.items():
        # Both are iteratively reweighted / Newton fits: 1e-8.
        assert got[term] == pytest.approx(expected, abs=1e-8)


def test_logit_says_why_it_cannot_be_fitted():
    flags, attrs = logit_data()
    collinear = attrs.assign(
        sex=attrs["age_band"].map({"20s": "f", "40s": "m", "60s": "f", "70plus": "m"})
    )
    res = oa.acceptance_logit(flags, collinear, ["age_band", "sex"])
    assert "collinear" in res["note"] and res["coefficients"] == []
    res = oa.acceptance_logit(flags * 0 + 1, attrs, ["age_band"])
    assert "no variation" in res["note"]


def test_acceptance_by_attribute(events):
    flags = oa.accepted_flags(events, "location", range(1, 7), T0 + 5 * H)
    attrs = pd.DataFrame(
        {"age_band": ["20s", "20s", "70plus", None, "70plus", "20s"]}, index=range(1, 7)
    )
    table = oa.acceptance_by(flags, attrs, "age_band").set_index("age_band")
    assert table.loc["20s", "count"] == 1 and table.loc["20s", "n"] == 3
    assert table.loc["unknown", "n"] == 1


def test_questionnaire_side():
    frame = pd.DataFrame(
        {
            "optin_recognised": [5, 4, 2, 3, None],
            "optin_resistance": [1, 2, 4, 5, 3],
            "consent_timing": ["first_only", "each_time", "first_only", None, "each_time"],
            "share_targets": ["family", "family;friends", "family;neighbourhood", None, "family"],
        }
    )
    out = oa.questionnaire_optin(frame)
    assert out["optin_recognised"]["count"] == 2 and out["optin_recognised"]["n"] == 4
    assert out["optin_resistance"]["count"] == 2
    assert out["consent_timing"]["first_only"]["count"] == 2
    assert out["consent_timing"]["each_time"]["n"] == 4
    assert out["share_targets"]["family"]["share"] == 1.0
    assert out["share_targets"]["friends"]["count"] == 1
