"""Who is still unaccounted for (安否未確認者): the list headquarters work through.

People in the incident's scope who have no *safe* state after the merge
(:mod:`analytics.safety_merge`): first the **priority scope** — people on the
evacuation-support register and residents of a hazard zone — then every other opted-in
citizen. Within that, ordered by priority:

1. register people whose individual evacuation plan is overdue (no supporter confirmation and
   no arrival at the planned destination after the configured time: *escalated*);
2. register people;
3. residents of a hazard zone;
4. the longest since the last contact (never contacted first).

Households roll up: a household is accounted for when all its members are.

>>> import datetime as dt, pandas as pd
>>> t = dt.datetime(2026, 7, 10, 3, tzinfo=dt.UTC)
>>> people = pd.DataFrame({"citizen_id": [1, 2, 3, 4], "district": ["北", "北", "南", "南"],
...     "household_id": [10, 10, 20, 30], "on_register": [False, True, False, False],
...     "in_zone": [True, False, False, True]})
>>> merged = pd.DataFrame({"citizen_id": [1, 3], "state": ["moving", "safe"],
...     "source": ["app", "reception"], "detail": ["evacuating", "checked_in"],
...     "at": [t - dt.timedelta(minutes=30)] * 2, "last_contact_at": [t - dt.timedelta(minutes=30)] * 2})
>>> board = unaccounted(people, merged, t)
>>> board[["citizen_id", "state", "scope", "minutes_since_contact"]].values.tolist()
[[2, 'no_contact', 'priority', nan], [4, 'no_contact', 'priority', nan], [1, 'moving', 'priority', 30.0]]
>>> households(people, merged)[["household_id", "members", "accounted", "unaccounted"]].values.tolist()
[[10, 2, 0, 2], [30, 1, 0, 1]]
>>> accounted_counts(people, merged)["accounted"], accounted_counts(people, merged)["unaccounted"]
(1, 3)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .safety_merge import NO_CONTACT

PRIORITY, EVERYONE = "priority", "everyone"
LIST_COLUMNS = (
    "citizen_id",
    "district",
    "household_id",
    "on_register",
    "in_zone",
    "scope",
    "escalated",
    "state",
    "source",
    "detail",
    "at",
    "last_contact_at",
    "minutes_since_contact",
)


def with_states(people: pd.DataFrame, merged: pd.DataFrame) -> pd.DataFrame:
    """``people`` with each one's merged ``state`` (``no_contact`` where nothing is known),
    ``source``, ``detail``, ``at`` and ``last_contact_at``."""
    keep = [c for c in ("state", "source", "detail", "at", "last_contact_at") if c in merged]
    out = people.merge(merged[["citizen_id", *keep]], on="citizen_id", how="left")
    out["state"] = out["state"].fillna(NO_CONTACT)
    return out


def unaccounted(
    people: pd.DataFrame,
    merged: pd.DataFrame,
    as_of: dt.datetime,
    escalated: Iterable[int] = (),
) -> pd.DataFrame:
    """The people not accounted for, in the order to work through them.

    Parameters
    ----------
    people
        Everyone in the incident's scope: ``citizen_id``, ``district``, ``household_id``,
        ``on_register``, ``in_zone`` (the home lies in a hazard zone).
    merged
        :func:`analytics.safety_merge.merge` of their observations.
    as_of
        The moment the time since the last contact is counted to.
    escalated
        Register people whose evacuation plan is overdue (they come first).

    Returns
    -------
    pandas.DataFrame
        :data:`LIST_COLUMNS`: ``scope`` is ``priority`` (register or hazard zone) or
        ``everyone``; ``minutes_since_contact`` is NaN for people never heard of.
    """
    rows = with_states(people, merged)
    rows = rows[rows["state"] != "safe"].copy()
    rows["escalated"] = rows["citizen_id"].isin(set(int(i) for i in escalated))
    rows["on_register"] = rows["on_register"].astype(bool)
    rows["in_zone"] = rows["in_zone"].astype(bool)
    rows["scope"] = np.where(rows["on_register"] | rows["in_zone"], PRIORITY, EVERYONE)
    for column in ("source", "detail", "at", "last_contact_at"):
        if column not in rows:
            rows[column] = None
    contact = pd.to_datetime(rows["last_contact_at"], utc=True)
    minutes = (pd.Timestamp(as_of) - contact).dt.total_seconds() // 60
    rows["minutes_since_contact"] = minutes.clip(lower=0).astype(float)
    waited = rows["minutes_since_contact"].fillna(np.inf)
    rows = rows.assign(_waited=-waited).sort_values(
        ["escalated", "on_register", "in_zone", "_waited", "citizen_id"],
        ascending=[False, False, False, True, True],
        kind="stable",
    )
    return rows[list(LIST_COLUMNS)].reset_index(drop=True)


def by_district(board: pd.DataFrame) -> pd.DataFrame:
    """The list grouped by district: ``district``, ``unaccounted``, ``priority``, ``register``,
    ``in_zone``, ``needs_help``, ``no_contact``, ``escalated``, ``households``; the districts
    with the most priority people first."""
    frame = board.assign(
        district=board["district"].fillna("—"),
        priority=board["scope"] == PRIORITY,
        needs_help=board["state"] == "needs_help",
        no_contact=board["state"] == NO_CONTACT,
    )
    table = frame.groupby("district", sort=False).agg(
        unaccounted=("citizen_id", "size"),
        priority=("priority", "sum"),
        register=("on_register", "sum"),
        in_zone=("in_zone", "sum"),
        needs_help=("needs_help", "sum"),
        no_contact=("no_contact", "sum"),
        escalated=("escalated", "sum"),
        households=("household_id", "nunique"),
    )
    table = table.reset_index().sort_values(
        ["escalated", "priority", "unaccounted", "district"], ascending=[False, False, False, True]
    )
    return table.astype({c: int for c in table.columns if c != "district"}).reset_index(drop=True)


def households(people: pd.DataFrame, merged: pd.DataFrame) -> pd.DataFrame:
    """Households with a member not accounted for: ``household_id``, ``district``,
    ``members``, ``accounted``, ``unaccounted``, ``needs_help``, ``register`` (members on the
    register), ``in_zone``; most unaccounted first. A household is accounted for when all its
    members are (and then it is not listed)."""
    rows = with_states(people[people["household_id"].notna()], merged)
    rows = rows.assign(
        safe=rows["state"] == "safe",
        needs_help=rows["state"] == "needs_help",
        on_register=rows["on_register"].astype(bool),
        in_zone=rows["in_zone"].astype(bool),
    )
    table = rows.groupby("household_id").agg(
        district=("district", "first"),
        members=("citizen_id", "size"),
        accounted=("safe", "sum"),
        needs_help=("needs_help", "sum"),
        register=("on_register", "sum"),
        in_zone=("in_zone", "any"),
    )
    table["unaccounted"] = table["members"] - table["accounted"]
    table = table[table["unaccounted"] > 0].reset_index()
    table = table.sort_values(
        ["register", "in_zone", "unaccounted", "household_id"],
        ascending=[False, False, False, True],
    )
    columns = [
        "household_id",
        "district",
        "members",
        "accounted",
        "unaccounted",
        "needs_help",
        "register",
        "in_zone",
    ]
    table["household_id"] = table["household_id"].astype(np.int64)
    return table[columns].reset_index(drop=True)


def accounted_counts(people: pd.DataFrame, merged: pd.DataFrame) -> dict[str, int]:
    """The key figures: ``people``, ``accounted``, ``unaccounted``, ``needs_help``,
    ``no_contact``, ``moving``, ``priority`` (people in the priority scope) and
    ``priority_unaccounted``, ``register`` and ``register_unaccounted``."""
    rows = with_states(people, merged)
    safe = rows["state"] == "safe"
    priority = rows["on_register"].astype(bool) | rows["in_zone"].astype(bool)
    register = rows["on_register"].astype(bool)
    return {
        "people": len(rows),
        "accounted": int(safe.sum()),
        "unaccounted": int((~safe).sum()),
        "needs_help": int((rows["state"] == "needs_help").sum()),
        "no_contact": int((rows["state"] == NO_CONTACT).sum()),
        "moving": int((rows["state"] == "moving").sum()),
        "priority": int(priority.sum()),
        "priority_unaccounted": int((priority & ~safe).sum()),
        "register": int(register.sum()),
        "register_unaccounted": int((register & ~safe).sum()),
    }
