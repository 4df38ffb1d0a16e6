"""The research workbench's row-level work, without Streamlit: a drill's time-to-safe models
(Turnbull, Kaplan–Meier, Cox) and the de-identified microdata export — used by the drill page,
the microdata page and ``bosai analyze drill`` / ``bosai export microdata`` alike.

Rows come only through ``sql.policy`` (``research_attributes``, ``microdata_export``) and the
pseudonymised research reads (``sql.queries.research.drill_events``); what leaves here is
aggregates (:func:`drill_time_to_safe`) or the k-anonymous export with its files
(:func:`microdata_files`).
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


def microdata_files(
    engine: Engine,
    viewer: Viewer,
    *,
    purpose: str,
    requester: str,
    drill_id: int | None,
    incident_id: int | None = None,
    tables: tuple[str, ...] = ("drill", "consent", "status"),
    k: int = policy.MICRODATA_K,
    h3_resolution: int = policy.MICRODATA_H3_RESOLUTION,
    time_step: int = policy.MICRODATA_TIME_STEP,
    location: str = "cell",
) -> tuple[policy.MicrodataExport, dict[str, bytes], dt.datetime]:
    """Make one export (audited by the policy before it returns) and its files."""
    from reports import microdata

    export = policy.microdata_export(
        engine,
        viewer,
        purpose=purpose,
        requester=requester,
        drill_id=drill_id,
        incident_id=incident_id,
        tables=tables,
        k=k,
        h3_resolution=h3_resolution,
        time_step=time_step,
        location=location,
    )
    made_at = dt.datetime.now(dt.UTC)
    return export, microdata.files(export, made_at), made_at
