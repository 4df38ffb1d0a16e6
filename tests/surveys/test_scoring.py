"""Scoring: reverse coding, subscale scores, and the summary against pingouin and pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analytics import sus as sus_scale
from surveys.instrument import load_instrument
from surveys.scoring import item_scores, subscale_scores, summarise
from surveys.validate import responses_frame, validate_file

SAMPLES = Path(__file__).with_name("samples")
DRILL = load_instrument("drill-2022")


@pytest.fixture(scope="module")
def drill_frame() -> pd.DataFrame:
    return responses_frame(validate_file(SAMPLES / "google_forms_drill_2022.csv", DRILL))


def test_reverse_coded_items_are_turned_round(drill_frame):
    scores = item_scores(drill_frame, DRILL)
    assert (scores["optin_resistance"] == 6 - drill_frame["optin_resistance"]).all()
    assert (scores["ui_easy"] == drill_frame["ui_easy"]).all()


def test_subscale_needs_half_of_its_items():
    frame = pd.DataFrame(
        {
            "accept_continue": [5, 4, None],
            "accept_recommend": [3, None, None],
            "accept_trust": [4, None, 2],
        }
    )
    score = subscale_scores(frame, DRILL)["acceptance"]
    assert score.iloc[0] == 4.0
    assert np.isnan(score.iloc[1]) and np.isnan(score.iloc[2])  # 1 of 3 answered < half


def test_summary_of_the_sample_export(drill_frame):
    result = summarise(drill_frame, DRILL, n_boot=200, omega_boot=0)
    assert result["n"] == 24
    scores = item_scores(drill_frame, DRILL)
    for sub in result["subscales"].values():
        cols = sub["items"]
        # Reference: pingouin.cronbach_alpha(reverse-coded items of the subscale, listwise)
        assert sub["alpha"] == pytest.approx(pg.cronbach_alpha(scores[cols].dropna())[0], abs=1e-9)
        expected = scores[cols].mean(axis=1)
        assert sub["mean"] == pytest.approx(expected.mean(), abs=1e-12)
        assert sub["sd"] == pytest.approx(expected.std(), abs=1e-12)
        assert sub["alpha_boot_ci"][0] < sub["alpha_boot_ci"][1]
    ui = result["items"]["ui_easy"]
    assert ui["n"] == 24 and ui["mean"] == pytest.approx(drill_frame["ui_easy"].mean())
    assert result["items"]["evac_duration"]["n"] == drill_frame["evac_duration"].notna().sum()
    timing = result["choices"]["consent_timing"]
    assert timing["n"] == 24 and timing["options"]["first_only"]["count"] == 12


def test_sus_summary_of_the_cp932_export():
    inst = load_instrument("sus")
    frame = responses_frame(validate_file(SAMPLES / "google_forms_sus_cp932.csv", inst))
    result = summarise(frame, inst, n_boot=0, omega_boot=0)
    by_hand = [sus_scale.sus_score(row) for row in frame[list(sus_scale.ITEMS)].to_numpy()]
    assert result["sus"]["n"] == 16
    assert result["sus"]["mean"] == pytest.approx(np.mean(by_hand), abs=1e-12)
