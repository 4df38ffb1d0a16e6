"""One last-known safety state per person, merged from every source (安否の統合).

A person's safety is told by several sources, each with a time: their own answer in the app
(or through the city OS), shelter reception (check-in, check-out), their supporter, their
family, a rescue team, a follow-up call or visit, headquarters recording them at home
(在宅避難) or in a car (車中泊). Each observation is put into one **category** — *needs help*,
*safe*, *moving* (evacuating), or *no information* (the app's 「不明」, a call that did not reach
anyone) — and comes from a source of one **standing**:

====================  =====================================================================
standing              sources
====================  =====================================================================
3 someone in charge   reception, supporter, rescue, follow-up call or visit, headquarters
2 the person          the app or the city OS (the person's own answer)
1 family              a family member's report
====================  =====================================================================

The rule (:func:`merge`), in three sentences:

1. Observations without information are kept in the history but never change the state.
2. Otherwise the newest observation gives the state — except that a *needs help* stays until an
   observation **at least as strong** as it comes later: the family saying "safe" does not
   clear the person's own call for help, and the person's app saying "safe" does not clear
   what a visiting team found; a staff confirmation clears anything older.
3. At the same moment the stronger source wins, and of the same standing *needs help* wins.

So a staff confirmation outranks an older app answer, and a newer *needs help* outranks an older
*safe*. The history is never rewritten: the merged state is computed at read time from the
stored observations (:func:`merge` over all people at once, vectorised;
:func:`merge_one` folds one person's observations and is the rule's reference).

>>> import pandas as pd
>>> obs = pd.DataFrame({
...     "citizen_id": [1, 1, 2, 2, 3, 3],
...     "at": pd.to_datetime(["2026-07-10 04:10", "2026-07-10 04:40", "2026-07-10 04:10",
...                           "2026-07-10 04:40", "2026-07-10 04:10", "2026-07-10 04:40"], utc=True),
...     "source": ["app", "reception", "app", "family", "reception", "app"],
...     "detail": ["needs_rescue", "checked_in", "needs_rescue", "safe", "checked_in", "injured"]})
>>> merged = merge(categorise(obs))
>>> merged[["citizen_id", "state", "source", "detail"]].values.tolist()
[[1, 'safe', 'reception', 'checked_in'], [2, 'needs_help', 'app', 'needs_rescue'], [3, 'needs_help', 'app', 'injured']]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ vocabulary

#: Categories, in the order that breaks ties between observations of the same time and standing.
NO_INFO, MOVING, SAFE, NEEDS_HELP = 0, 1, 2, 3
CATEGORIES = ("no_info", "moving", "safe", "needs_help")
#: The state of someone with no informative observation at all.
NO_CONTACT = "no_contact"
#: Merged states, most urgent first.
STATES = ("needs_help", NO_CONTACT, "moving", "safe")

FAMILY, PERSON, IN_CHARGE = 1, 2, 3
#: Standing of each source (see the module docstring).
SOURCE_STANDING = {
    "family": FAMILY,
    "app": PERSON,
    "reception": IN_CHARGE,
    "supporter": IN_CHARGE,
    "rescue": IN_CHARGE,
    "follow_up": IN_CHARGE,
    "hq": IN_CHARGE,
}
SOURCES = tuple(SOURCE_STANDING)

#: Category of each detail: the app's states and the recorded outcomes.
DETAIL_CATEGORY = {
    # the app (sql.models.vocab.STATUS_STATES)
    "unknown": NO_INFO,
    "safe_at_home": SAFE,
    "evacuating": MOVING,
    "at_shelter": SAFE,
    "elsewhere_safe": SAFE,
    "injured": NEEDS_HELP,
    "needs_rescue": NEEDS_HELP,
    # recorded outcomes (sql.models.vocab.OBSERVATION_OUTCOMES)
    "checked_in": SAFE,
    "checked_out": SAFE,
    "at_home": SAFE,
    "in_car": SAFE,
    "safe": SAFE,
    "needs_help": NEEDS_HELP,
    "not_reached": NO_INFO,
    # a rescue request (open: the person asked for help; resolved: the team brought them out)
    "rescue_requested": NEEDS_HELP,
    "rescued": SAFE,
}


#: Code tables for arrays (:func:`state_arrays`): index = code.
DETAILS = tuple(DETAIL_CATEGORY)
STANDING_OF_SOURCE = np.array([SOURCE_STANDING[s] for s in SOURCES], np.int8)
CATEGORY_OF_DETAIL = np.array([DETAIL_CATEGORY[d] for d in DETAILS], np.int8)
#: State code of someone with nothing informative (the others are the category codes).
NO_CONTACT_CODE = -1


def categorise(observations: pd.DataFrame) -> pd.DataFrame:
    """Add ``standing`` (from ``source``) and ``category`` (from ``detail``) codes.

    Unknown sources or details raise ``ValueError`` (nothing is guessed).
    """
    out = observations.copy()
    standing = out["source"].map(SOURCE_STANDING)
    category = out["detail"].map(DETAIL_CATEGORY)
    if standing.isna().any():
        raise ValueError(f"unknown sources: {sorted(set(out['source'][standing.isna()]))}")
    if category.isna().any():
        raise ValueError(f"unknown details: {sorted(set(out['detail'][category.isna()]))}")
    out["standing"] = standing.astype(np.int8)
    out["category"] = category.astype(np.int8)
    return out


# ------------------------------------------------------------------ the rule, one person


@dataclasses.dataclass(frozen=True)
class Observation:
    """One observation of one person (for :func:`merge_one`)."""

    at: float
    standing: int
    category: int
    ref: object = None


def merge_one(observations: Iterable[Observation]) -> Observation | None:
    """The observation that decides one person's state (None: nothing informative).

    The reference implementation of the rule: a fold over the person's observations in time
    order, keeping the *needs help* observations not yet cleared by one at least as strong.

    Examples
    --------
    >>> app_help = Observation(at=10, standing=PERSON, category=NEEDS_HELP, ref="app")
    >>> family_safe = Observation(at=20, standing=FAMILY, category=SAFE, ref="family")
    >>> merge_one([app_help, family_safe]).ref
    'app'
    >>> merge_one([app_help, family_safe, Observation(30, IN_CHARGE, SAFE, "reception")]).ref
    'reception'
    >>> merge_one([Observation(5, IN_CHARGE, NO_INFO, "not reached")]) is None
    True
    """
    ordered = sorted(
        (o for o in observations if o.category != NO_INFO),
        key=lambda o: (o.at, o.standing, o.category),
    )
    if not ordered:
        return None
    open_help: list[Observation] = []
    for o in ordered:
        if o.category == NEEDS_HELP:
            open_help.append(o)
        else:
            open_help = [h for h in open_help if h.standing > o.standing]
    return open_help[-1] if open_help else ordered[-1]


# ------------------------------------------------------------------ the rule, everyone at once


def decide(
    citizen: np.ndarray, at: np.ndarray, standing: np.ndarray, category: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`merge_one` over many people.

    Parameters
    ----------
    citizen, at, standing, category
        One entry per observation (``at`` any orderable number, e.g. seconds).

    Returns
    -------
    ids, decided, newest
        The people with an informative observation (sorted), the index (into the inputs) of the
        observation deciding each one's state, and of their newest informative observation
        (the last contact).

    Examples
    --------
    >>> import numpy as np
    >>> ids, decided, newest = decide(np.array([7, 7, 7, 9]), np.array([1, 2, 3, 1]),
    ...     np.array([PERSON, FAMILY, PERSON, FAMILY]), np.array([NEEDS_HELP, SAFE, NO_INFO, SAFE]))
    >>> ids.tolist(), decided.tolist(), newest.tolist()
    ([7, 9], [0, 3], [1, 3])
    """
    citizen = np.asarray(citizen, np.int64)
    keep = np.flatnonzero(np.asarray(category) != NO_INFO)
    if len(keep) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    c = citizen[keep]
    t = np.asarray(at)[keep]
    s = np.asarray(standing, np.int64)[keep]
    k = np.asarray(category, np.int64)[keep]
    order = np.lexsort((s * 4 + k, t, c))  # time, then standing, then category
    c, s, k, keep = c[order], s[order], k[order], keep[order]
    first = np.r_[True, c[1:] != c[:-1]]
    last = np.r_[c[1:] != c[:-1], True]
    group = np.cumsum(first) - 1
    # The strongest non-"needs help" observation strictly after each one, within the person:
    # a running maximum from the end, restarted per person by an offset growing per person.
    clearing = np.where(k == NEEDS_HELP, 0, s)
    offset = (group[-1] - group) * 8
    running = np.maximum.accumulate((clearing + offset)[::-1])[::-1] - offset
    after = np.r_[running[1:], 0]
    after[last] = 0
    still_open = (k == NEEDS_HELP) & (after < s)
    positions = np.flatnonzero(last)
    decided = positions.copy()
    open_positions = np.flatnonzero(still_open)
    if len(open_positions):
        newest_open = np.r_[group[open_positions][1:] != group[open_positions][:-1], True]
        chosen = open_positions[newest_open]
        decided[group[chosen]] = chosen
    return c[positions], keep[decided], keep[positions]


