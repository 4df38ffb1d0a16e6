"""Writes of the city OS's live drills: a drill and its own incident started and ended, and what
a drill wrote (the player's report). The drill's events themselves arrive with a sync
(:func:`sql.cityos_store.apply_sync`).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .models import (
    Drill,
    DrillEvent,
    Incident,
    LocationFix,
    RescueRequest,
    SourceHealth,
    StatusReport,
)


def start_drill(
    engine: Engine,
    *,
    external_id: str,
    name_ja: str,
    name_en: str,
    scenario: str,
    hazard: str | None,
    seed: int | None,
    speed: float,
    started_at: dt.datetime,
    municipality_code: str | None = None,
) -> tuple[int, int]:
    """Create the drill and its own incident (kind ``drill``); returns (drill id, incident id).

    A drill's status reports, fixes and rescue requests belong to this incident only, so they
    never mix with a real incident's picture.
    """
    with engine.begin() as conn:
        incident_id = conn.execute(
            sa.insert(Incident.__table__)
            .values(
                external_id=f"{external_id}:incident",
                kind="drill",
                name_ja=name_ja,
                name_en=name_en,
                hazard=hazard,
                municipality_code=municipality_code,
                declared_at=started_at,
                emergency_mode=True,
                declared_by="drill",
                is_synthetic=True,
                notes=f"Live drill of scenario {scenario!r} through the city OS.",
            )
            .returning(Incident.id)
        ).scalar_one()
        drill_id = conn.execute(
            sa.insert(Drill.__table__)
            .values(
                external_id=external_id,
                incident_id=incident_id,
                name=name_ja,
                scenario=scenario,
                seed=seed,
                speed=speed,
                started_at=started_at,
                is_synthetic=True,
            )
            .returning(Drill.id)
        ).scalar_one()
    return drill_id, incident_id


def end_drill(
    engine: Engine, drill_id: int, ended_at: dt.datetime, feed_source: str | None = None
) -> None:
    """End the drill and its incident; forget the drill's own feed cursor (``feed_source``)."""
    with engine.begin() as conn:
        if feed_source:
            conn.execute(
                sa.delete(SourceHealth.__table__).where(SourceHealth.source == feed_source)
            )
        incident_id = conn.execute(
            sa.select(Drill.incident_id).where(Drill.id == drill_id)
        ).scalar()
        conn.execute(
            sa.update(Drill.__table__).where(Drill.id == drill_id).values(ended_at=ended_at)
        )
        if incident_id is not None:
            conn.execute(
                sa.update(Incident.__table__)
                .where(Incident.id == incident_id)
                .values(ended_at=ended_at, ended_by="drill", emergency_mode=False)
            )


def drill_counts(engine: Engine, drill_id: int) -> dict[str, int]:
    """Rows a drill wrote, per table and per drill-event type."""
    with engine.connect() as conn:
        incident_id = conn.execute(
            sa.select(Drill.incident_id).where(Drill.id == drill_id)
        ).scalar()

        def count(model, *where) -> int:
            return conn.execute(
                sa.select(sa.func.count()).select_from(model).where(*where)
            ).scalar_one()

        out = {
            "status_reports": count(StatusReport, StatusReport.incident_id == incident_id),
            "location_fixes": count(LocationFix, LocationFix.incident_id == incident_id),
            "rescue_requests": count(RescueRequest, RescueRequest.incident_id == incident_id),
        }
        for kind, n in conn.execute(
            sa.select(DrillEvent.event_type, sa.func.count())
            .where(DrillEvent.drill_id == drill_id)
            .group_by(DrillEvent.event_type)
        ):
            out[f"drill_events.{kind}"] = n
    return out
