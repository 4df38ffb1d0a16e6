"""A drill's time to safe as interval-censored data, without Streamlit: Turnbull beside
Kaplan–Meier and the Cox model on participant attributes — used by the drill page and
``bosai analyze drill`` alike.

Rows come only through ``sql.policy.research_attributes`` and the pseudonymised research reads
(``sql.queries.research.drill_events``); what leaves here is aggregates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from analytics.drill_models import time_to_safe
from analytics.hazards import ZoneIndex
from sql import policy
from sql.queries import hazards, research
from sql.viewer import Viewer


def zone_level_function(engine: Engine):
    """``f(lat, lon) -> level`` of each point's worst hazard zone (0: none), or None when the
    city has no zones."""
    zones = hazards.hazard_zones(engine)
    if zones.empty:
        return None
    index = ZoneIndex(zones)

    def level(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        rows = index.worst_zone(lat, lon)
        return np.where(rows >= 0, index.levels[np.maximum(rows, 0)], 0.0)

    return level


def drill_time_to_safe(
    engine: Engine, viewer: Viewer, drill_id: int, event: str = "arrived"
) -> dict[str, Any]:
    """Turnbull beside Kaplan–Meier and the Cox model of one drill's time to safe
    (:func:`analytics.drill_models.time_to_safe`); aggregates only."""
    drill = research.drill(engine, drill_id)
    if drill is None:
        raise ValueError(f"no drill {drill_id}")
    events = research.drill_events(engine, viewer, drill["id"])
    started = drill["started_at"]
    on = (started if started.tzinfo else started.replace(tzinfo=dt.UTC)).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    attributes = policy.research_attributes(
        engine,
        viewer,
        on.date(),
        events["citizen_id"].dropna().astype(int).unique().tolist(),
        zone_level=zone_level_function(engine),
    )
    return time_to_safe(events, attributes, started, drill["ended_at"], event)
