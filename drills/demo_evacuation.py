"""The demo's evacuation information (issue 17): river gauges, issuance areas, the water levels
of the night and HQ's decisions at the times the city's rules propose them.

From the ``evacuation`` section of the city's geography file (``drills/cities/<code>.yaml``):

* a synthetic gauge per river with its four thresholds (水防団待機, 氾濫注意, 避難判断, 氾濫危険
  水位) and gauge range; its level rises from ``normal_m`` through each threshold at the
  section's ``reaches_min`` minutes towards ``peak_m`` (reached when the river's stage,
  :data:`drills.demo_city.RIVER_RISE`, is at 0.9), read every :data:`READING_EVERY_MIN` minutes
  from :data:`READINGS_FROM_MIN` to the end of the demo;
* issuance areas: each river's flood zone (its outer band) cut into ``parts`` along its course,
  and the hills (landslide zones);
* HQ's decisions: for each of the city's ``river_level`` rules (parsed by the caller, e.g.
  :func:`analytics.evacuation_rules.parse_rules`) the first reading at or above its threshold
  is the trigger, and HQ issues the rule's level for its areas :data:`DECISION_DELAY_MIN`
  minutes later — as :mod:`sql.actions.evacuation` records a decision: a row per area that
  changes (previous level, reason, trigger with ``triggered_at`` and the rules), one activity-log
  row (the demo store adds the audit row), marked as an exercise (the demo's data are
  synthetic, so its CAP messages say ``Exercise``).

No random draws: the rest of the demo is byte-identical with or without this part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from bosai.i18n import t

#: Minutes after the trigger reading at which HQ decides (reads, confirms, issues).
DECISION_DELAY_MIN = 3
READING_EVERY_MIN = 10
READINGS_FROM_MIN = -120
THRESHOLD_NAMES = ("standby_m", "caution_m", "judgement_m", "danger_m")
ACTOR = "demo-hq"


@dataclasses.dataclass(frozen=True)
class Gauge:
    code: str
    river: str
    name: str
    thresholds: dict[str, float]
    reaches_min: tuple[float, ...]
    normal_m: float
    peak_m: float

    def level_at(self, minutes: np.ndarray, peak_min: float) -> np.ndarray:
        """The gauge's reading (m, two decimals) at ``minutes`` after the start."""
        knots_x = [READINGS_FROM_MIN, *self.reaches_min, peak_min]
        knots_y = [self.normal_m, *(self.thresholds[n] for n in THRESHOLD_NAMES), self.peak_m]
        return np.round(np.interp(minutes, knots_x, knots_y), 2)


def _gauges(section: dict[str, Any]) -> list[Gauge]:
    return [
        Gauge(
            s["code"],
            s["river"],
            s["name"],
            dict(zip(THRESHOLD_NAMES, map(float, s["thresholds_m"]), strict=True)),
            tuple(float(m) for m in s["reaches_min"]),
            float(s["normal_m"]),
            float(s["peak_m"]),
        )
        for s in section.get("stations", [])
    ]


def _area_geometry(b: Any, spec: dict[str, Any]) -> Any:
    """An area's polygon in the local plane: a part of a river's flood zone, or the hills."""
    geo = b.geo
    if spec.get("hills"):
        return geo.hills_xy
    river = next(r for r in geo.data["rivers"] if r["name"] == spec["river"])
    line = geo.rivers_xy[spec["river"]]
    outer = max(float(d) for d, _ in river["flood_bands_m"])
    parts, part = int(spec["parts"]), int(spec["part"])
    piece = substring(line, part / parts, (part + 1) / parts, normalized=True)
    zone = line.buffer(outer, quad_segs=6)
    # Cut the zone across the river at the piece's ends: the part is the zone nearest the piece.
    return zone.intersection(piece.buffer(outer, cap_style="flat", quad_segs=6)).simplify(5.0)


def _area_rows(b: Any, specs: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    rows = []
    for i, spec in enumerate(specs, start=1):
        geom = b.geo.plane.geometry_to_lonlat(_area_geometry(b, spec))
        minx, miny, maxx, maxy = geom.bounds
        rows.append(
            {
                "id": i,
                "municipality_code": code,
                "code": spec["code"],
                "kind": spec.get("kind", "hazard"),
                "name_ja": spec["name"],
                "name_en": spec.get("name_en"),
                "geom_wkb": shapely.to_wkb(geom),
                "min_lon": minx,
                "min_lat": miny,
                "max_lon": maxx,
                "max_lat": maxy,
                "source": "demo",
                "is_synthetic": True,
                "imported_at": b.t0 - dt.timedelta(days=400),
            }
        )
    return rows


def _station_rows(b: Any, section: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "municipality_code": code,
            "code": s["code"],
            "name_ja": s["name"],
            "name_en": s.get("name_en"),
            "river_ja": s["river"],
            "lat": s["lat"],
            "lon": s["lon"],
            **dict(zip(THRESHOLD_NAMES, map(float, s["thresholds_m"]), strict=True)),
            "range_min_m": float(s["range_m"][0]),
            "range_max_m": float(s["range_m"][1]),
            "source": "demo",
            "is_synthetic": True,
            "updated_at": b.t0 - dt.timedelta(days=400),
        }
        for i, s in enumerate(section.get("stations", []), start=1)
    ]


