"""The moments a replay slider offers.

An incident with a dense stream of reports gets evenly spaced steps; one known only from
snapshots (such as the Nanao 2024 head counts, twice a day for months) gets the snapshot times
themselves, so every step shows real data.

>>> import datetime as dt
>>> t0 = dt.datetime(2026, 7, 10, 4, 0, tzinfo=dt.UTC)
>>> len(replay_moments(t0, t0 + dt.timedelta(hours=3), [], steps=36))
37
>>> snaps = [t0 + dt.timedelta(days=d) for d in range(3)]
>>> replay_moments(t0, snaps[-1], snaps) == snaps
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def replay_moments(
    start: dt.datetime,
    end: dt.datetime,
    observations: Sequence[dt.datetime],
    steps: int = 72,
    max_observations: int = 400,
) -> list[dt.datetime]:
    """Evenly spaced moments from ``start`` to ``end`` (``steps`` intervals, whole minutes),
    or the observation times when they are sparse snapshots spanning most of the range."""
    if end <= start:
        return [start]
    span = end - start
    if observations and len(observations) <= max_observations:
        covered = observations[-1] - observations[0]
        if covered >= span * 0.8 and span > dt.timedelta(days=1):
            return sorted(set(observations))
    step = max(span / steps, dt.timedelta(minutes=1))
    step = dt.timedelta(minutes=round(step.total_seconds() / 60))
    moments = []
    current = start
    while current < end:
        moments.append(current)
        current += step
    moments.append(end)
    return moments
