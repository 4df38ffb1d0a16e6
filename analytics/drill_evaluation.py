"""Drill evaluation from event logs: the notification funnel, time-to-event curves, register
people confirmed by T minutes, comparison of two drills.

Input: the drill's events (``participant, group, event_type, at``; see
:func:`sql.queries.research.drill_events`) and its start and end.

* :func:`kaplan_meier` — the product-limit estimator; Greenwood standard errors; pointwise
  intervals on the log(−log) scale (Kalbfleisch & Prentice; R ``survival``'s
  ``conf.type = "log-log"``). Same estimates and SEs as ``statsmodels``' ``SurvfuncRight``.
* :func:`time_to_event` — minutes from the origin (drill start, or the participant's first
  notification) to the participant's first event of a type; people without it are **censored at
  the drill's end**.
* :func:`log_rank` — the log-rank test of two curves (as ``statsmodels.duration.survdiff``).
* :func:`confirmed_by` — share of register people with a safety answer within T minutes of the
  drill start (denominator: the register people taking part, i.e. seen in the log), Wilson CI.
* :func:`notification_funnel` — sent → opened → safety answered → evacuation started → arrived.

>>> km = kaplan_meier([6, 6, 6, 7, 10], [1, 1, 0, 1, 0])
>>> km[["time", "at_risk", "events", "survival"]].round(4).values.tolist()
[[6.0, 5.0, 2.0, 0.6], [7.0, 2.0, 1.0, 0.3]]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .proportions import proportion

STAGES = (
    "notification_sent",
    "notification_opened",
    "safety_answered",
    "evacuation_started",
    "arrived",
)


# ---------------------------------------------------------------- Kaplan–Meier


def kaplan_meier(
    durations: Sequence[float], observed: Sequence[int | bool], confidence: float = 0.95
) -> pd.DataFrame:
    """``time, at_risk, events, censored, survival, se, ci_low, ci_high`` at each event time."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    ok = np.isfinite(t)
    t, e = t[ok], e[ok]
    z = stats.norm.isf((1 - confidence) / 2)
    rows = []
    surv, green = 1.0, 0.0
    for time in np.unique(t[e]):
        at_risk = int((t >= time).sum())
        d = int(((t == time) & e).sum())
        c = int(((t == time) & ~e).sum())
        surv *= 1 - d / at_risk
        if at_risk > d:
            green += d / (at_risk * (at_risk - d))
        else:
            green = float("inf")
        se = surv * np.sqrt(green) if np.isfinite(green) else float("nan")
        if 0 < surv < 1 and np.isfinite(green):
            log_s = np.log(surv)
            half = z * np.sqrt(green) / abs(log_s)
            low, high = (
                np.exp(-np.exp(np.log(-log_s) + half)),
                np.exp(-np.exp(np.log(-log_s) - half)),
            )
        else:
            low = high = float("nan")
        rows.append((float(time), at_risk, d, c, surv, float(se), float(low), float(high)))
    return pd.DataFrame(
        rows,
        columns=["time", "at_risk", "events", "censored", "survival", "se", "ci_low", "ci_high"],
    )


def km_at(km: pd.DataFrame, time: float) -> float:
    """The survival estimate at ``time`` (1 before the first event)."""
    before = km[km["time"] <= time]
    return float(before["survival"].iloc[-1]) if len(before) else 1.0


def km_median(km: pd.DataFrame) -> float | None:
    """Smallest event time with survival ≤ 0.5 (None when the curve stays above 0.5)."""
    below = km[km["survival"] <= 0.5 + 1e-12]
    return float(below["time"].iloc[0]) if len(below) else None


