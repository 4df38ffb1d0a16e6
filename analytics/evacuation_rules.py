"""Evacuation rules: which alert level the city's plan proposes for which areas, and why.

A city's 地域防災計画 maps triggers to levels per area; here that is configuration (a YAML file
per city, ``sql/cities/evacuation/<code>.yaml``), never code::

    rules:
      - id: yugawa-judgement
        trigger: {kind: river_level, station: "yugawa-01", threshold: judgement_m}
        level: 3
        areas: [R-YU-1, R-YU-2]
      - id: landslide
        trigger: {kind: landslide_warning}
        level: 4
        areas: [L-1]

Trigger kinds: ``river_level`` (a station reaches one of its thresholds: ``standby_m``,
``caution_m``, ``judgement_m`` 避難判断水位, ``danger_m`` 氾濫危険水位; optional ``level_m``
overrides the station's figure), ``landslide_warning`` (土砂災害警戒情報 in force) and
``flood_forecast`` (指定河川洪水予報 of a ``forecast`` kind such as 氾濫危険情報 — or a higher
one — in force, for the rule's ``river`` when it names one, else for any river).
:func:`active_triggers` turns the stored JMA triggers into what :func:`evaluate` reads.

:func:`evaluate` is pure: given the rules, the stations' thresholds, the recent observations,
the triggers in force and the levels in force per area, it returns one :class:`Proposal` per
area whose highest fired rule asks for a higher level than the one in force — with the rules
that fired, the reason and the time the trigger was first reached (start of the current
exceedance). Nothing is issued here: HQ decides. :func:`evaluate_naive` is the same rule as a
per-area loop (the benchmark's baseline and the test's oracle).

>>> rules = parse_rules('''rules:
...   - {id: j, trigger: {kind: river_level, station: S1, threshold: judgement_m}, level: 3, areas: [A]}
...   - {id: d, trigger: {kind: river_level, station: S1, threshold: danger_m}, level: 4, areas: [A, B]}
... ''', "rules.yaml")
>>> import datetime as dt, pandas as pd
>>> t0 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
>>> obs = pd.DataFrame({"station": ["S1", "S1"], "observed_at": [t0, t0 + dt.timedelta(minutes=10)],
...                     "level_m": [2.1, 2.6]})
>>> stations = {"S1": Thresholds(1.0, 1.5, 2.0, 2.5)}
>>> [(p.area, p.level, p.rule_ids) for p in evaluate(rules, stations, obs, {}, {"A": 3})]
[('A', 4, ('j', 'd')), ('B', 4, ('d',))]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import yaml

from bosai.errors import InvalidInputError
from bosai.vocab import EVACUATION_LEVELS, EVACUATION_TRIGGER_KINDS

THRESHOLD_NAMES = ("standby_m", "caution_m", "judgement_m", "danger_m")
#: 指定河川洪水予報 kinds, lowest first: a rule for one fires at it or any higher one.
FORECAST_RANKS = {"氾濫注意情報": 2, "氾濫警戒情報": 3, "氾濫危険情報": 4, "氾濫発生情報": 5}
RULE_KINDS = tuple(k for k in EVACUATION_TRIGGER_KINDS if k != "manual")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """A station's four thresholds in metres (水防団待機, 氾濫注意, 避難判断, 氾濫危険)."""

    standby_m: float
    caution_m: float
    judgement_m: float
    danger_m: float
    name: str = ""
    river: str = ""


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    level: int
    areas: tuple[str, ...]
    station: str | None = None
    threshold: str | None = None
    #: Overrides the station's threshold (metres), e.g. a local 避難判断 figure.
    level_m: float | None = None
    #: flood_forecast: which forecast kind (氾濫警戒情報, 氾濫危険情報, 氾濫発生情報).
    forecast: str | None = None
    #: flood_forecast: the river it is about (None: any river's forecast).
    river: str | None = None


@dataclasses.dataclass(frozen=True)
class Proposal:
    """A level the rules propose for one area (higher than the level in force)."""

    area: str
    level: int
    current_level: int | None
    rule_ids: tuple[str, ...]
    #: The deciding trigger: kind plus what to say (station, river, level, threshold …).
    trigger: dict[str, Any]
    #: When the deciding trigger was first reached.
    triggered_at: dt.datetime | None