def _trigger_minute(minutes: np.ndarray, levels: np.ndarray, threshold: float) -> float | None:
    """The minute of the first reading at or above ``threshold`` (the level only rises)."""
    above = np.flatnonzero(levels >= threshold)
    return None if above.size == 0 else float(minutes[above[0]])


def _reason(gauge: Gauge, threshold: str, threshold_m: float, level_m: float) -> str:
    return t(
        "evacuation.trigger.river_level",
        "ja",
        station=gauge.name,
        river=gauge.river,
        level=f"{level_m:.2f}",
        threshold=t(f"evacuation.threshold.{threshold}", "ja"),
        threshold_m=f"{threshold_m:.2f}",
    )


def build(b: Any, rules: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """The evacuation tables of the demo built by ``b`` (a :class:`drills.demo_city._Builder`);
    the decisions' activity rows go to ``b.log``. ``rules``: objects with ``id``, ``kind``,
    ``level``, ``areas``, ``station``, ``threshold``, ``level_m`` (the city's rules)."""
    from .demo_city import river_stage_minute

    section = b.geo.data.get("evacuation") or {}
    code = b.city.municipality_code
    areas = _area_rows(b, section.get("areas", []), code)
    stations = _station_rows(b, section, code)
    gauges = {g.code: g for g in _gauges(section)}
    station_id = {s["code"]: s["id"] for s in stations}
    area_id = {a["code"]: a["id"] for a in areas}
    minutes = np.arange(READINGS_FROM_MIN, b.p.duration_min + 1, READING_EVERY_MIN, dtype=float)
    peak_min = river_stage_minute(0.9)
    levels = {c: g.level_at(minutes, peak_min) for c, g in gauges.items()}
    observations = [
        {
            "id": k,
            "station_id": station_id[c],
            "observed_at": b.at(m),
            "level_m": float(v),
            "source": "demo",
            "is_synthetic": True,
            "received_at": b.at(m),
        }
        for k, (c, m, v) in enumerate(
            ((c, m, v) for c in gauges for m, v in zip(minutes, levels[c], strict=True)), start=1
        )
    ]
    decisions = []
    for order, rule in enumerate(rules):
        gauge = gauges.get(rule.station or "")
        if rule.kind != "river_level" or gauge is None:
            continue
        threshold_m = rule.level_m if rule.level_m is not None else gauge.thresholds[rule.threshold]
        reached = _trigger_minute(minutes, levels[gauge.code], threshold_m)
        if reached is None or reached + DECISION_DELAY_MIN > b.p.duration_min:
            continue
        decisions.append((reached + DECISION_DELAY_MIN, order, reached, rule, gauge, threshold_m))
    issuances: list[dict[str, Any]] = []
    in_force: dict[str, int] = {}
    for minute, _, reached, rule, gauge, threshold_m in sorted(decisions, key=lambda d: d[:2]):
        level_m = float(levels[gauge.code][minutes == reached][0])
        key = f"{b.key_prefix}:evacuation:{rule.id}"
        trigger = {
            "kind": "river_level",
            "station": gauge.code,
            "station_name": gauge.name,
            "river": gauge.river,
            "threshold": rule.threshold,
            "threshold_m": threshold_m,
            "level_m": level_m,
            "triggered_at": b.at(reached).isoformat(),
            "rules": [rule.id],
        }
        reason = _reason(gauge, rule.threshold, threshold_m, level_m)
        changed = [
            a for a in sorted(rule.areas) if a in area_id and in_force.get(a, 0) < rule.level
        ]
        if not changed:
            continue
        previous = {a: in_force.get(a) for a in changed}
        for a in changed:
            issuances.append(
                {
                    "id": len(issuances) + 1,
                    "idempotency_key": f"{key}:{area_id[a]}",
                    "decision_key": key,
                    "incident_id": b.incident_id,
                    "area_id": area_id[a],
                    "action": "issue",
                    "level": rule.level,
                    "previous_level": previous[a],
                    "lifts_id": None,
                    "issued_at": b.at(minute),
                    "issued_by": ACTOR,
                    "reason": reason,
                    "trigger": trigger,
                    "is_exercise": True,
                }
            )
            in_force[a] = rule.level
        b.log(
            minute,
            ACTOR,
            "evacuation_issued",
            "evacuation_decision",
            key,
            {
                "level": rule.level,
                "areas": changed,
                "previous_levels": previous,
                "lifts": [],
                "unchanged": [a for a in sorted(rule.areas) if a not in changed],
                "reason": reason,
                "trigger": trigger,
                "exercise": True,
            },
        )
    return {
        "evacuation_areas": areas,
        "river_stations": stations,
        "water_level_observations": observations,
        "evacuation_issuances": issuances,
    }