def merge(observations: pd.DataFrame) -> pd.DataFrame:
    """Each person's last-known state from :func:`categorise`-d observations.

    Parameters
    ----------
    observations
        ``citizen_id``, ``at`` (UTC times, or seconds since 1970 as numbers), ``standing``,
        ``category``, and any other columns (``source``, ``detail``, ``shelter_id``, ...),
        which are carried from the deciding observation.

    Returns
    -------
    pandas.DataFrame
        One row per person with an informative observation: ``citizen_id``, ``state``
        (``needs_help``, ``safe`` or ``moving``), the deciding observation's columns, and
        ``last_contact_at`` (the newest informative observation's time). Sorted by person.
    """
    raw = observations["at"]
    if pd.api.types.is_numeric_dtype(raw):
        moments = raw.to_numpy(dtype=float)
    else:
        moments = pd.to_datetime(raw, utc=True).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ids, decided, newest = decide(
        observations["citizen_id"].to_numpy(),
        moments,
        observations["standing"].to_numpy(),
        observations["category"].to_numpy(),
    )
    chosen = observations.iloc[decided].reset_index(drop=True)
    chosen["citizen_id"] = ids
    chosen["at"] = _times(moments[decided], numeric=pd.api.types.is_numeric_dtype(raw))
    chosen.insert(1, "state", np.asarray(CATEGORIES, dtype=object)[chosen["category"].to_numpy()])
    chosen["last_contact_at"] = _times(moments[newest], numeric=pd.api.types.is_numeric_dtype(raw))
    return chosen


