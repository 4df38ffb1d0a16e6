"""Replay moments: even steps for dense incidents, the snapshots themselves for sparse ones."""

from __future__ import annotations

import datetime as dt
import doctest

from analytics import replay_steps
from analytics.replay_steps import replay_moments

T0 = dt.datetime(2024, 1, 9, 9, 0, tzinfo=dt.UTC)


def test_even_steps_cover_the_range_in_whole_minutes():
    moments = replay_moments(T0, T0 + dt.timedelta(hours=3, minutes=7), [], steps=10)
    assert moments[0] == T0 and moments[-1] == T0 + dt.timedelta(hours=3, minutes=7)
    gaps = {b - a for a, b in zip(moments[:-2], moments[1:-1], strict=True)}
    assert gaps == {dt.timedelta(minutes=19)}


def test_months_of_snapshots_replay_snapshot_by_snapshot():
    snaps = [T0 + dt.timedelta(hours=12 * k) for k in range(117)]
    assert replay_moments(snaps[0], snaps[-1], snaps) == snaps


def test_an_empty_range_gives_one_moment():
    assert replay_moments(T0, T0, []) == [T0]


def test_docstring_examples():
    assert doctest.testmod(replay_steps).failed == 0