def _problem(label: str, number: int | str, column: str, text: str) -> str:
    return f"{label}:{number}:{column}: {text}"


def parse_rules(text: str, label: str) -> list[Rule]:
    """The rules of a city file; any problem raises :class:`InvalidInputError` naming
    ``FILE:RULE:FIELD`` (RULE is the rule's 1-based position)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{label}: not YAML", [f"{label}:-:-: {exc}"]) from exc
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InvalidInputError(f"{label}: no rules", [_problem(label, "-", "rules", "a list")])
    rules, problems, seen = [], [], set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(_problem(label, number, "-", "a rule must be a mapping"))
            continue
        trigger = item.get("trigger") or {}
        kind = trigger.get("kind") if isinstance(trigger, dict) else None
        rule_id = str(item.get("id") or f"rule-{number}")
        found = []
        if rule_id in seen:
            found.append(("id", f"duplicate id {rule_id!r}"))
        seen.add(rule_id)
        if kind not in RULE_KINDS:
            found.append(("trigger.kind", f"{kind!r} is not one of {', '.join(RULE_KINDS)}"))
        level = item.get("level")
        if level not in EVACUATION_LEVELS:
            found.append(("level", f"{level!r} is not one of 3, 4, 5"))
        areas = item.get("areas")
        if not isinstance(areas, list) or not areas:
            found.append(("areas", "a non-empty list of area codes"))
        station = threshold = forecast = level_m = river = None
        if kind == "river_level":
            station = trigger.get("station")
            threshold = trigger.get("threshold", "judgement_m" if level == 3 else "danger_m")
            level_m = trigger.get("level_m")
            if not station:
                found.append(("trigger.station", "a station code is required"))
            if threshold not in THRESHOLD_NAMES:
                found.append(("trigger.threshold", f"{threshold!r} is not a threshold"))
            if level_m is not None and not isinstance(level_m, int | float):
                found.append(("trigger.level_m", "a number of metres"))
        elif kind == "flood_forecast":
            forecast = trigger.get("forecast")
            river = trigger.get("river")
            if forecast not in FORECAST_RANKS:
                found.append(
                    ("trigger.forecast", f"{forecast!r} is not one of {', '.join(FORECAST_RANKS)}")
                )
        problems += [_problem(label, number, col, why) for col, why in found]
        if not found:
            rules.append(
                Rule(
                    rule_id,
                    kind,
                    int(level),
                    tuple(str(a) for a in areas),
                    None if station is None else str(station),
                    threshold,
                    None if level_m is None else float(level_m),
                    None if forecast is None else str(forecast),
                    None if river is None else str(river),
                )
            )
    if problems:
        raise InvalidInputError(f"{label}: invalid evacuation rules", problems)
    return rules


def check_rules(
    rules: Iterable[Rule], stations: Iterable[str], areas: Iterable[str], label: str
) -> list[str]:
    """Problems of rules naming stations or areas the database does not know."""
    stations, areas = set(stations), set(areas)
    out = []
    for number, rule in enumerate(rules, start=1):
        if rule.station is not None and rule.station not in stations:
            out.append(
                _problem(label, number, "trigger.station", f"unknown station {rule.station!r}")
            )
        for area in rule.areas:
            if area not in areas:
                out.append(_problem(label, number, "areas", f"unknown area {area!r}"))
    return out


# ------------------------------------------------------------------ evaluation


def _threshold_m(rule: Rule, stations: Mapping[str, Thresholds]) -> float:
    if rule.level_m is not None:
        return rule.level_m
    station = stations.get(rule.station or "")
    return np.inf if station is None else float(getattr(station, rule.threshold or "danger_m"))


def _exceedance_start(times: np.ndarray, levels: np.ndarray, threshold: float) -> Any:
    """When the current run at or above ``threshold`` began (series sorted by time)."""
    below = np.flatnonzero(levels < threshold)
    start = 0 if below.size == 0 else below[-1] + 1
    return times[start] if start < len(times) else None


def _river_trigger(rule: Rule, stations: Mapping[str, Thresholds], latest: float) -> dict[str, Any]:
    station = stations.get(rule.station or "") or Thresholds(0, 0, 0, 0)
    return {
        "kind": "river_level",
        "station": rule.station,
        "station_name": station.name or rule.station,
        "river": station.river,
        "threshold": rule.threshold,
        "threshold_m": _threshold_m(rule, stations),
        "level_m": latest,
    }


def _to_time(value: Any) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime()


def _other_fired(rule: Rule, active: Mapping[str, dt.datetime]) -> dt.datetime | None:
    """When a landslide/forecast rule's trigger came into force (None: not in force)."""
    if rule.kind == "landslide_warning":
        return active.get("landslide_warning")
    if rule.kind == "flood_forecast":
        if rule.river:
            return active.get(f"flood_forecast:{rule.forecast}:{rule.river}")
        return active.get(f"flood_forecast:{rule.forecast}")
    return None


