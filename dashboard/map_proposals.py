"""The HQ map's layer of the rules' pending proposals (issue 17): each area for which the
city's rules propose a level higher than the one in force, outlined in dashes of the proposed
level's colour (:mod:`bosai.palette`, ``evacuation.level3``–``5``) — distinct in grey-scale from
the solid outline and tint of the level in force (:mod:`dashboard.map_evacuation`) — with a
plain-text tooltip: area, proposed level, the level now, the reason and the minutes since the
trigger (Japan time). The proposals are the decision board's own
(:func:`dashboard.evacuation_state.pending_proposals`); nothing is issued here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from sqlalchemy.engine import Engine

from analytics.evacuation_rules import Proposal
from bosai.jpdate import format_datetime
from bosai.palette import rgba
from sql.city_config import CityConfig
from sql.incident_clock import incident_clock
from sql.queries import evacuation as evq

from .context import PageContext
from .evacuation_panels import level_name, trigger_text
from .evacuation_state import pending_proposals
from .map_deck import area_layer, line_layer

LAYER_PROPOSALS = "evacuation-proposals"
LAYER_PROPOSAL_AREAS = "evacuation-proposal-areas"
#: The legend's key of this layer (label ``hqmap.layer.proposals``).
LEGEND_KEY = "proposals"
#: Dash and gap along the outline, in metres on the ground; dash width in pixels.
DASH_M = 160.0
GAP_M = 110.0
DASH_PX = 6
#: The area itself is nearly clear (it only carries the tooltip; deck.gl does not pick a
#: fully transparent fill).
PICK_ALPHA = 8
COORD_DECIMALS = 5
#: Metres per degree of latitude (mean); of longitude, times cos(latitude).
M_PER_DEG = 111_320.0


@dataclasses.dataclass(frozen=True)
class Pending:
    """The rules' proposals at the incident's "now", with the areas they name."""

    now: dt.datetime
    areas: pd.DataFrame
    proposals: list[Proposal]
    #: In a drill: the tooltips say so, as the layer of the levels in force does.
    exercise: bool = False


def pending(
    engine: Engine, incident_id: int | None, city: CityConfig, *, exercise: bool = False
) -> Pending:
    """The proposals the decision board lists for ``incident_id`` (none without one)."""
    now = incident_clock(engine, incident_id)
    if incident_id is None:
        return Pending(now, pd.DataFrame(), [], exercise)
    areas = evq.areas_frame(engine, city.municipality_code)
    in_force = evq.in_force(engine, incident_id)
    proposals, _problems = pending_proposals(engine, incident_id, city, now, areas, in_force)
    return Pending(now, areas, proposals, exercise)


def minutes_since(now: dt.datetime, at: dt.datetime | None) -> int | None:
    """Whole minutes from the trigger to ``now`` (never negative)."""
    if at is None:
        return None
    return max(int((now - at).total_seconds() // 60), 0)


def dashes(ring: np.ndarray, dash_m: float = DASH_M, gap_m: float = GAP_M) -> list[list]:
    """The ring (lon, lat) cut into dashes of ``dash_m`` metres every ``dash_m + gap_m``
    (measured on a local flat projection; a ring shorter than one dash is one dash)."""
    lat0 = float(np.mean(ring[:, 1]))
    scale = np.array([M_PER_DEG * np.cos(np.radians(lat0)), M_PER_DEG])
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*(np.diff(ring, axis=0) * scale).T))])
    starts = np.arange(0.0, max(along[-1], 1e-9), dash_m + gap_m)
    ends = np.minimum(starts + dash_m, along[-1])
    first = np.column_stack([np.interp(starts, along, ring[:, i]) for i in (0, 1)])
    last = np.column_stack([np.interp(ends, along, ring[:, i]) for i in (0, 1)])
    # the ring's own corners inside each dash
    inner_from = np.searchsorted(along, starts, side="right")
    inner_to = np.searchsorted(along, ends, side="left")
    return [
        np.round(
            np.vstack([first[k], ring[inner_from[k] : inner_to[k], :2], last[k]]), COORD_DECIMALS
        ).tolist()
        for k in range(len(starts))
    ]


def _tooltip(ctx: PageContext, name: str, proposal: Proposal, now: dt.datetime) -> str:
    minutes = minutes_since(now, proposal.triggered_at)
    return ctx.t(
        "hqmap.proposal_tip",
        area=name,
        level=level_name(ctx, proposal.level),
        current=level_name(ctx, proposal.current_level),
        reason=trigger_text(ctx, proposal.trigger),
        at=format_datetime(proposal.triggered_at, ctx.lang),
        minutes="—" if minutes is None else minutes,
    )


def proposal_records(ctx: PageContext, state: Pending) -> tuple[list[dict], list[dict]]:
    """(area records, dash records) of the proposals, higher proposed levels last."""
    by_code = {row.code: row for row in state.areas.itertuples(index=False)}
    areas: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for proposal in sorted(state.proposals, key=lambda p: p.level):
        row = by_code.get(proposal.area)
        if row is None:
            continue
        name = (
            row.name_en
            if ctx.lang == "en" and isinstance(row.name_en, str) and row.name_en
            else row.name_ja
        )
        tip = _tooltip(ctx, name, proposal, state.now)
        if state.exercise:
            tip = f"{ctx.t('evacuation.page.exercise')}: {tip}"
        meaning = f"evacuation.level{proposal.level}"
        geometry = shapely.from_wkb(row.geom_wkb)
        parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
        for part in parts:
            ring = np.asarray(part.exterior.coords)[:, :2]
            areas.append(
                {
                    "polygon": np.round(ring, COORD_DECIMALS).tolist(),
                    "fc": rgba(meaning, PICK_ALPHA),
                    "area": proposal.area,
                    "level": proposal.level,
                    "t": tip,
                }
            )
            lines += [
                {"path": d, "lc": rgba(meaning, 255), "level": proposal.level, "t": tip}
                for d in dashes(ring)
            ]
    return areas, lines


def proposal_layers(ctx: PageContext, state: Pending) -> list[pdk.Layer]:
    areas, lines = proposal_records(ctx, state)
    if not areas:
        return []
    return [
        area_layer(LAYER_PROPOSAL_AREAS, areas, fill="fc", pickable=True),
        line_layer(
            LAYER_PROPOSALS, lines, colour="lc", width=DASH_PX, rounded=False, pickable=True
        ),
    ]
