"""Opt-in acceptance: from the consent ledger and from questionnaire answers.

Ledger semantics (as :mod:`sql.consent`): for each (citizen, data item, share target) the
latest event at or before the reference time wins (ties broken by event id); a ``given`` event
counts until its ``expires_at``; ``withdrawn`` and ``expired`` do not count.

* :func:`current_consent` — the derived state per (citizen, item, target).
* :func:`acceptance` — share of citizens (denominator: ``population``, the citizens asked —
  by default everyone seen in the ledger) accepting each data item (any target) or share
  target (any item), with Wilson intervals.
* :func:`funnel` — invited → started (any ledger event) → accepted each item → completed (all
  ``required`` items accepted).
* :func:`acceptance_by` — acceptance of one item by an attribute (age band, sex, participant
  type).
* :func:`acceptance_logit` — logistic regression of acceptance on attributes
  (``statsmodels`` Logit; categorical attributes dummy-coded against their most frequent level).
* :func:`withdrawals_over_time` — withdrawals per day/week.
* :func:`questionnaire_optin` — the questionnaire side: recognition and resistance items, the
  consent-timing split, share targets wanted.

>>> import datetime as dt
>>> t0 = dt.datetime(2022, 3, 11, 9, tzinfo=dt.UTC)
>>> ledger = pd.DataFrame([
...     (1, "location", "city_hq", "given", t0, None, 1),
...     (2, "location", "city_hq", "given", t0, None, 2),
...     (2, "location", "city_hq", "withdrawn", t0 + dt.timedelta(hours=1), None, 3),
... ], columns=["citizen_id", "data_item", "share_target", "event_type", "occurred_at", "expires_at", "event_id"])
>>> acceptance(ledger, by="data_item", at=t0 + dt.timedelta(hours=2)).to_dict("records")[0]["share"]
0.5
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .proportions import proportion

#: Fewest acceptances (and refusals) for a logistic model: fewer give unstable estimates.
MIN_OUTCOME_EVENTS = 10

LEDGER_COLUMNS = [
    "citizen_id",
    "data_item",
    "share_target",
    "event_type",
    "occurred_at",
    "expires_at",
    "event_id",
]


def current_consent(ledger: pd.DataFrame, at: dt.datetime) -> pd.DataFrame:
    """``citizen_id, data_item, share_target, event_type, in_force`` — one row per key seen."""
    frame = ledger[ledger["occurred_at"] <= at]
    if frame.empty:
        return pd.DataFrame(
            columns=["citizen_id", "data_item", "share_target", "event_type", "in_force"]
        )
    frame = frame.sort_values(["occurred_at", "event_id"])
    latest = frame.groupby(["citizen_id", "data_item", "share_target"], sort=True).tail(1).copy()
    expires = latest["expires_at"]
    not_expired = expires.isna() | (expires.map(lambda v: v is None or pd.isna(v) or v > at))
    latest["in_force"] = (latest["event_type"] == "given") & not_expired
    return latest[
        ["citizen_id", "data_item", "share_target", "event_type", "in_force"]
    ].reset_index(drop=True)


def _population(ledger: pd.DataFrame, population: Iterable[int] | None) -> set[int]:
    return set(population) if population is not None else set(ledger["citizen_id"].unique())


def acceptance(
    ledger: pd.DataFrame,
    by: str = "data_item",
    at: dt.datetime | None = None,
    population: Iterable[int] | None = None,
    levels: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per level of ``by`` (``data_item`` or ``share_target``): ``count`` of citizens with a
    consent in force for it (for any target / any item), ``n``, ``share``, Wilson CI."""
    if by not in ("data_item", "share_target"):
        raise ValueError("by must be 'data_item' or 'share_target'")
    at = at or dt.datetime.now(dt.UTC)
    people = _population(ledger, population)
    state = current_consent(ledger, at)
    state = state[state["in_force"] & state["citizen_id"].isin(people)]
    levels = list(levels) if levels is not None else sorted(ledger[by].unique())
    rows = []
    for level in levels:
        count = state.loc[state[by] == level, "citizen_id"].nunique()
        rows.append({by: level, **proportion(count, len(people), confidence)})
    return pd.DataFrame(rows, columns=[by, "n", "count", "share", "ci_low", "ci_high"])