def _run_start(times: list[Any], ranks: list[int], rank: int) -> Any:
    """When the current run at or above ``rank`` began (series oldest first), or None."""
    if not ranks or ranks[-1] < rank:
        return None
    start = len(ranks) - 1
    while start > 0 and ranks[start - 1] >= rank:
        start -= 1
    return times[start]


def active_triggers(rows: pd.DataFrame) -> dict[str, dt.datetime]:
    """What :func:`evaluate` reads as ``active`` from the stored JMA triggers (columns
    ``kind``, ``subject_code``, ``subject_name``, ``forecast``, ``in_force``, ``report_time``):
    per municipality or river the newest telegram decides whether it is in force, and since
    when is the start of the current run. Keys: ``landslide_warning``;
    ``flood_forecast:<kind>:<river>`` for the river's forecast kind and every lower one, and
    ``flood_forecast:<kind>`` for any river (the earliest).

    >>> import pandas as pd, datetime as dt
    >>> t = [dt.datetime(2026, 7, 10, h, tzinfo=dt.UTC) for h in (1, 2, 3)]
    >>> rows = pd.DataFrame({"kind": ["flood_forecast"] * 3, "subject_code": ["r"] * 3,
    ...     "subject_name": ["阿賀川"] * 3, "forecast": ["氾濫警戒情報", "氾濫危険情報", "氾濫警戒情報"],
    ...     "in_force": [True] * 3, "report_time": t})
    >>> {k: v.hour for k, v in sorted(active_triggers(rows).items())}
    {'flood_forecast:氾濫注意情報': 1, 'flood_forecast:氾濫注意情報:阿賀川': 1, 'flood_forecast:氾濫警戒情報': 1, 'flood_forecast:氾濫警戒情報:阿賀川': 1}
    """
    out: dict[str, dt.datetime] = {}
    if rows.empty:
        return out

    def keep(key: str, since: Any) -> None:
        when = _to_time(since)
        if when is not None and (key not in out or when < out[key]):
            out[key] = when

    ordered = rows.sort_values("report_time", kind="stable")
    for (kind, _code), part in ordered.groupby(["kind", "subject_code"], sort=False):
        times = list(part["report_time"])
        if kind == "landslide_warning":
            ranks = [int(bool(f)) for f in part["in_force"]]
            keep("landslide_warning", _run_start(times, ranks, 1))
            continue
        ranks = [
            FORECAST_RANKS.get(f, 0) if bool(on) else 0
            for f, on in zip(part["forecast"], part["in_force"], strict=True)
        ]
        name = part["subject_name"].iloc[-1] or _code
        for forecast, rank in FORECAST_RANKS.items():
            since = _run_start(times, ranks, rank)
            keep(f"flood_forecast:{forecast}:{name}", since)
            keep(f"flood_forecast:{forecast}", since)
    return out


def _other_trigger(rule: Rule) -> dict[str, Any]:
    trigger: dict[str, Any] = {"kind": rule.kind}
    if rule.forecast:
        trigger["forecast"] = rule.forecast
    if rule.river:
        trigger["river"] = rule.river
    return trigger


def _better(a: tuple[int, Any], b: tuple[int, Any]) -> bool:
    """Of two fired rules for an area, the deciding one: higher level, then earlier trigger."""
    if a[0] != b[0]:
        return a[0] > b[0]
    ta, tb = a[1], b[1]
    return ta is not None and (tb is None or ta < tb)


