"""Small-cell suppression for aggregate outputs — the one rule, for every surface.

The rule: a count of people from 1 to 4 is shown as 「5未満」 (0 is shown: it identifies
nobody), and a value *derived* from counts — a share, a rate, a mean, a confidence interval, a
colour on a map, a flag such as "someone here needs rescue" — is hidden (「—」, missing, not
drawn) when any count it is derived from is 1 to 4, because it would give that count back.

Every aggregate shown to the roles that see no individuals (researcher, council:
``sql.policy.sees_exact_counts``) goes through these functions: the dashboard's tables,
metrics, charts, map cells and tooltips, the research downloads, the reports and
``bosai analyze --json``. :func:`is_small`, :func:`count_label` and :func:`hides` are the rule;
the rest apply it to frames, records and JSON.

>>> import pandas as pd
>>> frame = pd.DataFrame({"group": ["a", "b"], "n": [12, 3], "share": [0.5, 0.67]})
>>> suppress(frame, counts=["n"], dependent=["share"]).to_dict("records")
[{'group': 'a', 'n': '12', 'share': '0.5'}, {'group': 'b', 'n': '5未満', 'share': '—'}]
"""

from __future__ import annotations

import pandas as pd

THRESHOLD = 5
LABELS = {"ja": "5未満", "en": "<5"}
MASK = "—"


def is_small(n: object, threshold: int = THRESHOLD) -> bool:
    """True for a count that must not be shown (0 is shown: nobody can be identified by it)."""
    try:
        value = int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return 0 < value < threshold


def count_label(n: object, lang: str = "ja") -> str:
    """A count as shown: 「5未満」 for 1–4, else with thousands separators (``—`` if unknown).

    >>> count_label(3), count_label(0), count_label(12345, "en"), count_label(None)
    ('5未満', '0', '12,345', '—')
    """
    if is_small(n):
        return LABELS.get(lang, LABELS["ja"])
    try:
        return f"{int(n):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return MASK


def hides(*counts: object, threshold: int = THRESHOLD) -> bool:
    """True when a value derived from ``counts`` (a share, a mean, a colour, a flag) must be
    hidden: one of them is a small count.

    >>> hides(200, 3), hides(200, 0), hides(4)
    (True, False, True)
    """
    return any(is_small(c, threshold) for c in counts)


def suppress(
    frame: pd.DataFrame,
    counts: list[str],
    dependent: list[str] | None = None,
    threshold: int = THRESHOLD,
    lang: str = "ja",
    basis: str | None = None,
) -> pd.DataFrame:
    """A display copy of ``frame``: small ``counts`` become 「5未満」, and the ``dependent``
    columns (shares, means, CIs) of a row whose ``basis`` count (default: the first of
    ``counts``) is small become 「—」. Values are returned as text for display."""
    out = frame.copy().astype(object)
    basis = basis or counts[0]
    small_basis = frame[basis].map(lambda v: is_small(v, threshold))
    for col in counts:
        small = frame[col].map(lambda v: is_small(v, threshold))
        out[col] = [
            LABELS.get(lang, LABELS["ja"]) if s else _text(v)
            for v, s in zip(frame[col], small, strict=True)
        ]
    for col in dependent or []:
        out[col] = [MASK if s else _text(v) for v, s in zip(frame[col], small_basis, strict=True)]
    return out


def _text(value: object) -> str:
    if isinstance(value, float):
        if pd.isna(value):
            return MASK
        return f"{value:.4g}"
    return str(value)


