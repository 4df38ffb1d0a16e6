"""Drill scenarios (``drills/scenarios/*.yaml``) and the citizen events they produce.

:func:`build_timeline` turns a scenario, its participants (subject and home position) and the
shelters into an ordered list of :class:`ScenarioEvent` — safety answers, evacuations with
location fixes on the way, shelter arrivals, rescue requests — from the scenario's seed only,
so a drill can be replayed exactly. :func:`water_level_timeline` gives the river gauges'
readings a scenario plays beside them (its optional ``water_levels`` section), which the city's
evacuation rules evaluate while the drill runs. Playing both in accelerated real time is the
player's job (:mod:`cityos.drill_player`); nothing here talks to a server or a database.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SCENARIO_DIR = Path(__file__).with_name("scenarios")


class ScenarioError(ValueError):
    """A scenario file is missing or invalid (the message names the file and field)."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    id: str
    name_ja: str
    name_en: str
    hazard: str
    duration_min: float
    seed: int
    participation: float
    answer_delay_mean_min: float
    outcomes: dict[str, float]
    location_fix_every_min: float
    walk_m_per_min: float
    ready_min: tuple[float, float]
    arrival_rate: float
    #: Gauges played live: station code → ((minute, level_m), …) points, read every
    #: ``water_level_every_min`` minutes between them (none: the drill plays no water levels).
    water_levels: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()
    water_level_every_min: float = 5.0


@dataclasses.dataclass(frozen=True)
class Participant:
    subject: str
    lat: float
    lon: float


@dataclasses.dataclass(frozen=True)
class ShelterSite:
    shelter_id: str
    lat: float
    lon: float


@dataclasses.dataclass(frozen=True)
class ScenarioEvent:
    """One citizen event at ``minute`` of the drill (kinds as in the city-OS contract)."""

    minute: float
    kind: str  # status | location | rescue_request | arrival
    subject: str
    status: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    rescue: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class WaterReading:
    """A gauge's reading at ``minute`` of the drill; ``row`` is the station's position in the
    scenario's ``water_levels.stations`` (for errors naming the file and row)."""

    minute: float
    station: str
    level_m: float
    row: int


OUTCOMES = ("evacuate", "elsewhere_safe", "needs_rescue", "injured")


def available_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (``flood``) or path; errors name the file and the field."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ScenarioError(
            f"{path}: no such scenario (known: {', '.join(available_scenarios()) or 'none'})"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc

    def need(key: str, kind: type, low: float | None = None, high: float | None = None):
        if key not in doc:
            raise ScenarioError(f"{path}: {key}: missing")
        value = doc[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ScenarioError(f"{path}: {key}: expected {kind.__name__}, got {value!r}")
        if low is not None and value < low or high is not None and value > high:
            raise ScenarioError(f"{path}: {key}: {value!r} is outside {low}..{high}")
        return value

    outcomes = doc.get("outcomes") or {}
    if not isinstance(outcomes, dict) or set(outcomes) - set(OUTCOMES):
        raise ScenarioError(f"{path}: outcomes: use only {', '.join(OUTCOMES)}")
    if any(not isinstance(v, int | float) or v < 0 for v in outcomes.values()):
        raise ScenarioError(f"{path}: outcomes: probabilities must be numbers >= 0")
    if sum(outcomes.values()) > 1:
        raise ScenarioError(f"{path}: outcomes: probabilities add up to more than 1")
    water_levels, every = _water_levels(path, doc.get("water_levels"))
    ready = doc.get("ready_min", [3, 12])
    if not (isinstance(ready, list) and len(ready) == 2 and 0 <= ready[0] <= ready[1]):
        raise ScenarioError(f"{path}: ready_min: expected [min, max] minutes")
    return Scenario(
        id=need("id", str),
        name_ja=need("name_ja", str),
        name_en=need("name_en", str),
        hazard=need("hazard", str),
        duration_min=need("duration_min", float, 1, 24 * 60),
        seed=need("seed", int),
        participation=need("participation", float, 0, 1),
        answer_delay_mean_min=need("answer_delay_mean_min", float, 0, 600),
        outcomes={k: float(outcomes.get(k, 0)) for k in OUTCOMES},
        location_fix_every_min=need("location_fix_every_min", float, 0.5, 600),
        walk_m_per_min=need("walk_m_per_min", float, 1, 1000),
        ready_min=(float(ready[0]), float(ready[1])),
        arrival_rate=need("arrival_rate", float, 0, 1),
        water_levels=water_levels,
        water_level_every_min=every,
    )


def _water_levels(
    path: Path, section: Any
) -> tuple[tuple[tuple[str, tuple[tuple[float, float], ...]], ...], float]:
    """The scenario's ``water_levels``: ``every_min`` and ``stations`` (code → [[minute,
    level_m], …] with minutes increasing); errors name the file and the field."""
    if section is None:
        return (), 5.0
    if not isinstance(section, dict) or not isinstance(section.get("stations"), dict):
        raise ScenarioError(f"{path}: water_levels: expected every_min and a stations mapping")
    every = section.get("every_min", 5)
    if isinstance(every, bool) or not isinstance(every, int | float) or not 0.5 <= every <= 600:
        raise ScenarioError(f"{path}: water_levels.every_min: expected minutes in 0.5..600")
    out = []
    for code, points in section["stations"].items():
        field = f"water_levels.stations.{code}"
        ok = isinstance(points, list) and len(points) >= 1
        ok = ok and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
            for p in points
        )
        if not ok:
            raise ScenarioError(f"{path}: {field}: expected a list of [minute, level_m]")
        minutes = [float(p[0]) for p in points]
        if any(b <= a for a, b in zip(minutes, minutes[1:], strict=False)) or minutes[0] < 0:
            raise ScenarioError(f"{path}: {field}: minutes must start at 0 or later and increase")
        out.append((str(code), tuple((float(m), float(v)) for m, v in points)))
    return tuple(out), float(every)


