"""Individual evacuation plans (個別避難計画) during an incident: has the supporter confirmed,
has the person arrived at the planned destination — and who is overdue.

A plan is **escalated** when, ``escalate_after`` minutes after the incident began, its person
has neither a confirmation by their supporter nor a check-in at the planned destination.
Escalated people go to the top of the unaccounted-for list (:mod:`analytics.unaccounted`).

>>> import datetime as dt, pandas as pd
>>> t0 = dt.datetime(2026, 7, 10, 4, tzinfo=dt.UTC)
>>> plans = pd.DataFrame({"citizen_id": [1, 2, 3], "destination_kind": ["shelter"] * 3,
...     "destination_shelter_id": [7, 7, 8]})
>>> confirmations = pd.DataFrame({"citizen_id": [2], "confirmed_at": [t0 + dt.timedelta(minutes=20)],
...     "outcome": ["safe"]})
>>> arrivals = pd.DataFrame({"citizen_id": [3, 1], "shelter_id": [8, 9],
...     "arrived_at": [t0 + dt.timedelta(minutes=50)] * 2})
>>> board = track(plans, confirmations, arrivals, t0, t0 + dt.timedelta(minutes=90), 60)
>>> board[["citizen_id", "status", "arrived_elsewhere"]].values.tolist()
[[1, 'escalated', True], [2, 'confirmed', False], [3, 'arrived', False]]
>>> coverage(plans, [1, 2, 3, 4])
{'register': 4, 'with_plan': 3, 'share': 0.75}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Plan states during an incident, most urgent first.
PLAN_STATES = ("escalated", "waiting", "confirmed", "arrived")


def track(
    plans: pd.DataFrame,
    confirmations: pd.DataFrame,
    arrivals: pd.DataFrame,
    start: dt.datetime | None,
    now: dt.datetime,
    escalate_after: float,
) -> pd.DataFrame:
    """Each plan's state in the incident.

    Parameters
    ----------
    plans
        ``citizen_id``, ``destination_kind``, ``destination_shelter_id``.
    confirmations
        The first supporter confirmation per person: ``citizen_id``, ``confirmed_at``,
        ``outcome``.
    arrivals
        Check-ins: ``citizen_id``, ``shelter_id``, ``arrived_at``.
    start, now
        When the incident began, and the moment of the picture.
    escalate_after
        Minutes after ``start`` without a confirmation or an arrival that escalate a plan.

    Returns
    -------
    pandas.DataFrame
        The plan columns plus ``confirmed_at``, ``confirmation`` (its outcome),
        ``arrived_at`` (at the planned destination), ``arrived_elsewhere`` (checked in at
        another shelter), ``status`` (:data:`PLAN_STATES`) and ``minutes_since_start``;
        the most urgent first.
    """
    out = plans.copy()
    confirmed = confirmations.drop_duplicates("citizen_id").set_index("citizen_id")
    out["confirmed_at"] = (
        out["citizen_id"].map(confirmed["confirmed_at"]) if len(confirmed) else None
    )
    out["confirmation"] = out["citizen_id"].map(confirmed["outcome"]) if len(confirmed) else None
    at_destination = arrivals.merge(
        out[["citizen_id", "destination_shelter_id"]],
        left_on=["citizen_id", "shelter_id"],
        right_on=["citizen_id", "destination_shelter_id"],
    )
    first = at_destination.groupby("citizen_id")["arrived_at"].min()
    out["arrived_at"] = out["citizen_id"].map(first) if len(first) else None
    anywhere = set(arrivals["citizen_id"].tolist()) if len(arrivals) else set()
    out["arrived_elsewhere"] = out["citizen_id"].isin(anywhere) & out["arrived_at"].isna()
    elapsed = (now - start).total_seconds() / 60 if start is not None else 0.0
    out["minutes_since_start"] = max(elapsed, 0.0)
    overdue = elapsed >= escalate_after
    status = np.where(
        out["arrived_at"].notna(),
        "arrived",
        np.where(out["confirmed_at"].notna(), "confirmed", "escalated" if overdue else "waiting"),
    )
    out["status"] = status
    rank = {s: i for i, s in enumerate(PLAN_STATES)}
    out = out.assign(_rank=out["status"].map(rank)).sort_values(
        ["_rank", "citizen_id"], kind="stable"
    )
    return out.drop(columns="_rank").reset_index(drop=True)


def coverage(plans: pd.DataFrame, register_ids: Iterable[int]) -> dict[str, float | int]:
    """How many register people have a plan (the municipal duty since 2021)."""
    register = {int(i) for i in register_ids}
    with_plan = len(register & {int(i) for i in plans["citizen_id"]})
    return {
        "register": len(register),
        "with_plan": with_plan,
        "share": with_plan / len(register) if register else 0.0,
    }
