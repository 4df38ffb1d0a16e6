"""Drill evaluation, one drill or two: the funnel, Kaplan–Meier time to each stage per group,
register people confirmed by T minutes, and the comparison of two drills (medians, curves,
log-rank test with the difference of medians as its effect size).

Tables (fixed columns):

* ``funnel`` — :data:`FUNNEL`;
* ``time_to_event`` — :data:`TIME_TO_EVENT` + one ``share_by_T`` column per T;
* ``curves`` — :data:`CURVES` (the Kaplan–Meier steps of every stage × group);
* ``register`` — :data:`REGISTER`;
* ``evacuation`` — :data:`analytics.evacuation_response.RESPONSE_COLUMNS`: per evacuation
  decision of the drill's incident, minutes from trigger to issuance, and among the citizens
  its push reached, those who opened it and reported safe with the median minutes to each;
* with ``compare``: ``comparison`` — :data:`COMPARISON` + ``share_by_T``; ``log_rank`` —
  :data:`LOG_RANK`; ``comparison_curves`` — :data:`CURVES` with ``drill_id`` for ``group``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.drill_evaluation import STAGES, compare_drills, evaluate_drill
from analytics.evacuation_response import RESPONSE_COLUMNS, response_times
from sql.queries import evacuation as evq
from sql.queries import research, safety_picture
from sql.viewer import Viewer

from . import TEST_WITH_EFFECT, Composition, minutes_key, tidy

FUNNEL = ("stage", "count", "share_of_sent", "share_of_previous")
TIME_TO_EVENT = ("stage", "group", "n", "events", "censored", "median_min", "follow_up_min")
CURVES = (
    "stage",
    "group",
    "time",
    "at_risk",
    "events",
    "censored",
    "survival",
    "se",
    "ci_low",
    "ci_high",
)
REGISTER = ("minutes", "n", "count", "share", "ci_low", "ci_high")
COMPARISON = ("drill_id", "drill", "event", "n", "events", "censored", "median_min")
LOG_RANK = ("event", *TEST_WITH_EFFECT)


class DrillNotFound(LookupError):
    """No drill with this id or external id."""


def _curve_rows(entry: dict[str, Any], stage: str, group: str, minutes) -> dict[str, Any]:
    return {
        "stage": stage,
        "group": group,
        **{k: entry.get(k) for k in ("n", "events", "censored", "median_min", "follow_up_min")},
        **{minutes_key(t): entry["share_by"].get(f"{t:g}") for t in minutes},
    }


def _steps(entry: dict[str, Any], stage: str, group: Any) -> pd.DataFrame:
    return tidy(pd.DataFrame(entry["curve"]).assign(stage=stage, group=group), CURVES)


def _same_keys(result: dict[str, Any]) -> None:
    """``share_by`` keyed ``"10"`` whether T was given as 10 or 10.0 (in place)."""
    if isinstance(result, dict):
        if isinstance(result.get("share_by"), dict):
            result["share_by"] = {f"{float(k):g}": v for k, v in result["share_by"].items()}
        for value in result.values():
            if isinstance(value, dict):
                _same_keys(value)


def evacuation_responses(engine: Engine, incident_id: int | None) -> pd.DataFrame:
    """Trigger → issuance → opened → safe per decision of the drill's incident (none when
    the drill has no incident or HQ decided nothing)."""
    history = evq.issuance_history(engine, incident_id)
    if history.empty:
        return tidy([], RESPONSE_COLUMNS)
    decisions = (
        history.groupby("decision_key", sort=False)
        .agg(
            action=("action", "first"),
            level=("level", "first"),
            areas=("area_id", "nunique"),
            issued_at=("issued_at", "min"),
            trigger=("trigger", "first"),
        )
        .reset_index()
    )
    return tidy(
        response_times(decisions, evq.decision_responses(engine, incident_id)), RESPONSE_COLUMNS
    )


def _find(engine: Engine, ref: str | int) -> dict[str, Any]:
    found = research.drill(engine, ref)
    if found is None:
        raise DrillNotFound(ref)
    return found


def evaluate(
    engine: Engine,
    viewer: Viewer,
    drill: str | int,
    minutes: Sequence[float] = (10, 30, 60),
    origin: str = "drill_start",
    compare: str | int | None = None,
    event: str = "safety_answered",
) -> Composition:
    """The evaluation of ``drill`` (id or external id), and its comparison with ``compare``.
    Counts are not yet suppressed: each reader applies the small-cell rule to its output."""
    minutes = tuple(float(t) for t in minutes)
    found = _find(engine, drill)
    events = research.drill_events(engine, viewer, int(found["id"]))
    register = research.register_citizen_ids(engine, viewer)
    planned = safety_picture.plans(engine)["citizen_id"]
    start, end = found["started_at"], found["ended_at"]
    result = evaluate_drill(events, start, end, register, minutes, origin, planned)
    _same_keys(result)
    result["drill"] = {k: found[k] for k in ("id", "external_id", "name", "started_at", "ended_at")}
    shares = [minutes_key(t) for t in minutes]
    rows, steps = [], []
    for stage in STAGES[1:]:
        entry = result["time_to_event"][stage]
        for group, curve in {"all": entry["all"], **entry["groups"]}.items():
            rows.append(_curve_rows(curve, stage, group, minutes))
            steps.append(_steps(curve, stage, group))
    tables = {
        "funnel": tidy(result["funnel"], FUNNEL),
        "time_to_event": tidy(rows, (*TIME_TO_EVENT, *shares)),
        "curves": pd.concat(steps, ignore_index=True) if steps else tidy([], CURVES),
        "register": tidy(result["register_confirmed"], REGISTER),
        "evacuation": evacuation_responses(engine, found.get("incident_id")),
    }
    notes = dict(result["method"])
    notes["evacuation"] = (
        "per evacuation decision of the drill's incident: minutes from the rules' trigger to the "
        "issuance; among the citizens its push reached (delivered or opened), how many opened it "
        "and reported a safe state afterwards, with the median minutes from the issuance"
    )
    if compare is not None:
        other = _find(engine, compare)
        other_events = research.drill_events(engine, viewer, int(other["id"]))
        comparison = compare_drills(
            (events, start, end),
            (other_events, other["started_at"], other["ended_at"]),
            event=event,
            minutes=minutes,
            origin=origin,
        )
        _same_keys(comparison)
        comparison["with"] = {k: other[k] for k in ("id", "external_id", "name")}
        result["comparison"] = comparison
        pairs = ((found, comparison["a"]), (other, comparison["b"]))
        tables["comparison"] = tidy(
            [
                {
                    "drill_id": int(d["id"]),
                    "drill": str(d["name"]),
                    "event": event,
                    **_curve_rows(curve, event, "all", minutes),
                }
                for d, curve in pairs
            ],
            (*COMPARISON, *shares),
        )
        tables["comparison_curves"] = pd.concat(
            [_steps(curve, event, int(d["id"])) for d, curve in pairs], ignore_index=True
        )
        a, b = comparison["a"]["median_min"], comparison["b"]["median_min"]
        tables["log_rank"] = tidy(
            [
                {
                    "event": event,
                    "test": "log-rank",
                    "statistic": comparison["log_rank"]["chi2"],
                    "df": comparison["log_rank"]["df"],
                    "p": comparison["log_rank"]["p"],
                    "effect": "median difference (min, second - first)",
                    "effect_value": None if a is None or b is None else b - a,
                }
            ],
            LOG_RANK,
        )
        notes["comparison"] = (
            f"time to {event} from the {origin.replace('_', ' ')} in each drill; log-rank test "
            "(1 df); effect size: difference of the Kaplan-Meier medians"
        )
    return Composition(tables, notes, result)
