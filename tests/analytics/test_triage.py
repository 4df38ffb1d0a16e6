"""The triage score: the documented formula, term by term, and its caps."""

from __future__ import annotations

import datetime as dt
import doctest

import pandas as pd
import pytest

from analytics import triage
from analytics.triage import DEFAULT_WEIGHTS, TriageWeights, triage_scores

NOW = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)


def request(**values):
    base = {
        "on_register": False,
        "people_count": 1,
        "injured_count": 0,
        "flood_depth_m": 0.0,
        "requested_at": NOW,
    }
    return pd.DataFrame([{**base, **values}])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, 5.0),  # one person, just now
        ({"on_register": True}, 35.0),
        ({"people_count": 30}, 50.0),  # capped at 10 people
        ({"injured_count": 9}, 5.0 + 60.0),  # capped at 4 injured
        ({"flood_depth_m": 7.5}, 5.0 + 50.0),  # capped at 5 m
        ({"requested_at": NOW - dt.timedelta(minutes=300)}, 5.0 + 30.0),  # capped at 120 min
        ({"requested_at": NOW + dt.timedelta(minutes=5)}, 5.0),  # clock skew: never negative
        ({"flood_depth_m": None, "people_count": None}, 5.0),
    ],
)
def test_each_term_and_its_cap(values, expected):
    assert triage_scores(request(**values), NOW).iloc[0] == pytest.approx(expected, abs=1e-9)


def test_the_maximum_is_220_and_the_formula_text_has_the_weights():
    worst = request(
        on_register=True,
        people_count=99,
        injured_count=99,
        flood_depth_m=99,
        requested_at=NOW - dt.timedelta(days=1),
    )
    assert triage_scores(worst, NOW).iloc[0] == pytest.approx(220.0)
    assert "30" in DEFAULT_WEIGHTS.formula("ja") and "min(人数, 10)" in DEFAULT_WEIGHTS.formula(
        "ja"
    )
    assert "min(minutes waiting, 120) / 4" in DEFAULT_WEIGHTS.formula("en")


def test_custom_weights_change_the_score():
    heavy = TriageWeights(register=100)
    assert triage_scores(request(on_register=True), NOW, heavy).iloc[0] == pytest.approx(105.0)


def test_docstring_examples():
    assert doctest.testmod(triage).failed == 0