def log_rank(
    durations_a: Sequence[float],
    observed_a: Sequence[int | bool],
    durations_b: Sequence[float],
    observed_b: Sequence[int | bool],
) -> dict[str, float]:
    """Log-rank chi-square (1 df) and p-value comparing two groups."""
    ta, ea = np.asarray(durations_a, float), np.asarray(observed_a, bool)
    tb, eb = np.asarray(durations_b, float), np.asarray(observed_b, bool)
    times = np.unique(np.concatenate([ta[ea], tb[eb]]))
    o_minus_e, var = 0.0, 0.0
    for time in times:
        na, nb = (ta >= time).sum(), (tb >= time).sum()
        da, db = ((ta == time) & ea).sum(), ((tb == time) & eb).sum()
        n, d = na + nb, da + db
        o_minus_e += da - d * na / n
        if n > 1:
            var += d * (na / n) * (1 - na / n) * (n - d) / (n - 1)
    chi2 = o_minus_e**2 / var if var > 0 else float("nan")
    return {
        "chi2": float(chi2),
        "df": 1,
        "p": float(stats.chi2.sf(chi2, 1)) if var > 0 else float("nan"),
    }


# ---------------------------------------------------------------- from drill logs


def first_times(events: pd.DataFrame) -> pd.DataFrame:
    """One row per participant: ``group`` and the first time of each stage (NaT if none)."""
    if events.empty:
        return pd.DataFrame(columns=["group", *STAGES])
    ev = events.assign(at=pd.to_datetime(events["at"], utc=True))
    groups = ev.groupby("participant")["group"].agg(
        lambda s: s.dropna().iloc[0] if s.notna().any() else "unknown"
    )
    firsts = ev.pivot_table(index="participant", columns="event_type", values="at", aggfunc="min")
    out = pd.DataFrame(index=groups.index)
    out["group"] = groups
    for stage in STAGES:
        # (pivot_table may drop the time zone of a column: the values are UTC either way)
        out[stage] = (
            pd.to_datetime(firsts[stage], utc=True)
            if stage in firsts
            else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
        )
    return out


def _utc(value: dt.datetime) -> pd.Timestamp:
    return (
        pd.Timestamp(value).tz_convert("UTC")
        if pd.Timestamp(value).tzinfo
        else pd.Timestamp(value, tz="UTC")
    )


def time_to_event(
    events: pd.DataFrame,
    event: str,
    start: dt.datetime,
    end: dt.datetime | None,
    origin: str = "drill_start",
) -> pd.DataFrame:
    """``participant, group, minutes, observed`` — minutes to the first ``event``; participants
    without it are censored at ``end`` (the drill's end, or its last logged event)."""
    times = first_times(events)
    start_ts = _utc(start)
    end_ts = _utc(end) if end is not None else pd.to_datetime(events["at"], utc=True).max()
    if origin == "notification_sent":
        base = times["notification_sent"].fillna(start_ts)
    elif origin == "drill_start":
        base = pd.Series(start_ts, index=times.index)
    else:
        raise ValueError("origin must be 'drill_start' or 'notification_sent'")
    hit = (
        times[event]
        if event in times
        else pd.Series(pd.NaT, index=times.index, dtype="datetime64[ns, UTC]")
    )
    observed = hit.notna() & (hit <= end_ts)
    stop = hit.where(observed, end_ts)
    minutes = (stop - base).dt.total_seconds() / 60
    return pd.DataFrame(
        {
            "participant": times.index,
            "group": times["group"].to_numpy(),
            "minutes": minutes.clip(lower=0).to_numpy(),
            "observed": observed.to_numpy(),
        }
    ).reset_index(drop=True)


def notification_funnel(events: pd.DataFrame) -> pd.DataFrame:
    """``stage, count, share_of_sent, share_of_previous`` — distinct participants per stage."""
    times = first_times(events)
    rows, previous = [], None
    sent = int(times["notification_sent"].notna().sum()) if len(times) else 0
    for stage in STAGES:
        count = int(times[stage].notna().sum()) if len(times) else 0
        rows.append(
            {
                "stage": stage,
                "count": count,
                "share_of_sent": count / sent if sent else float("nan"),
                "share_of_previous": count / previous if previous else float("nan"),
            }
        )
        previous = count
    return pd.DataFrame(rows)


