"""Small-cell suppression for aggregate outputs: counts below 5 are shown as 「5未満」.

A cell that counts people (or a share computed from fewer than 5 people) could identify
someone in a small neighbourhood; research outputs show it only as "fewer than 5".

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
