"""The decision board's picture without Streamlit: issuance areas, what is in force, the
rules' proposals with their reason and time since the trigger, and what an issuance would
cover per area (used by the page, and by tests without a browser).

Proposals come from the city's rules (:func:`sql.city_config.evacuation_rules_path`) evaluated
by :func:`analytics.evacuation_rules.evaluate` on the stations' readings of the last
:data:`WINDOW` before the incident's "now" and the JMA triggers (土砂災害警戒情報,
指定河川洪水予報) in force then; nothing is issued here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.evacuation_rules import (
    Proposal,
    Thresholds,
    active_triggers,
    evaluate,
    parse_rules,
)
from bosai.errors import InvalidInputError
from reports.evacuation_parts import CityCounts, city_counts
from sql import policy
from sql.city_config import CityConfig, evacuation_rules_path
from sql.incident_clock import incident_clock
from sql.queries import evacuation as evq
from sql.viewer import Viewer

#: How far back the rules look at the water levels.
WINDOW = dt.timedelta(hours=12)


@dataclasses.dataclass(frozen=True)
class BoardState:
    now: dt.datetime
    #: id, code, kind, name_ja, name_en, geom_wkb, the city's residents/households/
    #: counts_source … one row per area.
    areas: pd.DataFrame
    #: area id → what is in force there.
    in_force: dict[int, evq.InForce]
    proposals: list[Proposal]
    #: area id → people, households, register_people, shelters.
    coverage: pd.DataFrame
    #: Problems of the city's rules file (shown, never fatal).
    rules_problems: tuple[str, ...] = ()

    @property
    def code_to_id(self) -> dict[str, int]:
        return dict(zip(self.areas["code"], self.areas["id"].astype(int), strict=True))

    def covered(self, area_ids: list[int]) -> dict[str, int]:
        """The total an issuance for ``area_ids`` would cover (areas may overlap: a person
        counted once per area is the board's documented simplification)."""
        chosen = self.coverage[self.coverage["area_id"].isin(area_ids)]
        shelters = {s for ids in chosen["shelter_ids"] for s in ids}
        near = {s for ids in chosen["near_shelter_ids"] for s in ids} - shelters
        return {
            "areas": len(chosen),
            "people": int(chosen["people"].sum()),
            "households": int(chosen["households"].sum()),
            "register_people": int(chosen["register_people"].sum()),
            "shelters": len(shelters),
            "shelters_near": len(near),
        }

    def city_counts(self, area_ids: list[int]) -> CityCounts | None:
        """All residents and households of ``area_ids`` by the city's counts (None when the
        city gave none for them)."""
        return city_counts(self.areas, area_ids)


def _rules(city: CityConfig) -> tuple[list[Any], tuple[str, ...]]:
    path = evacuation_rules_path(city.municipality_code)
    if not path.is_file():
        return [], ()
    try:
        return parse_rules(path.read_text(encoding="utf-8"), path.name), ()
    except InvalidInputError as exc:
        return [], tuple(exc.problems or [str(exc)])


def pending_proposals(
    engine: Engine,
    incident_id: int | None,
    city: CityConfig,
    now: dt.datetime,
    areas: pd.DataFrame,
    in_force: dict[int, evq.InForce],
) -> tuple[list[Proposal], tuple[str, ...]]:
    """The rules' proposals at ``now`` (levels higher than those in force, for known areas)
    and the problems of the rules file — what the board lists and the HQ map draws."""
    rules, problems = _rules(city)
    proposals: list[Proposal] = []
    if rules and len(areas) and incident_id is not None:
        stations = evq.stations_frame(engine, city.municipality_code)
        thresholds = {
            row.code: Thresholds(
                row.standby_m,
                row.caution_m,
                row.judgement_m,
                row.danger_m,
                row.name_ja,
                row.river_ja or "",
            )
            for row in stations.itertuples()
        }
        observations = evq.recent_observations(engine, now - WINDOW, now, incident_id)
        by_id = dict(zip(areas["id"].astype(int), areas["code"], strict=True))
        levels = {by_id[a]: f.level for a, f in in_force.items() if a in by_id}
        active = active_triggers(evq.trigger_rows(engine, now, incident_id))
        proposals = evaluate(rules, thresholds, observations, active, levels)
        known = set(areas["code"])
        proposals = [p for p in proposals if p.area in known]
    return proposals, problems


def build_board(
    engine: Engine, viewer: Viewer, incident_id: int | None, city: CityConfig
) -> BoardState:
    now = incident_clock(engine, incident_id)
    areas = evq.areas_frame(engine, city.municipality_code)
    in_force = evq.in_force(engine, incident_id)
    proposals, problems = pending_proposals(engine, incident_id, city, now, areas, in_force)
    coverage = (
        policy.evacuation_coverage(
            engine, viewer, dict(zip(areas["id"].astype(int), areas["geom_wkb"], strict=True))
        )
        if len(areas)
        else pd.DataFrame(columns=policy.COVERAGE_COLUMNS)
    )
    return BoardState(now, areas, in_force, proposals, coverage, problems)


def areas_in_force(
    engine: Engine, incident_id: int | None, city: CityConfig, as_of: dt.datetime | None = None
) -> tuple[pd.DataFrame, dict[int, evq.InForce]]:
    """The areas and the levels in force (at ``as_of``, for the replay), for the map's layer
    (aggregate, public)."""
    in_force = evq.in_force(engine, incident_id, as_of)
    if not in_force:
        return pd.DataFrame(), {}
    return evq.areas_frame(engine, city.municipality_code), in_force


def in_force_by_level(
    engine: Engine, incident_id: int | None, city: CityConfig, lang: str = "ja"
) -> dict[int, list[str]]:
    """Level → names of the areas where it is in force (highest level first; public)."""
    areas, in_force = areas_in_force(engine, incident_id, city)
    if not in_force:
        return {}
    names = {}
    for row in areas.itertuples(index=False):
        en = row.name_en if isinstance(row.name_en, str) and row.name_en else None
        names[int(row.id)] = en if lang == "en" and en else row.name_ja
    out: dict[int, list[str]] = {}
    for area_id, found in in_force.items():
        out.setdefault(found.level, []).append(names.get(area_id, str(area_id)))
    return {level: sorted(out[level]) for level in sorted(out, reverse=True)}