def funnel(
    ledger: pd.DataFrame,
    invited: Iterable[int],
    items: Sequence[str],
    required: Sequence[str] | None = None,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """``stage, count, share_of_invited, share_of_previous`` for invited → started → each item →
    completed. ``started`` = any ledger event; an item counts when a consent for it (any
    target) is in force at ``at``; ``completed`` = all ``required`` items (default ``items``)."""
    at = at or dt.datetime.now(dt.UTC)
    invited = set(invited)
    events = ledger[ledger["citizen_id"].isin(invited) & (ledger["occurred_at"] <= at)]
    started = set(events["citizen_id"].unique())
    state = current_consent(events, at)
    state = state[state["in_force"]]
    accepted = {item: set(state.loc[state["data_item"] == item, "citizen_id"]) for item in items}
    required = list(required) if required is not None else list(items)
    completed = set(started)
    for item in required:
        completed &= accepted.get(item, set())
    stages = [("invited", len(invited)), ("started", len(started))]
    stages += [(f"item:{item}", len(accepted[item])) for item in items]
    stages.append(("completed", len(completed)))
    rows = []
    previous = None
    for stage, count in stages:
        rows.append(
            {
                "stage": stage,
                "count": count,
                "share_of_invited": count / len(invited) if invited else float("nan"),
                "share_of_previous": (count / previous) if previous else float("nan"),
            }
        )
        if not stage.startswith("item:"):
            previous = count
    return pd.DataFrame(rows)


def accepted_flags(
    ledger: pd.DataFrame,
    item: str,
    people: Iterable[int],
    at: dt.datetime,
    target: str | None = None,
) -> pd.Series:
    """1/0 per citizen in ``people``: a consent for ``item`` (to ``target`` or any) is in force."""
    state = current_consent(ledger, at)
    state = state[state["in_force"] & (state["data_item"] == item)]
    if target is not None:
        state = state[state["share_target"] == target]
    yes = set(state["citizen_id"])
    people = sorted(set(people))
    return pd.Series(
        [int(c in yes) for c in people], index=pd.Index(people, name="citizen_id"), name="accepted"
    )


def acceptance_by(
    flags: pd.Series, attributes: pd.DataFrame, attribute: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Acceptance share per level of ``attribute`` (``attributes`` indexed by citizen id)."""
    joined = attributes[[attribute]].join(flags, how="inner")
    joined[attribute] = joined[attribute].fillna("unknown")
    rows = []
    for level, group in joined.groupby(attribute, sort=True):
        rows.append(
            {attribute: level, **proportion(int(group["accepted"].sum()), len(group), confidence)}
        )
    return pd.DataFrame(rows, columns=[attribute, "n", "count", "share", "ci_low", "ci_high"])


def acceptance_logit(
    flags: pd.Series, attributes: pd.DataFrame, predictors: Sequence[str]
) -> dict[str, Any]:
    """Logistic regression of acceptance on categorical attributes (statsmodels ``Logit``).

    Returns coefficients (log-odds), SEs, z, p, odds ratios with 95 % Wald intervals, ``n``,
    the reference level of each attribute, and a ``note`` when the model cannot be fitted
    (no variation, perfect separation, too few people).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

    data = attributes[list(predictors)].join(flags, how="inner").dropna()
    out: dict[str, Any] = {
        "n": int(len(data)),
        "predictors": list(predictors),
        "coefficients": [],
        "note": None,
    }
    if len(data) < 10 or data["accepted"].nunique() < 2:
        out["note"] = "too few people or no variation in acceptance"
        return out
    outcomes = data["accepted"].value_counts()
    if outcomes.min() < MIN_OUTCOME_EVENTS:
        out["note"] = (
            f"too few {'acceptances' if outcomes.idxmin() == 1 else 'refusals'} "
            f"({int(outcomes.min())}) for a logistic model (at least {MIN_OUTCOME_EVENTS} needed)"
        )
        return out
    design_parts = []
    references = {}
    for col in predictors:
        levels = data[col].astype(str)
        reference = levels.value_counts().sort_index().idxmax()
        references[col] = reference
        dummies = pd.get_dummies(levels, prefix=col, prefix_sep="=", dtype=float)
        design_parts.append(dummies.drop(columns=[f"{col}={reference}"]))
    design = sm.add_constant(pd.concat(design_parts, axis=1), has_constant="add")
    design = design.loc[:, design.std(ddof=0).gt(0) | (design.columns == "const")]
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        out["note"] = "model not estimable: the attributes are collinear in these data"
        return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = sm.Logit(data["accepted"].astype(float), design).fit(disp=0, maxiter=200)
    except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
        out["note"] = f"model not estimable: {exc}"
        return out
    converged = bool(fit.mle_retvals.get("converged", True))
    if not converged or not np.all(np.isfinite(fit.bse)):
        out["note"] = "model not estimable: no convergence (a group accepts all or none)"
        out["converged"] = False
        return out
    ci = fit.conf_int()
    for name in design.columns:
        out["coefficients"].append(
            {
                "term": name,
                "coef": float(fit.params[name]),
                "se": float(fit.bse[name]),
                "z": float(fit.tvalues[name]),
                "p": float(fit.pvalues[name]),
                "odds_ratio": float(np.exp(fit.params[name])),
                "or_ci_low": float(np.exp(ci.loc[name, 0])),
                "or_ci_high": float(np.exp(ci.loc[name, 1])),
            }
        )
    out["references"] = references
    out["converged"] = converged
    out["pseudo_r2"] = float(fit.prsquared)
    return out


def withdrawals_over_time(
    ledger: pd.DataFrame, freq: str = "D", tz: str = "Asia/Tokyo"
) -> pd.DataFrame:
    """``period, withdrawals, citizens`` — withdrawn events (and distinct citizens) per period."""
    events = ledger[ledger["event_type"] == "withdrawn"]
    if events.empty:
        return pd.DataFrame(columns=["period", "withdrawals", "citizens"])
    local = pd.to_datetime(events["occurred_at"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    period = local.dt.to_period(freq).astype(str)  # periods of the local (Japanese) calendar
    grouped = events.assign(period=period.to_numpy()).groupby("period", sort=True)
    return pd.DataFrame(
        {"withdrawals": grouped.size(), "citizens": grouped["citizen_id"].nunique()}
    ).reset_index()


# ---------------------------------------------------------------- questionnaire side


def questionnaire_optin(frame: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Opt-in answers of the drill questionnaire (``drill-2022`` item ids).

    Recognition (``optin_recognised``, ``optin_choice_clear``) and resistance
    (``optin_resistance``): share agreeing (4–5) with Wilson CI; consent timing split; share
    targets wanted (multiple choice, ``;``-joined codes)."""
    out: dict[str, Any] = {"n": int(len(frame))}
    for item in ("optin_recognised", "optin_choice_clear", "optin_resistance", "optin_willing"):
        if item in frame:
            values = pd.to_numeric(frame[item], errors="coerce").dropna()
            out[item] = proportion(int((values >= 4).sum()), len(values), confidence) | {
                "mean": float(values.mean()) if len(values) else None
            }
    if "consent_timing" in frame:
        answers = frame["consent_timing"].dropna().astype(str)
        out["consent_timing"] = {
            code: proportion(int((answers == code).sum()), len(answers), confidence)
            for code in ("first_only", "each_time")
        }
    if "share_targets" in frame:
        answers = frame["share_targets"].dropna().astype(str)
        out["share_targets"] = {
            code: proportion(
                int(answers.map(lambda a, c=code: c in a.split(";")).sum()),
                len(answers),
                confidence,
            )
            for code in ("family", "friends", "workplace", "neighbourhood", "medical_care")
        }
    return out


def ledger_report(
    ledger: pd.DataFrame,
    attributes: pd.DataFrame,
    invited: Iterable[int],
    at: dt.datetime,
    items: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    predictors: Sequence[str] = ("age_band", "sex"),
    required: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Everything ``bosai analyze optin --source db`` prints (counts not yet suppressed).

    ``attributes`` has ``citizen_id`` and the attribute columns; ``invited`` are the citizens
    asked to opt in (the denominator of every share). ``required`` are the items without which
    the set-up is not complete (default: ``basic_info`` when listed, else every item)."""
    invited = sorted(set(invited))
    items = list(items) if items is not None else sorted(ledger["data_item"].unique())
    targets = list(targets) if targets is not None else sorted(ledger["share_target"].unique())
    if required is None:
        required = ["basic_info"] if "basic_info" in items else items
    attrs = attributes.set_index("citizen_id")
    by_attribute: dict[str, dict[str, list]] = {}
    models: dict[str, Any] = {}
    for item in items:
        flags = accepted_flags(ledger, item, invited, at)
        by_attribute[item] = {
            attr: acceptance_by(flags, attrs, attr).to_dict("records")
            for attr in predictors
            if attr in attrs
        }
        models[item] = acceptance_logit(flags, attrs, [p for p in predictors if p in attrs])
    return {
        "at": at.isoformat(),
        "invited": len(invited),
        "by_data_item": acceptance(ledger, "data_item", at, invited, items).to_dict("records"),
        "by_share_target": acceptance(ledger, "share_target", at, invited, targets).to_dict(
            "records"
        ),
        "funnel": funnel(ledger, invited, items, required, at=at).to_dict("records"),
        "withdrawals": withdrawals_over_time(ledger).to_dict("records"),
        "by_attribute": by_attribute,
        "logit": models,
        "method": {
            "current": "latest ledger event per citizen x item x target at the reference time; "
            "'given' counts until expires_at",
            "shares": "denominator: invited citizens; Wilson 95% intervals",
            "funnel": f"completed = consent in force for all of: {', '.join(required)}",
            "logit": "statsmodels Logit of acceptance (any target) on dummy-coded attributes; "
            "reference level = most frequent",
        },
    }
