"""The merge rule, table-driven: each row is one person's observations (minute, source, detail)
and the state, source and detail that must decide it. The vectorised merge over everyone must
agree with the one-person fold on any data (hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.safety_merge import (
    CATEGORIES,
    DETAIL_CATEGORY,
    SOURCE_STANDING,
    Observation,
    categorise,
    decide,
    merge,
    merge_one,
)

T0 = pd.Timestamp("2026-07-10 04:00", tz="UTC")

#: (case, observations as (minute, source, detail), expected (state, source, detail) or None)
CASES = [
    ("nothing informative", [(5, "app", "unknown")], None),
    ("a call that reached nobody", [(5, "follow_up", "not_reached")], None),
    ("one app answer", [(5, "app", "safe_at_home")], ("safe", "app", "safe_at_home")),
    ("evacuating is moving", [(5, "app", "evacuating")], ("moving", "app", "evacuating")),
    (
        "staff confirmation outranks an older app answer",
        [(5, "app", "evacuating"), (20, "reception", "checked_in")],
        ("safe", "reception", "checked_in"),
    ),
    (
        "staff confirmation clears an older needs-help from the app",
        [(5, "app", "needs_rescue"), (40, "rescue", "rescued")],
        ("safe", "rescue", "rescued"),
    ),
    (
        "a newer needs-help outranks an older safe",
        [(5, "reception", "checked_in"), (30, "app", "injured")],
        ("needs_help", "app", "injured"),
    ),
    (
        "a newer needs-help from the family outranks an older staff safe",
        [(5, "supporter", "safe"), (30, "family", "needs_help")],
        ("needs_help", "family", "needs_help"),
    ),
    (
        "the family saying safe does not clear the person's own call for help",
        [(5, "app", "needs_rescue"), (30, "family", "safe")],
        ("needs_help", "app", "needs_rescue"),
    ),
    (
        "the app saying safe does not clear what a visiting team found",
        [(5, "follow_up", "needs_help"), (30, "app", "safe_at_home")],
        ("needs_help", "follow_up", "needs_help"),
    ),
    (
        "the person's own newer safe clears their own older needs-help",
        [(5, "app", "needs_rescue"), (30, "app", "safe_at_home")],
        ("safe", "app", "safe_at_home"),
    ),
    (
        "the person's safe clears a family report of needs-help",
        [(5, "family", "needs_help"), (30, "app", "elsewhere_safe")],
        ("safe", "app", "elsewhere_safe"),
    ),
    (
        "a weaker needs-help does not lower the bar to clear a stronger one",
        [(5, "follow_up", "needs_help"), (10, "app", "needs_rescue"), (30, "app", "safe_at_home")],
        ("needs_help", "follow_up", "needs_help"),
    ),
    (
        "no information never changes the state",
        [(5, "reception", "checked_in"), (30, "app", "unknown"), (40, "follow_up", "not_reached")],
        ("safe", "reception", "checked_in"),
    ),
    (
        "leaving the shelter is still seen safe by staff",
        [(5, "reception", "checked_in"), (50, "reception", "checked_out")],
        ("safe", "reception", "checked_out"),
    ),
    (
        "moving again after a check-in",
        [(5, "reception", "checked_in"), (50, "app", "evacuating")],
        ("moving", "app", "evacuating"),
    ),
    (
        "at the same moment staff outranks the app",
        [(10, "reception", "checked_in"), (10, "app", "needs_rescue")],
        ("safe", "reception", "checked_in"),
    ),
    (
        "at the same moment and standing needs-help wins",
        [(10, "supporter", "safe"), (10, "follow_up", "needs_help")],
        ("needs_help", "follow_up", "needs_help"),
    ),
    (
        "an open rescue request is the person asking for help",
        [(5, "app", "safe_at_home"), (20, "app", "rescue_requested")],
        ("needs_help", "app", "rescue_requested"),
    ),
    (
        "at home recorded by headquarters",
        [(5, "app", "evacuating"), (60, "hq", "at_home")],
        ("safe", "hq", "at_home"),
    ),
    (
        "in a car recorded by rescue",
        [(60, "rescue", "in_car")],
        ("safe", "rescue", "in_car"),
    ),
    (
        "order of input does not matter",
        [(30, "family", "safe"), (5, "app", "needs_rescue")],
        ("needs_help", "app", "needs_rescue"),
    ),
]


def frame(observations, citizen_id: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "citizen_id": [citizen_id] * len(observations),
            "at": [T0 + pd.Timedelta(minutes=m) for m, _, _ in observations],
            "source": [s for _, s, _ in observations],
            "detail": [d for _, _, d in observations],
        }
    )


@pytest.mark.parametrize(("case", "observations", "expected"), CASES, ids=[c[0] for c in CASES])
def test_merge_rule(case, observations, expected):
    merged = merge(categorise(frame(observations)))
    if expected is None:
        assert merged.empty, case
        return
    assert len(merged) == 1
    row = merged.iloc[0]
    assert (row["state"], row["source"], row["detail"]) == expected, case
    # The fold says the same.
    folded = merge_one(
        Observation(m, SOURCE_STANDING[s], DETAIL_CATEGORY[d], (s, d)) for m, s, d in observations
    )
    assert folded.ref == expected[1:]


def test_everyone_at_once_keeps_people_apart():
    parts = [frame(obs, citizen_id=i) for i, (_, obs, _) in enumerate(CASES)]
    merged = merge(categorise(pd.concat(parts, ignore_index=True))).set_index("citizen_id")
    for i, (case, _, expected) in enumerate(CASES):
        if expected is None:
            assert i not in merged.index, case
        else:
            row = merged.loc[i]
            assert (row["state"], row["source"], row["detail"]) == expected, case


def test_last_contact_is_the_newest_informative_observation():
    obs = [(5, "app", "needs_rescue"), (30, "family", "safe"), (50, "follow_up", "not_reached")]
    row = merge(categorise(frame(obs))).iloc[0]
    assert row["state"] == "needs_help"
    assert row["at"] == T0 + pd.Timedelta(minutes=5)
    assert row["last_contact_at"] == T0 + pd.Timedelta(minutes=30)


def test_unknown_sources_and_details_are_refused():
    with pytest.raises(ValueError, match="sources"):
        categorise(frame([(5, "neighbour", "safe")]))
    with pytest.raises(ValueError, match="details"):
        categorise(frame([(5, "app", "fine")]))


observation = st.tuples(
    st.integers(1, 6),  # person
    st.integers(0, 12),  # minute (ties likely)
    st.sampled_from(sorted(SOURCE_STANDING)),
    st.sampled_from(sorted(DETAIL_CATEGORY)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(observation, max_size=40))
def test_vectorised_merge_equals_the_fold(rows):
    import numpy as np

    citizen = np.array([r[0] for r in rows], dtype=np.int64)
    at = np.array([r[1] for r in rows], dtype=np.int64)
    standing = np.array([SOURCE_STANDING[r[2]] for r in rows], dtype=np.int64)
    category = np.array([DETAIL_CATEGORY[r[3]] for r in rows], dtype=np.int64)
    ids, decided, _ = decide(citizen, at, standing, category)
    got = dict(zip(ids.tolist(), decided.tolist(), strict=True))
    for person in sorted(set(citizen.tolist())):
        mine = [
            Observation(int(at[i]), int(standing[i]), int(category[i]), i)
            for i in range(len(rows))
            if citizen[i] == person
        ]
        folded = merge_one(mine)
        if folded is None:
            assert person not in got
            continue
        chosen = got[person]
        # Identical observations may stand in for each other; the state and standing may not.
        assert (at[chosen], standing[chosen], category[chosen]) == (
            folded.at,
            folded.standing,
            folded.category,
        ), CATEGORIES[folded.category]
