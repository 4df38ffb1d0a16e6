"""What changed between two moments of an incident (the situation report's 前回からの変化).

Each function compares the same kind of aggregate at a previous moment (``before``) and now
(``after``): headline figures, the shelter board, the warnings in force. They return plain
tables and lists; the report highlights what :func:`compare_figures` marks ``changed`` and
what the lists name.

>>> compare_figures({"confirmed": 120, "open": 3}, {"confirmed": 150, "open": 3},
...                 ["confirmed", "open"]).to_dict("records")
[{'key': 'confirmed', 'before': 120, 'after': 150, 'delta': 30, 'changed': True}, {'key': 'open', 'before': 3, 'after': 3, 'delta': 0, 'changed': False}]
>>> empty_sections({"status": 0, "shelters": 12, "rescue": 0})
['status', 'rescue']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

CHANGE_COLUMNS = ["key", "before", "after", "delta", "changed"]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number


def compare_figures(
    before: Mapping[str, Any], after: Mapping[str, Any], keys: Sequence[str]
) -> pd.DataFrame:
    """The figures named by ``keys`` before and after, their difference and whether it moved.

    Parameters
    ----------
    before, after
        Figures by key (numbers; a missing key or ``None`` means unknown).
    keys
        The figures to compare, in the order listed.

    Returns
    -------
    pandas.DataFrame
        ``key, before, after, delta, changed`` — ``delta`` is ``after - before`` (``None``
        when either is unknown); ``changed`` is true when the value moved or became known.
    """
    rows = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        a, b = _number(old), _number(new)
        delta = None if a is None or b is None else b - a
        if delta is not None and float(delta).is_integer():
            delta = int(delta)
        rows.append(
            {
                "key": key,
                "before": old,
                "after": new,
                "delta": delta,
                "changed": (a != b) if (a is not None or b is not None) else False,
            }
        )
    table = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    for column in ("before", "after", "delta"):  # keep None as None (not NaN)
        table[column] = pd.Series([r[column] for r in rows], index=table.index, dtype=object)
    return table


def _open(board: pd.DataFrame) -> pd.DataFrame:
    if board.empty:
        return board
    return board[board["is_open"].astype(bool)]


def shelter_changes(before: pd.DataFrame, after: pd.DataFrame, top: int = 5) -> dict[str, Any]:
    """Shelters opened, closed and newly full, and the largest changes in head count.

    Parameters
    ----------
    before, after
        Shelter boards (``id, name, is_open, head_count``, optionally ``congestion``) at the
        two moments.
    top
        How many of the largest head-count changes to list.

    Returns
    -------
    dict
        ``opened`` / ``closed`` / ``became_full``: lists of shelter names; ``head_count``:
        ``(before, after)`` totals over the shelters open then; ``largest``: up to ``top`` rows
        ``name, before, after, delta`` of open shelters, largest absolute change first.

    Examples
    --------
    >>> b = pd.DataFrame({"id": [1, 2], "name": ["A", "B"], "is_open": [True, True],
    ...                   "head_count": [10, 5], "congestion": ["vacant", "vacant"]})
    >>> a = pd.DataFrame({"id": [1, 2, 3], "name": ["A", "B", "C"], "is_open": [True, False, True],
    ...                   "head_count": [40, 5, 8], "congestion": ["full", "vacant", "vacant"]})
    >>> changes = shelter_changes(b, a)
    >>> changes["opened"], changes["closed"], changes["became_full"], changes["head_count"]
    (['C'], ['B'], ['A'], (15, 48))
    """
    was, now = _open(before), _open(after)
    was_ids, now_ids = set(was["id"].astype(int)), set(now["id"].astype(int))
    names = {int(i): str(n) for i, n in zip(after["id"], after["name"], strict=True)}
    names.update({int(i): str(n) for i, n in zip(before["id"], before["name"], strict=True)})

    def total(board: pd.DataFrame) -> int:
        return int(pd.to_numeric(board["head_count"], errors="coerce").fillna(0).sum())

    full_before = (
        set(was.loc[was["congestion"] == "full", "id"].astype(int))
        if "congestion" in was
        else set()
    )
    full_after = (
        set(now.loc[now["congestion"] == "full", "id"].astype(int))
        if "congestion" in now
        else set()
    )
    old_counts = dict(
        zip(was["id"].astype(int), pd.to_numeric(was["head_count"], errors="coerce"), strict=True)
    )
    rows = []
    for sid, count in zip(
        now["id"].astype(int), pd.to_numeric(now["head_count"], errors="coerce"), strict=True
    ):
        old = old_counts.get(sid)
        old = 0 if old is None or pd.isna(old) else int(old)
        new = 0 if pd.isna(count) else int(count)
        if new != old:
            rows.append({"name": names[sid], "before": old, "after": new, "delta": new - old})
    largest = pd.DataFrame(rows, columns=["name", "before", "after", "delta"])
    if len(largest):
        largest = (
            largest.assign(size=largest["delta"].abs())
            .sort_values(["size", "name"], ascending=[False, True])
            .drop(columns="size")
            .head(top)
            .reset_index(drop=True)
        )
    return {
        "opened": [names[i] for i in sorted(now_ids - was_ids)],
        "closed": [names[i] for i in sorted(was_ids - now_ids)],
        "became_full": [names[i] for i in sorted(full_after - full_before)],
        "head_count": (total(was), total(now)),
        "largest": largest,
    }


def warning_changes(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, list[str]]:
    """Warnings issued, lifted and still in force between two moments (by kind name).

    Examples
    --------
    >>> b = pd.DataFrame({"kind_code": ["10"], "kind_name": ["大雨注意報"]})
    >>> a = pd.DataFrame({"kind_code": ["03", "04"], "kind_name": ["大雨警報", "洪水警報"]})
    >>> warning_changes(b, a)
    {'issued': ['大雨警報', '洪水警報'], 'lifted': ['大雨注意報'], 'continuing': []}
    """

    def kinds(frame: pd.DataFrame) -> dict[str, str]:
        if frame.empty:
            return {}
        return {str(c): str(n) for c, n in zip(frame["kind_code"], frame["kind_name"], strict=True)}

    was, now = kinds(before), kinds(after)
    return {
        "issued": [now[c] for c in sorted(now) if c not in was],
        "lifted": [was[c] for c in sorted(was) if c not in now],
        "continuing": [now[c] for c in sorted(now) if c in was],
    }


def empty_sections(available: Mapping[str, int]) -> list[str]:
    """The sections (in the order given) without any data: their count is zero or unknown."""
    return [name for name, count in available.items() if not count]


def listed(names: Iterable[str], limit: int = 8) -> tuple[list[str], int]:
    """The first ``limit`` names and how many more there are.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    (['a', 'b'], 1)
    """
    names = list(names)
    return names[:limit], max(len(names) - limit, 0)
