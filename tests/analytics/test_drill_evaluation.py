"""Drill evaluation: Kaplan–Meier against R's ``survival`` and statsmodels' ``SurvfuncRight``,
the log-rank test against ``survdiff``, and the event-log reductions by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from analytics import drill_evaluation as de

T = [3.5, 6, 6, 6, 7, 9.25, 10, 10, 12, 15, 15.5, 20, 22, 30, 30]
E = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0]
START = dt.datetime(2022, 3, 11, 0, 30, tzinfo=dt.UTC)  # 09:30 JST


def test_kaplan_meier_equals_r_survfit_log_log():
    km = de.kaplan_meier(T, E)
    # Reference: R 4.2.2, survival 3.5-3:
    #   f <- survfit(Surv(t, e) ~ 1, conf.type = "log-log")  (rows with n.event > 0)
    r = [
        # time, n.risk, n.event, surv, std.err (of log S), lower, upper
        (
            3.5,
            15,
            1,
            0.93333333333333335,
            0.069006555934235422,
            0.612641243774871835,
            0.99033223665001691,
        ),
        (
            6.0,
            14,
            2,
            0.79999999999999993,
            0.129099444873580549,
            0.499823981655754535,
            0.93071729405411741,
        ),
        (
            7.0,
            11,
            1,
            0.72727272727272718,
            0.160491668810489208,
            0.425231517273225168,
            0.88816780636717685,
        ),
        (
            10.0,
            9,
            2,
            0.56565656565656564,
            0.239799098212665318,
            0.272530837203181386,
            0.77901954919192040,
        ),
        (
            15.0,
            6,
            1,
            0.47138047138047140,
            0.301391673469823707,
            0.192126270080937689,
            0.70971337133962897,
        ),
        (
            15.5,
            5,
            1,
            0.37710437710437716,
            0.375282481388274802,
            0.125770165364410574,
            0.63208728142576409,
        ),
        (
            22.0,
            3,
            1,
            0.25140291806958476,
            0.554530078087390632,
            0.048139092051369153,
            0.53344891773262126,
        ),
    ]
    expected = pd.DataFrame(r, columns=["time", "at_risk", "events", "surv", "se_log", "lo", "hi"])
    np.testing.assert_allclose(km["time"], expected["time"])
    assert km["at_risk"].tolist() == expected["at_risk"].tolist()
    assert km["events"].tolist() == expected["events"].tolist()
    np.testing.assert_allclose(km["survival"], expected["surv"], atol=1e-12)
    np.testing.assert_allclose(km["se"] / km["survival"], expected["se_log"], atol=1e-12)
    np.testing.assert_allclose(km["ci_low"], expected["lo"], atol=1e-12)
    np.testing.assert_allclose(km["ci_high"], expected["hi"], atol=1e-12)


def test_kaplan_meier_equals_statsmodels_survfunc_right():
    km = de.kaplan_meier(T, E)
    # Reference: statsmodels SurvfuncRight(time, status): surv_prob and Greenwood surv_prob_se
    ref = SurvfuncRight(np.array(T), np.array(E))
    np.testing.assert_allclose(km["time"], ref.surv_times)
    np.testing.assert_allclose(km["survival"], ref.surv_prob, atol=1e-12)
    np.testing.assert_allclose(km["se"], ref.surv_prob_se, atol=1e-12)
    assert de.km_median(km) == 15.0  # first time with S <= 0.5 (R: median 15)
    assert de.km_at(km, 9.9) == pytest.approx(0.72727272727272718, abs=1e-12)
    assert de.km_at(km, 1.0) == 1.0


def test_log_rank_equals_survdiff():
    group = [1] * 8 + [2] * 7
    res = de.log_rank(T[:8], E[:8], T[8:], E[8:])
    # Reference: R> survdiff(Surv(t, e) ~ g)$chisq = 10.757240971973165
    assert res["chi2"] == pytest.approx(10.757240971973165, abs=1e-9)
    # Reference: statsmodels.duration.survfunc.survdiff(time, status, group)
    chi2, p = survdiff(np.array(T), np.array(E), np.array(group))
    assert (res["chi2"], res["p"]) == pytest.approx((chi2, p), abs=1e-12)


def events_log() -> pd.DataFrame:
    """Four participants; minutes after the start of each stage they reached."""
    plan = {
        ("c1", 1, "resident"): [0, 2, 5, 9, 20],
        ("c2", 2, "elderly"): [0, 4, 12],
        ("c3", 3, "elderly"): [0, 30],
        ("pV1", None, "visitor"): [0, 1, 3, 4, 100],  # arrives after the drill's end
    }
    rows = []
    for (who, citizen, group), minutes in plan.items():
        for stage, m in zip(de.STAGES, minutes, strict=False):
            rows.append((who, citizen, group, stage, START + dt.timedelta(minutes=m)))
    return pd.DataFrame(rows, columns=["participant", "citizen_id", "group", "event_type", "at"])


def test_time_to_event_censors_at_the_drills_end():
    end = START + dt.timedelta(minutes=90)
    tte = de.time_to_event(events_log(), "safety_answered", START, end).set_index("participant")
    assert tte.loc["c1", "minutes"] == 5 and tte.loc["c1", "observed"]
    assert tte.loc["c3", "minutes"] == 90 and not tte.loc["c3", "observed"]
    arrived = de.time_to_event(events_log(), "arrived", START, end).set_index("participant")
    assert arrived.loc["pV1", "minutes"] == 90 and not arrived.loc["pV1", "observed"]
    assert arrived.loc["c1", "minutes"] == 20
    from_notice = de.time_to_event(
        events_log(), "notification_opened", START, end, origin="notification_sent"
    ).set_index("participant")
    assert from_notice.loc["c2", "minutes"] == 4


def test_notification_funnel_and_register_confirmed_by_t():
    funnel = de.notification_funnel(events_log()).set_index("stage")
    assert funnel["count"].tolist() == [4, 4, 3, 2, 2]
    assert funnel.loc["safety_answered", "share_of_previous"] == pytest.approx(3 / 4)
    confirmed = de.confirmed_by(events_log(), {2, 3, 99}, START, minutes=(10, 30)).set_index(
        "minutes"
    )
    # Register people seen in the log: c2 and c3; c2 answered at 12 min, c3 never.
    assert confirmed.loc[10, "count"] == 0 and confirmed.loc[30, "count"] == 1
    assert confirmed.loc[30, "n"] == 2


def test_evaluate_and_compare_drills():
    end = START + dt.timedelta(minutes=90)
    out = de.evaluate_drill(events_log(), START, end, register_ids={2, 3})
    answered = out["time_to_event"]["safety_answered"]
    assert answered["all"]["n"] == 4 and answered["all"]["events"] == 3
    assert set(answered["groups"]) == {"elderly", "resident", "visitor"}
    assert answered["all"]["share_by"]["10"] == pytest.approx(0.5)
    other = events_log().assign(at=lambda f: START + (f["at"] - START) * 2)
    comparison = de.compare_drills((events_log(), START, end), (other, START, end))
    assert comparison["a"]["median_min"] < comparison["b"]["median_min"]
    assert 0 <= comparison["log_rank"]["p"] <= 1