def evaluate(
    rules: list[Rule],
    stations: Mapping[str, Thresholds],
    observations: pd.DataFrame,
    active: Mapping[str, dt.datetime],
    in_force: Mapping[str, int],
) -> list[Proposal]:
    """Proposals per area (sorted by area code), vectorised over stations and rules.

    ``observations``: columns ``station``, ``observed_at``, ``level_m`` (any order; the
    newest per station is its current level). ``active``: triggers in force and since when —
    ``landslide_warning`` and ``flood_forecast:<kind>``. ``in_force``: area → level now.
    """
    river = [r for r in rules if r.kind == "river_level"]
    fired_at: dict[str, tuple[Any, dict[str, Any]]] = {}
    if river and len(observations):
        obs = observations.sort_values(["station", "observed_at"], kind="stable")
        codes = obs["station"].to_numpy()
        times = obs["observed_at"].to_numpy()
        levels = obs["level_m"].to_numpy(dtype=float)
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        position = {codes[s]: (s, e) for s, e in zip(starts, ends, strict=True)}
        latest = {codes[e - 1]: levels[e - 1] for e in ends}
        thresholds = np.array([_threshold_m(r, stations) for r in river])
        current = np.array([latest.get(r.station, -np.inf) for r in river])
        for i in np.flatnonzero(current >= thresholds):
            rule = river[i]
            s, e = position[rule.station]
            start = _exceedance_start(times[s:e], levels[s:e], thresholds[i])
            fired_at[rule.id] = (_to_time(start), _river_trigger(rule, stations, float(current[i])))
    for rule in rules:
        if rule.kind != "river_level":
            since = _other_fired(rule, active)
            if since is not None:
                fired_at[rule.id] = (_to_time(since), _other_trigger(rule))
    best: dict[str, tuple[int, Any, Rule]] = {}
    fired_for: dict[str, list[str]] = {}
    for rule in rules:
        if rule.id not in fired_at:
            continue
        start = fired_at[rule.id][0]
        for area in rule.areas:
            fired_for.setdefault(area, []).append(rule.id)
            old = best.get(area)
            if old is None or _better((rule.level, start), old[:2]):
                best[area] = (rule.level, start, rule)
    out = []
    for area in sorted(best):
        level, start, rule = best[area]
        current_level = in_force.get(area)
        if current_level is not None and current_level >= level:
            continue
        out.append(
            Proposal(
                area,
                level,
                current_level,
                tuple(fired_for[area]),
                fired_at[rule.id][1],
                start,
            )
        )
    return out


def evaluate_naive(
    rules: list[Rule],
    stations: Mapping[str, Thresholds],
    observations: pd.DataFrame,
    active: Mapping[str, dt.datetime],
    in_force: Mapping[str, int],
) -> list[Proposal]:
    """The same rule, area by area, scanning the observations for each rule (the baseline)."""
    areas = sorted({a for r in rules for a in r.areas})
    records = list(observations.itertuples(index=False))
    out = []
    for area in areas:
        best = None
        fired = []
        for rule in rules:
            if area not in rule.areas:
                continue
            if rule.kind == "river_level":
                series = sorted(
                    (r.observed_at, r.level_m) for r in records if r.station == rule.station
                )
                if not series:
                    continue
                threshold = _threshold_m(rule, stations)
                if series[-1][1] < threshold:
                    continue
                start = series[0][0]
                for i in range(len(series) - 1, -1, -1):
                    if series[i][1] < threshold:
                        start = series[i + 1][0]
                        break
                start = _to_time(start)
                trigger = _river_trigger(rule, stations, float(series[-1][1]))
            else:
                start = _to_time(_other_fired(rule, active))
                if start is None:
                    continue
                trigger = _other_trigger(rule)
            fired.append(rule.id)
            if best is None or _better((rule.level, start), (best[0], best[1])):
                best = (rule.level, start, trigger)
        if best is None:
            continue
        current_level = in_force.get(area)
        if current_level is not None and current_level >= best[0]:
            continue
        out.append(Proposal(area, best[0], current_level, tuple(fired), best[2], best[1]))
    return out
