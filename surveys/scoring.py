"""Scoring an instrument: item scores with reverse coding, subscale scores and their reliability.

* :func:`item_scores` — Likert answers with reverse-coded items turned round
  (``points + 1 − x``: 5 ↔ 1 on a 5-point scale).
* :func:`subscale_scores` — the mean of a subscale's item scores for each respondent who
  answered at least half of its items (``min_share``), otherwise missing.
* :func:`summarise` — everything ``bosai analyze survey`` prints: ``n``; per subscale ``mean``,
  ``sd``, Cronbach's ``alpha`` (Feldt interval and bootstrap interval), McDonald's ``omega``
  (bootstrap interval), item–total correlations; per Likert/number item ``mean``, ``sd``,
  ``median``, ``n``; per choice item the share of each option with Wilson intervals; SUS
  scores for a SUS instrument.

>>> import pandas as pd
>>> from surveys.instrument import load_instrument
>>> sus = load_instrument("sus")
>>> frame = pd.DataFrame([[4, 2, 4, 1, 4, 2, 5, 1, 4, 2]], columns=[i.id for i in sus.items])
>>> item_scores(frame, sus).iloc[0].tolist()[:4]
[4.0, 4.0, 4.0, 5.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analytics import reliability, sus
from analytics.proportions import proportion

from .instrument import Instrument


def item_scores(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Reverse-coded Likert item scores (columns: the Likert items present in ``frame``)."""
    out = {}
    for item in instrument.likert_items:
        if item.id not in frame:
            continue
        values = pd.to_numeric(frame[item.id], errors="coerce").astype(float)
        out[item.id] = (item.points + 1 - values) if item.reverse else values
    return pd.DataFrame(out, index=frame.index)


def subscale_scores(
    frame: pd.DataFrame, instrument: Instrument, min_share: float = 0.5
) -> pd.DataFrame:
    return _subscale_scores(item_scores(frame, instrument), instrument, min_share)


def _subscale_scores(
    scores: pd.DataFrame, instrument: Instrument, min_share: float = 0.5
) -> pd.DataFrame:
    """Each subscale's mean of its item ``scores`` where at least ``min_share`` are answered."""
    out = {}
    for name in instrument.subscales:
        cols = [i.id for i in instrument.subscale_items(name) if i.id in scores]
        if not cols:
            continue
        block = scores[cols]
        enough = block.notna().sum(axis=1) >= math.ceil(min_share * len(cols))
        out[name] = block.mean(axis=1).where(enough)
    return pd.DataFrame(out, index=scores.index)


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def subscale_summary(
    frame: pd.DataFrame,
    instrument: Instrument,
    name: str,
    *,
    n_boot: int = 2000,
    omega_boot: int = 200,
    seed: int = 0,
    scored: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Subscale ``name``: score mean and SD, α (with bootstrap interval), item–total, ω.
    ``scored``: the item and subscale scores of ``frame`` when the caller has them (the
    summary scores once for all subscales)."""
    if scored is None:
        scores = item_scores(frame, instrument)
        scored = (scores, _subscale_scores(scores, instrument))
    scores, subscales = scored
    cols = [i.id for i in instrument.subscale_items(name) if i.id in scores]
    score = subscales[name] if cols else pd.Series(dtype=float)
    out: dict[str, Any] = {
        "label": instrument.subscale_label(name),
        "label_en": instrument.subscale_label(name, "en"),
        "items": cols,
        "n": int(score.notna().sum()),
        "mean": _f(score.mean()) if cols else None,
        "sd": _f(score.std()) if cols else None,
        "alpha": None,
        "alpha_ci": None,
        "alpha_boot_ci": None,
        "omega": None,
        "omega_ci": None,
    }
    block = scores[cols].dropna() if cols else None
    if block is not None and len(cols) >= 2 and len(block) >= 3:
        a = reliability.cronbach_alpha(scores[cols], nan_policy="listwise")
        out.update(alpha=_f(a.alpha), alpha_ci=[_f(a.ci_low), _f(a.ci_high)], alpha_n=a.n)
        if n_boot:
            out["alpha_boot_ci"] = [
                _f(v) for v in reliability.alpha_bootstrap_ci(block, n_boot, seed=seed)
            ]
        out["item_total"] = reliability.item_total(block).to_dict("records")
    if block is not None and len(cols) >= 3 and len(block) > len(cols):
        try:
            om = reliability.omega_total(block)
            out["omega"] = _f(om.omega)
            if omega_boot:
                out["omega_ci"] = [
                    _f(v) for v in reliability.omega_bootstrap_ci(block, omega_boot, seed=seed)
                ]
        except (ValueError, np.linalg.LinAlgError) as exc:
            out["omega_note"] = str(exc)
    return out


def choice_summary(frame: pd.DataFrame, instrument: Instrument) -> dict[str, Any]:
    """Per single/multiple-choice item: answered ``n`` and each option's count, share, Wilson CI."""
    out: dict[str, Any] = {}
    for item in instrument.items:
        if item.type not in ("single", "multiple") or item.id not in frame:
            continue
        answers = frame[item.id].dropna().astype(str)
        n = len(answers)
        options = {}
        for option in item.options:
            if item.type == "single":
                count = int((answers == option.code).sum())
            else:
                count = int(answers.map(lambda a, c=option.code: c in a.split(";")).sum())
            options[option.code] = proportion(count, n) | {
                "label": option.ja,
                "label_en": option.en,
            }
        out[item.id] = {
            "type": item.type,
            "text": item.text_ja,
            "text_en": item.text_en,
            "n": n,
            "options": options,
        }
    return out


def summarise(
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    n_boot: int = 2000,
    omega_boot: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """The JSON-ready summary of a set of responses (see the module docs)."""
    items: dict[str, Any] = {}
    for item in instrument.items:
        if item.id not in frame or item.type not in ("likert5", "likert7", "number", "duration"):
            continue
        values = pd.to_numeric(frame[item.id], errors="coerce").astype(float)
        items[item.id] = {
            "text": item.text_ja,
            "type": item.type,
            "reverse": item.reverse,
            "subscale": item.subscale,
            "n": int(values.notna().sum()),
            "mean": _f(values.mean()),
            "sd": _f(values.std()),
            "median": _f(values.median()),
        }
    scores = item_scores(frame, instrument)
    scored = (scores, _subscale_scores(scores, instrument))
    result: dict[str, Any] = {
        "instrument": instrument.id,
        "version": instrument.version,
        "n": int(len(frame)),
        "subscales": {
            name: subscale_summary(
                frame,
                instrument,
                name,
                n_boot=n_boot,
                omega_boot=omega_boot,
                seed=seed,
                scored=scored,
            )
            for name in instrument.subscales
        },
        "items": items,
        "choices": choice_summary(frame, instrument),
        "method": {
            "reverse_coding": "points + 1 - answer",
            "subscale_score": "mean of item scores; needs at least half of the items answered",
            "alpha": "Cronbach's alpha (listwise), Feldt F interval; percentile bootstrap interval "
            f"({n_boot} resamples, seed {seed})",
            "omega": "McDonald's omega total, one-factor ML (factanal algorithm) on the correlation "
            f"matrix rescaled to item variances; percentile bootstrap interval ({omega_boot} resamples)",
        },
    }
    if instrument.scoring == "sus":
        cols = [i.id for i in instrument.items]
        if all(c in frame for c in cols):
            result["sus"] = sus.summary(sus.sus_scores(frame, cols))
    return result
