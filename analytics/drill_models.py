"""A drill's time to safe with the estimators its data call for: Turnbull beside Kaplan–Meier,
and a Cox model on participant attributes with its proportional-hazards check.

:func:`time_to_safe` takes a drill's event log (``participant, citizen_id, group, event_type,
at``) and the participants' attributes (``citizen_id`` and the covariate columns, e.g. from
``sql.policy.research_attributes``) and returns one dict of tidy records — what ``bosai analyze
drill`` prints under ``time_to_safe`` and the drill page shows.

* Turnbull's NPMLE (:mod:`analytics.interval_censoring`) on each participant's interval
  (last record before arrival, arrival record]; Kaplan–Meier on the arrival records as exact
  times (:mod:`analytics.drill_evaluation`) beside it — the gap between the two is how much the
  coarse check-ins move the curve.
* The Cox model (:mod:`analytics.proportional_hazards`) of the recorded time to safe (the
  interval's right end, censored at the drill's end, as Kaplan–Meier) on age band, register
  and hazard zone; hazard ratio > 1 = reaching safety sooner than the reference level.

>>> t0 = pd.Timestamp("2022-03-11 05:00", tz="UTC")
>>> rows = []
>>> for k in range(12):
...     c = k + 1
...     rows.append((f"c{c}", c, "resident", "evacuation_started", t0 + pd.Timedelta(minutes=k)))
...     if k < 10:
...         rows.append((f"c{c}", c, "resident", "arrived", t0 + pd.Timedelta(minutes=5 + 3 * k)))
>>> events = pd.DataFrame(rows, columns=["participant", "citizen_id", "group", "event_type", "at"])
>>> attributes = pd.DataFrame({"citizen_id": range(1, 13),
...     "age_band": ["20s", "70plus"] * 6, "register": ["no"] * 12, "hazard_zone": ["none"] * 12})
>>> result = time_to_safe(events, attributes, t0, t0 + pd.Timedelta(minutes=90))
>>> result["n"], result["observed"], result["turnbull_median"], result["km_median"]
(12, 10, [9.0, 11.0], 20.0)
>>> [(r["term"], r["n"]) for r in result["cox"]]
[('age_band=70plus', 6)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .drill_evaluation import kaplan_meier, km_median
from .interval_censoring import drill_intervals, turnbull, turnbull_median
from .proportional_hazards import cox_model, ph_test

#: Participant attributes the drill's Cox model uses, with their reference levels.
COVARIATES = ("age_band", "register", "hazard_zone")
REFERENCE = {"age_band": "20s", "register": "no", "hazard_zone": "none"}

METHOD = {
    "turnbull": "Turnbull NPMLE (self-consistency EM) of the time from the drill start to the "
    "first arrival record, each person's time known only to lie in (last record before "
    "arrival, arrival record]; no arrival by the drill's end: (end, inf)",
    "kaplan_meier": "Kaplan-Meier on the arrival records as exact times, censored at the "
    "drill's end (shown beside Turnbull: the difference is what the coarse check-ins move)",
    "cox": "Cox proportional hazards (statsmodels PHReg, Efron ties) of the recorded time to "
    "safe on age band, register and hazard zone of the home (treatment coding; reference "
    "20s / not on the register / no zone); hazard ratio > 1 = safe sooner; Wald 95% intervals; "
    "people without a citizen record or an attribute and levels without an arrival left out",
    "ph_test": "Grambsch-Therneau test on scaled Schoenfeld residuals against the rank of "
    "time, one chi-square (1 df) per term; a small p: the ratio changes during the drill",
}


def time_to_safe(
    events: pd.DataFrame,
    attributes: pd.DataFrame,
    start: dt.datetime,
    end: dt.datetime | None,
    event: str = "arrived",
    covariates: Sequence[str] = COVARIATES,
    reference: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Turnbull and Kaplan–Meier curves, their medians, the Cox model and the PH check.

    Parameters
    ----------
    events : pandas.DataFrame
        The drill's log: ``participant, citizen_id, group, event_type, at``.
    attributes : pandas.DataFrame
        ``citizen_id`` and the ``covariates`` columns.
    start, end : datetime
        The drill's start and end.
    event : str
        The event meaning "safe" (``arrived``).
    covariates, reference
        The Cox model's attributes and reference levels (default :data:`COVARIATES`,
        :data:`REFERENCE`).

    Returns
    -------
    dict
        ``event, n, observed, censored, exact`` (intervals of width 0), ``median_width_min``
        (of the observed intervals), ``turnbull`` (records of the NPMLE),
        ``turnbull_median`` ([low, high] or None), ``kaplan_meier`` (records), ``km_median``,
        ``cox`` (records, :data:`analytics.proportional_hazards.COX_COLUMNS`), ``cox_n``,
        ``cox_events``, ``cox_dropped``, ``ph_test`` (records) and ``method``.
    """
    intervals = drill_intervals(events, start, end, event)
    observed = intervals["observed"].astype(bool) if len(intervals) else pd.Series([], dtype=bool)
    curve = turnbull(intervals["left"], intervals["right"]) if len(intervals) else None
    recorded = np.where(observed, intervals["right"], intervals["left"]).astype(float)
    km = kaplan_meier(recorded, observed)
    width = (intervals["right"] - intervals["left"])[observed]
    out: dict[str, Any] = {
        "event": event,
        "n": int(len(intervals)),
        "observed": int(observed.sum()),
        "censored": int((~observed).sum()),
        "exact": int((width == 0).sum()),
        "median_width_min": float(width.median()) if len(width) else None,
        "turnbull": [] if curve is None else curve.to_dict("records"),
        "turnbull_median": (
            list(turnbull_median(curve))
            if curve is not None and turnbull_median(curve) is not None
            else None
        ),
        "kaplan_meier": km.to_dict("records"),
        "km_median": km_median(km),
        "cox": [],
        "cox_n": 0,
        "cox_events": 0,
        "cox_dropped": [],
        "ph_test": [],
        "method": dict(METHOD),
    }
    ids = events.drop_duplicates("participant").set_index("participant")["citizen_id"]
    frame = intervals.assign(
        citizen_id=intervals["participant"].map(ids),
        minutes=recorded,
    ).dropna(subset=["citizen_id"])
    if frame.empty or attributes.empty:
        return out
    frame = frame.assign(citizen_id=frame["citizen_id"].astype(int)).merge(
        attributes.assign(citizen_id=attributes["citizen_id"].astype(int)),
        on="citizen_id",
        how="inner",
    )
    reference = {**REFERENCE, **(reference or {})}
    fit = cox_model(frame, "minutes", "observed", list(covariates), reference)
    out["cox_n"] = int(fit.attrs.get("n", 0))
    out["cox_events"] = int(fit.attrs.get("events", 0))
    out["cox_dropped"] = list(fit.attrs.get("dropped", []))
    if not fit.empty:
        out["cox"] = fit.to_dict("records")
        out["ph_test"] = ph_test(frame, "minutes", "observed", list(covariates), fit).to_dict(
            "records"
        )
    return out
