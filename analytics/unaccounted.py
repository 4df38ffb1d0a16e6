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
>>> rows = with_states(people, merged)
>>> board = unaccounted(rows, t)
>>> board[["citizen_id", "state", "scope", "minutes_since_contact"]].values.tolist()
[[2, 'no_contact', 'priority', nan], [4, 'no_contact', 'priority', nan], [1, 'moving', 'priority', 30.0]]
>>> households(rows)[["household_id", "members", "accounted", "unaccounted"]].values.tolist()
[[10, 2, 0, 2], [30, 1, 0, 1]]
>>> accounted_counts(rows)["accounted"], accounted_counts(rows)["unaccounted"]
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
    ``source``, ``detail``, ``at`` and ``last_contact_at`` — the rows every function below
    takes (the dashboard builds them from arrays, :func:`analytics.safety_merge.state_arrays`)."""
    keep = [c for c in ("state", "source", "detail", "at", "last_contact_at") if c in merged]
    out = people.merge(merged[["citizen_id", *keep]], on="citizen_id", how="left")
    out["state"] = out["state"].fillna(NO_CONTACT)
    for column in ("source", "detail", "at", "last_contact_at"):
        if column not in out:
            out[column] = None
    return out


def unaccounted(
    rows: pd.DataFrame, as_of: dt.datetime, escalated: Iterable[int] = ()
) -> pd.DataFrame:
    """The people not accounted for, in the order to work through them.

    Parameters
    ----------
    rows
        Everyone in the incident's scope with their merged state (:func:`with_states`):
        ``citizen_id``, ``district``, ``household_id``, ``on_register``, ``in_zone`` (the home
        lies in a hazard zone), ``state``, ``source``, ``detail``, ``at``, ``last_contact_at``.
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
    keep = np.flatnonzero(np.asarray(rows["state"] != "safe"))
    ids = rows["citizen_id"].to_numpy(np.int64)[keep]
    flagged = np.isin(ids, np.fromiter((int(i) for i in escalated), np.int64))
    register = rows["on_register"].to_numpy(bool)[keep]
    zone = rows["in_zone"].to_numpy(bool)[keep]
    contact = pd.to_datetime(rows["last_contact_at"], utc=True).iloc[keep]
    seconds = (pd.Timestamp(as_of) - contact).dt.total_seconds().to_numpy(float)
    minutes = np.clip(np.floor(seconds / 60), 0, None)
    order = np.lexsort(
        (ids, -np.where(np.isnan(minutes), np.inf, minutes), ~zone, ~register, ~flagged)
    )
    chosen = keep[order]
    out = rows.iloc[chosen][[c for c in LIST_COLUMNS if c in rows]].reset_index(drop=True)
    out["on_register"] = register[order]
    out["in_zone"] = zone[order]
    out["escalated"] = flagged[order]
    out["scope"] = np.where(out["on_register"] | out["in_zone"], PRIORITY, EVERYONE)
    out["minutes_since_contact"] = minutes[order]
    return out[list(LIST_COLUMNS)]


def _districts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, names = pd.factorize(values.fillna("—").astype(object), sort=True)
    return codes, np.asarray(names, dtype=object)


def by_district(board: pd.DataFrame) -> pd.DataFrame:
    """The list grouped by district: ``district``, ``unaccounted``, ``priority``, ``register``,
    ``in_zone``, ``needs_help``, ``no_contact``, ``escalated``, ``households``; the districts
    with the most escalated, then priority people first."""
    codes, names = _districts(board["district"])
    n = len(names)

    def count(mask) -> np.ndarray:
        return np.bincount(codes, weights=np.asarray(mask, float), minlength=n).astype(int)

    state = np.asarray(board["state"], dtype=object)
    households = board["household_id"].to_numpy(float)
    known = ~np.isnan(households)
    span = int(np.nanmax(households)) + 1 if known.any() else 1
    pairs = np.unique(codes[known].astype(np.int64) * span + households[known].astype(np.int64))
    table = pd.DataFrame(
        {
            "district": names,
            "unaccounted": np.bincount(codes, minlength=n),
            "priority": count(board["scope"].to_numpy() == PRIORITY),
            "register": count(board["on_register"]),
            "in_zone": count(board["in_zone"]),
            "needs_help": count(state == "needs_help"),
            "no_contact": count(state == NO_CONTACT),
            "escalated": count(board["escalated"]),
            "households": np.bincount(pairs // span, minlength=n)
            if pairs.size
            else np.zeros(n, int),
        }
    )
    table = table.sort_values(
        ["escalated", "priority", "unaccounted", "district"], ascending=[False, False, False, True]
    )
    return table.reset_index(drop=True)


def households(rows: pd.DataFrame) -> pd.DataFrame:
    """Households with a member not accounted for: ``household_id``, ``district``,
    ``members``, ``accounted``, ``unaccounted``, ``needs_help``, ``register`` (members on the
    register), ``in_zone``; register households, then hazard zones, then most unaccounted
    first. A household is accounted for when all its members are (and then it is not listed)."""
    household = rows["household_id"].to_numpy(float)
    known = ~np.isnan(household)
    ids, first, inverse = np.unique(
        household[known].astype(np.int64), return_index=True, return_inverse=True
    )
    state = rows["state"].to_numpy()[known]

    def total(mask) -> np.ndarray:
        return np.bincount(inverse, weights=np.asarray(mask, float), minlength=len(ids)).astype(int)

    members = np.bincount(inverse, minlength=len(ids))
    accounted = total(state == "safe")
    table = pd.DataFrame(
        {
            "household_id": ids,
            "district": rows["district"].to_numpy(object)[known][first],
            "members": members,
            "accounted": accounted,
            "unaccounted": members - accounted,
            "needs_help": total(state == "needs_help"),
            "register": total(rows["on_register"].to_numpy(bool)[known]),
            "in_zone": total(rows["in_zone"].to_numpy(bool)[known]) > 0,
        }
    )
    table = table[table["unaccounted"] > 0]
    table = table.sort_values(
        ["register", "in_zone", "unaccounted", "household_id"],
        ascending=[False, False, False, True],
    )
    return table.reset_index(drop=True)


def accounted_counts(rows: pd.DataFrame) -> dict[str, int]:
    """The key figures: ``people``, ``accounted``, ``unaccounted``, ``needs_help``,
    ``no_contact``, ``moving``, ``priority`` (people in the priority scope) and
    ``priority_unaccounted``, ``register`` and ``register_unaccounted``."""
    state = rows["state"].to_numpy()
    safe = state == "safe"
    register = rows["on_register"].to_numpy(bool)
    priority = register | rows["in_zone"].to_numpy(bool)
    return {
        "people": len(rows),
        "accounted": int(safe.sum()),
        "unaccounted": int((~safe).sum()),
        "needs_help": int((state == "needs_help").sum()),
        "no_contact": int((state == NO_CONTACT).sum()),
        "moving": int((state == "moving").sum()),
        "priority": int(priority.sum()),
        "priority_unaccounted": int((priority & ~safe).sum()),
        "register": int(register.sum()),
        "register_unaccounted": int((register & ~safe).sum()),
    }