def suppress_records(
    records: list[dict],
    counts: tuple[str, ...] = ("count", "n"),
    dependent: tuple[str, ...] = ("share", "ci_low", "ci_high", "mean", "sd", "median"),
    threshold: int = THRESHOLD,
    lang: str = "ja",
) -> list[dict]:
    """JSON-ready copy of ``records``: small counts become 「5未満」 and the dependent values of a
    record whose ``n`` (or first count present) is small become ``None``.

    >>> suppress_records([{"n": 3, "count": 2, "share": 0.67}, {"n": 20, "count": 0, "share": 0.0}])
    [{'n': '5未満', 'count': '5未満', 'share': None}, {'n': 20, 'count': 0, 'share': 0.0}]
    """
    out = []
    for record in records:
        rec = dict(record)
        basis = next((record[c] for c in ("n", *counts) if c in record), None)
        if is_small(basis, threshold):
            for col in dependent:
                if col in rec:
                    rec[col] = None
        for col in counts:
            if col in rec and is_small(rec[col], threshold):
                rec[col] = LABELS.get(lang, LABELS["ja"])
        out.append(rec)
    return out


def suppress_tidy(
    frame: pd.DataFrame,
    counts: list[str],
    dependent: list[str] | None = None,
    threshold: int = THRESHOLD,
    basis: str | None = None,
) -> pd.DataFrame:
    """A download copy of ``frame``: the same columns and types, small ``counts`` and the
    ``dependent`` values of a row with a small ``basis`` count set to missing, and a boolean
    ``suppressed`` column saying which rows lost something (tidy data for CSV/Parquet).

    >>> frame = pd.DataFrame({"group": ["a", "b"], "n": [12, 3], "share": [0.5, 0.67]})
    >>> suppress_tidy(frame, counts=["n"], dependent=["share"]).to_dict("records")
    [{'group': 'a', 'n': 12.0, 'share': 0.5, 'suppressed': False}, {'group': 'b', 'n': nan, 'share': nan, 'suppressed': True}]
    """
    out = frame.copy()
    basis = basis or counts[0]
    small_basis = frame[basis].map(lambda v: is_small(v, threshold)).astype(bool)
    flagged = small_basis.copy()
    for col in counts:
        small = frame[col].map(lambda v: is_small(v, threshold)).astype(bool)
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).where(~small)
        flagged |= small
    for col in dependent or []:
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).where(~small_basis)
    out["suppressed"] = flagged.to_numpy()
    return out


#: Keys of a JSON record that count people (``bosai analyze --json``).
JSON_COUNTS = (
    "n",
    "count",
    "events",
    "participants",
    "citizens",
    "invited",
    "withdrawals",
    "n_participants",
    "n_first",
    "n_second",
    "n_pairs",
    "at_risk",
    # the drill evaluation's evacuation decisions: citizens reached, opened, reported safe
    "reached",
    "opened",
    "safe",
)


def suppress_json(value: object, counts: tuple[str, ...] = JSON_COUNTS) -> object:
    """A JSON-ready copy of nested results with the rule applied to every record (a dict): a
    small count becomes ``None``, and when any count of the record is small every number of it
    that is not a count (shares, means, intervals, statistics: derived from that group) becomes
    ``None`` too; such a record gains ``"suppressed": true``. Text, booleans, the other counts
    and nested records are kept (and checked in turn).

    >>> suppress_json({"n": 30, "groups": [{"group": "a", "n": 3, "mean": 4.2}]})
    {'n': 30, 'groups': [{'group': 'a', 'n': None, 'mean': None, 'suppressed': True}]}
    >>> suppress_json({"item": "location", "count": 2, "n": 300, "share": 0.0067})
    {'item': 'location', 'count': None, 'n': 300, 'share': None, 'suppressed': True}
    """
    if isinstance(value, list | tuple):
        return [suppress_json(v, counts) for v in value]
    if not isinstance(value, dict):
        return value
    small = any(k in counts and is_small(v) for k, v in value.items() if _is_number(v))
    out: dict = {}
    for key, item in value.items():
        if isinstance(item, dict | list | tuple):
            out[key] = suppress_json(item, counts)
        elif _is_number(item) and (is_small(item) if key in counts else small):
            out[key] = None
        else:
            out[key] = item
    if small:
        out["suppressed"] = True
    return out


def _is_number(value: object) -> bool:
    import numbers

    return isinstance(value, numbers.Number) and not isinstance(value, bool)