def _times(values: np.ndarray, numeric: bool) -> np.ndarray:
    if numeric:  # seconds since 1970, to the millisecond
        return pd.to_datetime(np.round(values * 1000), unit="ms", utc=True).to_numpy()
    return pd.to_datetime(values, utc=True).to_numpy()


@dataclasses.dataclass(frozen=True)
class PersonStates:
    """Merged states aligned to a sorted array of people (``ids``): ``state`` (category code,
    :data:`NO_CONTACT_CODE` for nothing informative), ``at`` and ``last_contact`` (seconds,
    NaN), ``source`` and ``detail`` (codes into :data:`SOURCES` / :data:`DETAILS`, -1)."""

    ids: np.ndarray
    state: np.ndarray
    at: np.ndarray
    last_contact: np.ndarray
    source: np.ndarray
    detail: np.ndarray


def state_arrays(
    people: np.ndarray,
    citizen: np.ndarray,
    at: np.ndarray,
    source: np.ndarray,
    detail: np.ndarray,
) -> PersonStates:
    """:func:`decide` over observations given as codes (``source`` into :data:`SOURCES`,
    ``detail`` into :data:`DETAILS`, ``at`` in seconds), laid out per person of ``people``
    (sorted ids); people without observations have no contact. Observations of people not in
    ``people`` are ignored.

    Examples
    --------
    >>> import numpy as np
    >>> app, family = SOURCES.index("app"), SOURCES.index("family")
    >>> out = state_arrays(np.array([1, 2, 3]), np.array([1, 1, 3]), np.array([10.0, 20.0, 5.0]),
    ...     np.array([app, family, app]),
    ...     np.array([DETAILS.index("needs_rescue"), DETAILS.index("safe"), DETAILS.index("unknown")]))
    >>> [CATEGORIES[c] if c >= 0 else NO_CONTACT for c in out.state]
    ['needs_help', 'no_contact', 'no_contact']
    >>> out.last_contact.tolist()
    [20.0, nan, nan]
    """
    source = np.asarray(source, np.int64)
    detail = np.asarray(detail, np.int64)
    ids, decided, newest = decide(
        citizen, at, STANDING_OF_SOURCE[source], CATEGORY_OF_DETAIL[detail]
    )
    n = len(people)
    out = PersonStates(
        ids=people,
        state=np.full(n, NO_CONTACT_CODE, np.int8),
        at=np.full(n, np.nan),
        last_contact=np.full(n, np.nan),
        source=np.full(n, -1, np.int16),
        detail=np.full(n, -1, np.int16),
    )
    if len(ids) == 0 or n == 0:
        return out
    pos = np.searchsorted(people, ids)
    clipped = np.minimum(pos, n - 1)
    known = people[clipped] == ids
    where, decided, newest = clipped[known], decided[known], newest[known]
    at = np.asarray(at, float)
    out.state[where] = CATEGORY_OF_DETAIL[detail[decided]]
    out.at[where] = at[decided]
    out.last_contact[where] = at[newest]
    out.source[where] = source[decided]
    out.detail[where] = detail[decided]
    return out