def confirmed_by(
    events: pd.DataFrame,
    register_ids: Iterable[int],
    start: dt.datetime,
    minutes: Sequence[float] = (10, 30, 60),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of register people (taking part) with a safety answer within T minutes of the start."""
    register = set(register_ids)
    cohort = (
        events[events["citizen_id"].isin(register)] if "citizen_id" in events else events.iloc[0:0]
    )
    people = set(cohort["participant"])
    answered = cohort[cohort["event_type"] == "safety_answered"]
    first = pd.to_datetime(answered["at"], utc=True).groupby(answered["participant"]).min()
    elapsed = (first - _utc(start)).dt.total_seconds() / 60
    rows = []
    for t in minutes:
        count = int((elapsed <= t).sum())
        rows.append({"minutes": t, **proportion(count, len(people), confidence)})
    return pd.DataFrame(rows, columns=["minutes", "n", "count", "share", "ci_low", "ci_high"])


def _curve_summary(tte: pd.DataFrame, minutes: Sequence[float]) -> dict[str, Any]:
    km = kaplan_meier(tte["minutes"], tte["observed"])
    return {
        "n": int(len(tte)),
        "events": int(tte["observed"].sum()),
        "censored": int((~tte["observed"]).sum()),
        "median_min": km_median(km),
        "follow_up_min": float(tte["minutes"].max()) if len(tte) else None,
        "share_by": {str(t): 1 - km_at(km, t) for t in minutes},
        "curve": km.to_dict("records"),
    }


def evaluate_drill(
    events: pd.DataFrame,
    start: dt.datetime,
    end: dt.datetime | None,
    register_ids: Iterable[int] = (),
    minutes: Sequence[float] = (10, 30, 60),
    origin: str = "drill_start",
    planned_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """Everything ``bosai analyze drill --json`` prints for one drill; with ``planned_ids``
    (people with an individual evacuation plan) also the register's coverage by plans."""
    out: dict[str, Any] = {
        "participants": int(events["participant"].nunique()) if len(events) else 0,
        "funnel": notification_funnel(events).to_dict("records"),
        "time_to_event": {},
        "register_confirmed": confirmed_by(events, register_ids, start, minutes).to_dict("records"),
        "method": {
            "time_to_event": f"Kaplan-Meier from the {origin.replace('_', ' ')}; censored at the drill's end; "
            "Greenwood SE; log(-log) pointwise 95% intervals",
            "share_by": "1 - S(T) from the Kaplan-Meier curve",
            "register_confirmed": "register people seen in the drill log with a safety answer within T "
            "minutes of the start; Wilson 95% intervals",
        },
    }
    if planned_ids is not None:
        register = {int(i) for i in register_ids}
        planned = register & {int(i) for i in planned_ids}
        out["plan_coverage"] = {
            "register": len(register),
            "with_plan": len(planned),
            "share": len(planned) / len(register) if register else None,
        }
    for stage in STAGES[1:]:
        tte = time_to_event(events, stage, start, end, origin)
        entry = {"all": _curve_summary(tte, minutes), "groups": {}}
        for group, part in tte.groupby("group", sort=True):
            entry["groups"][str(group)] = _curve_summary(part, minutes)
        out["time_to_event"][stage] = entry
    return out


def compare_drills(
    a: tuple[pd.DataFrame, dt.datetime, dt.datetime | None],
    b: tuple[pd.DataFrame, dt.datetime, dt.datetime | None],
    event: str = "safety_answered",
    minutes: Sequence[float] = (10, 30, 60),
    origin: str = "drill_start",
) -> dict[str, Any]:
    """Two drills' time-to-``event`` curves, medians, shares by T and the log-rank test."""
    ta = time_to_event(a[0], event, a[1], a[2], origin)
    tb = time_to_event(b[0], event, b[1], b[2], origin)
    return {
        "event": event,
        "a": _curve_summary(ta, minutes),
        "b": _curve_summary(tb, minutes),
        "log_rank": log_rank(ta["minutes"], ta["observed"], tb["minutes"], tb["observed"]),
    }
