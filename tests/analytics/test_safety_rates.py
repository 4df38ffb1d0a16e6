"""Response and confirmed-safe rates from aggregate counts; small cells for other roles."""

from __future__ import annotations

import pandas as pd

from analytics.safety_rates import chartable, display_suppressed, order_bands, rates


def counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": ["北", "北", "北", "北", "南", "南", None],
            "age_band": ["75+", "75+", "0-14", "0-14", "75+", "unknown", "75+"],
            "state": ["safe_at_home", None, "needs_rescue", "at_shelter", None, "evacuating", None],
            "citizens": [20, 10, 2, 8, 3, 1, 6],
        }
    )


def test_rates_by_district_and_band():
    by_district = rates(counts(), ["district"]).set_index("district")
    north = by_district.loc["北"]
    assert (north.citizens, north.responded, north.confirmed, north.needs_help) == (40, 30, 28, 2)
    assert north.response_rate == 0.75 and north.confirmed_rate == 0.7
    south = by_district.loc["南"]
    assert (south.citizens, south.responded, south.confirmed) == (4, 1, 0)
    assert len(by_district) == 3  # the citizens without a district are a group of their own
    by_band = order_bands(rates(counts(), ["age_band"]), ["0-14", "15-39", "75+"])
    assert by_band["age_band"].tolist() == ["0-14", "75+", "unknown"]
    total = rates(counts(), [])
    assert total.iloc[0].citizens == 50 and total.iloc[0].confirmed == 28


def test_empty_groups_have_rate_zero_not_nan():
    table = rates(pd.DataFrame({"state": [], "citizens": []}, dtype=object), [])
    assert table.iloc[0].citizens == 0 and table.iloc[0].response_rate == 0.0


def test_suppression_hides_small_counts_and_the_rates_that_would_reveal_them():
    table = rates(counts(), ["district"])
    shown = display_suppressed(table, lang="ja").set_index("district")
    north = shown.loc["北"]
    assert north.citizens == "40" and north.needs_help == "5未満"
    assert north.response_rate == "75.0%"
    south = shown.loc["南"]
    assert south.citizens == "5未満" and south.response_rate == "—"
    assert south.confirmed == "0"  # zero identifies nobody
    # 1 of 6 answered: the count is small, so the rate would give it away.
    unknown = display_suppressed(
        rates(
            pd.DataFrame({"g": ["x", "x"], "state": ["injured", None], "citizens": [1, 5]}), ["g"]
        )
    ).iloc[0]
    assert unknown.response_rate == "—" and unknown.confirmed_rate == "0.0%"
    kept = chartable(table, suppressed=True)
    assert "南" not in set(kept["district"]) and "北" in set(kept["district"])
    assert len(chartable(table, suppressed=False)) == 3
