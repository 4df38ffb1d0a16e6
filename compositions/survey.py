"""Questionnaire summary: subscale scores with α and ω, item means, choice answers, comparisons
of subscale scores between the groups of an attribute, free-text themes.

Tables (fixed columns): ``subscales`` :data:`SUBSCALES`; ``items`` :data:`ITEMS`; ``choices``
:data:`CHOICES`; ``groups`` :data:`GROUPS` (per subscale × attribute × level);
``tests`` :data:`TESTS` (one row per subscale × attribute, the effect size beside the test).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.group_comparison import compare_groups
from analytics.text_themes import themes
from sql.queries import research
from surveys.instrument import Instrument, parse_instrument
from surveys.scoring import subscale_scores, summarise

from . import TEST_WITH_EFFECT, Composition, tidy

SUBSCALES = (
    "subscale",
    "n",
    "mean",
    "sd",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "omega",
    "omega_ci_low",
    "omega_ci_high",
)
ITEMS = ("item", "subscale", "reverse", "n", "mean", "sd", "median")
CHOICES = ("item", "option", "n", "count", "share", "ci_low", "ci_high")
GROUPS = ("subscale", "attribute", "level", "n", "mean", "sd", "median", "q1", "q3")
TESTS = (
    "subscale",
    "attribute",
    *TEST_WITH_EFFECT,
    "effect_ci_low",
    "effect_ci_high",
    "contrast",
    "left_out",
)
ATTRIBUTES = ("participant_type", "age_band", "sex")


def _pair(values: Any) -> tuple[Any, Any]:
    return (values[0], values[1]) if values else (None, None)


def summary(
    frame: pd.DataFrame,
    instrument: Instrument,
    by: Sequence[str] = (),
    *,
    kind: str = "ordinal",
    n_boot: int = 2000,
    omega_boot: int = 200,
    seed: int = 0,
    min_group: int = 2,
) -> Composition:
    """The summary of ``frame`` (one row per response, item ids as columns). Groups with fewer
    than ``min_group`` answers are left out of the tests (the pages pass the small-cell
    threshold, ``bosai analyze`` keeps 2 and suppresses the small group's own figures)."""
    result = summarise(frame, instrument, n_boot=n_boot, omega_boot=omega_boot, seed=seed)
    result["max_points"] = max((i.points for i in instrument.likert_items), default=5)
    subscales = []
    for name, sub in result["subscales"].items():
        alpha_low, alpha_high = _pair(sub.get("alpha_ci"))
        omega_low, omega_high = _pair(sub.get("omega_ci"))
        subscales.append(
            {
                "subscale": name,
                **sub,
                "alpha_ci_low": alpha_low,
                "alpha_ci_high": alpha_high,
                "omega_ci_low": omega_low,
                "omega_ci_high": omega_high,
            }
        )
    items = [{"item": k, **v} for k, v in result["items"].items()]
    choices = [
        {"item": item, "option": code, **option}
        for item, entry in result["choices"].items()
        for code, option in entry["options"].items()
    ]
    groups, tests = [], []
    scores = subscale_scores(frame, instrument)
    comparisons: dict[str, dict[str, Any]] = {}
    for attribute in by:
        if attribute not in frame:
            continue
        joined = scores.join(frame[[attribute]])
        comparisons[attribute] = {}
        for name in instrument.subscales:
            if name not in joined:
                continue
            res = compare_groups(
                joined, name, attribute, kind=kind, n_boot=n_boot, seed=seed, min_group=min_group
            )
            comparisons[attribute][name] = res
            groups += [
                {"subscale": name, "attribute": attribute, "level": g.pop("group"), **g}
                for g in (dict(row) for row in res["groups"])
            ]
            effect = res.get("effect") or {}
            tests.append(
                {
                    "subscale": name,
                    "attribute": attribute,
                    "test": res.get("test"),
                    "statistic": res.get("statistic"),
                    "df": None if res.get("df") is None else str(res.get("df")),
                    "p": res.get("p"),
                    "effect": effect.get("name"),
                    "effect_value": effect.get("value"),
                    "effect_ci_low": effect.get("ci_low"),
                    "effect_ci_high": effect.get("ci_high"),
                    "contrast": res.get("contrast"),
                    "left_out": ";".join(res.get("left_out", [])),
                }
            )
    if comparisons:
        result["comparisons"] = comparisons
    texts = [i.id for i in instrument.items if i.type == "text" and i.id in frame]
    if texts:
        result["free_text"] = {
            item: themes(frame[item].dropna().astype(str).tolist()) for item in texts
        }
    result["themes"] = themes([c for i in texts for c in frame[i].dropna().astype(str)])
    notes = dict(result["method"])
    if by:
        notes["comparisons"] = (
            f"{'Welch t / ANOVA' if kind == 'parametric' else 'Mann-Whitney U / Kruskal-Wallis'} "
            f"of subscale scores; groups of fewer than {min_group} answers left out; effect "
            "sizes with bootstrap intervals"
        )
    tables = {
        "subscales": tidy(subscales, SUBSCALES),
        "items": tidy(items, ITEMS),
        "choices": tidy(choices, CHOICES),
        "groups": tidy(groups, GROUPS),
        "tests": tidy(tests, TESTS),
    }
    return Composition(tables, notes, result)


def from_database(
    engine: Engine,
    instrument_id: str,
    by: Sequence[str] = (),
    drill_id: int | None = None,
    **options: Any,
) -> Composition:
    """:func:`summary` of the imported responses to ``instrument_id``."""
    instrument = parse_instrument(research.instrument_definition(engine, instrument_id))
    frame = research.survey_responses(engine, instrument_id, drill_id)
    return summary(frame, instrument, by, **options)


def from_file(
    file: Path,
    instrument: str,
    mapping: Path | None = None,
    by: Sequence[str] = (),
    **options: Any,
) -> Composition:
    """:func:`summary` of an export file, validated first (a bad file raises, naming file, row
    and column)."""
    from surveys.validate import refuse_if_invalid, responses_frame, validate_file

    parsed = validate_file(file, instrument, mapping)
    refuse_if_invalid(parsed)
    composition = summary(responses_frame(parsed), parsed.instrument, by, **options)
    composition.details["file"] = Path(file).name
    return composition