def water_level_timeline(scenario: Scenario) -> list[WaterReading]:
    """Every gauge reading of the drill, ordered by minute (then station): each station read
    every ``water_level_every_min`` minutes from its first point to its last (or the drill's
    end), the level interpolated linearly between the points (two decimals)."""
    out = []
    for row, (code, points) in enumerate(scenario.water_levels, start=1):
        x = np.array([m for m, _ in points])
        y = np.array([v for _, v in points])
        last = min(float(x[-1]), scenario.duration_min)
        minutes = np.arange(x[0], last + 1e-9, scenario.water_level_every_min)
        for minute, level in zip(minutes, np.round(np.interp(minutes, x, y), 2), strict=True):
            out.append(WaterReading(round(float(minute), 3), code, float(level), row))
    out.sort(key=lambda r: (r.minute, r.station))
    return out


def _metres(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Equirectangular distance, good to well under 1% within a city."""
    k = 111_320.0
    dx = (lon2 - lon1) * k * math.cos(math.radians(lat1))
    dy = (lat2 - lat1) * k
    return np.hypot(dx, dy)


def build_timeline(
    scenario: Scenario,
    participants: Sequence[Participant],
    shelters: Sequence[ShelterSite],
    seed: int | None = None,
) -> list[ScenarioEvent]:
    """Every event of the drill, ordered by minute (then subject), from the seed only."""
    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    people = sorted(participants, key=lambda p: p.subject)
    chosen = [
        p
        for p, u in zip(people, rng.random(len(people)), strict=True)
        if u < scenario.participation
    ]
    s_lat = np.array([s.lat for s in shelters], dtype=float)
    s_lon = np.array([s.lon for s in shelters], dtype=float)
    cut = np.cumsum([scenario.outcomes[k] for k in OUTCOMES])
    end = scenario.duration_min
    events: list[ScenarioEvent] = []

    def add(minute: float, kind: str, who: Participant, **payload: Any) -> None:
        if minute <= end:
            events.append(ScenarioEvent(round(float(minute), 3), kind, who.subject, **payload))

    for person in chosen:
        t = float(rng.exponential(scenario.answer_delay_mean_min))
        u = float(rng.random())
        outcome = next((k for k, c in zip(OUTCOMES, cut, strict=True) if u < c), "safe_at_home")
        if outcome == "evacuate" and len(shelters):
            dist = _metres(person.lat, person.lon, s_lat, s_lon)
            nearest = int(np.argmin(dist))
            walk = float(dist[nearest]) / scenario.walk_m_per_min
            start = t + float(rng.uniform(*scenario.ready_min))
            add(t, "status", person, status={"state": "evacuating"})
            arrival = start + walk
            step = scenario.location_fix_every_min
            minute = start
            while minute < arrival:
                share = (minute - start) / walk if walk > 0 else 1.0
                lat = float(person.lat + (s_lat[nearest] - person.lat) * share)
                lon = float(person.lon + (s_lon[nearest] - person.lon) * share)
                jitter = rng.normal(0, 0.00005, 2)
                add(
                    minute,
                    "location",
                    person,
                    location={
                        "lat": round(lat + float(jitter[0]), 6),
                        "lon": round(lon + float(jitter[1]), 6),
                        "accuracy_m": round(float(rng.uniform(5, 25)), 1),
                    },
                )
                minute += step
            if rng.random() < scenario.arrival_rate:
                add(
                    arrival,
                    "arrival",
                    person,
                    status={"state": "at_shelter", "shelter_id": shelters[nearest].shelter_id},
                )
        elif outcome == "needs_rescue":
            add(t, "status", person, status={"state": "needs_rescue", "message": "自宅で孤立"})
            add(
                t + 0.5,
                "rescue_request",
                person,
                rescue={
                    "lat": round(person.lat, 6),
                    "lon": round(person.lon, 6),
                    "people_count": int(1 + rng.poisson(0.6)),
                    "injured_count": int(rng.random() < 0.2),
                    "needs": "訓練：救助要請",
                },
            )
        elif outcome == "injured":
            add(t, "status", person, status={"state": "injured", "message": "軽いけが（訓練）"})
        elif outcome == "elsewhere_safe":
            add(t, "status", person, status={"state": "elsewhere_safe"})
        else:
            add(t, "status", person, status={"state": "safe_at_home"})
    events.sort(key=lambda e: (e.minute, e.subject, e.kind))
    return events
