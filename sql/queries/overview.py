"""The city overview: counts by status, last update, data sources (aggregates only)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import RESCUE_OPEN_STATUSES, STATUS_STATES

from ..cityos_store import quarantined_counts
from ..models import (
    Citizen,
    CitizenLatestStatus,
    Meta,
    RescueRequest,
    Shelter,
    ShelterOperation,
    SourceHealth,
    StatusReport,
)


@dataclasses.dataclass(frozen=True)
class CityOverview:
    incident_id: int | None
    citizens: int
    #: Citizens per latest status state; ``no_report`` for citizens without any report.
    by_status: dict[str, int]
    last_report_at: dt.datetime | None
    last_received_at: dt.datetime | None
    shelters: int
    shelters_open: int
    rescue_open: int
    demo: dict[str, Any] | None
    sources: list[dict[str, Any]]

    @property
    def reported(self) -> int:
        return self.citizens - self.by_status.get("no_report", 0)


def city_overview(engine: Engine, incident_id: int | None) -> CityOverview:
    """Counts for the overview page, for one incident (or reports outside any incident)."""
    key = incident_id or 0
    latest = CitizenLatestStatus.__table__
    with engine.connect() as conn:
        citizens = conn.execute(sa.select(sa.func.count()).select_from(Citizen)).scalar_one()
        rows = conn.execute(
            sa.select(latest.c.state, sa.func.count())
            .where(latest.c.incident_key == key)
            .group_by(latest.c.state)
        ).all()
        by_status = {state: 0 for state in STATUS_STATES}
        by_status.update({state: count for state, count in rows})
        by_status["no_report"] = max(citizens - sum(count for _, count in rows), 0)
        sr = StatusReport.__table__
        cond = sr.c.incident_id == incident_id if incident_id else sr.c.incident_id.is_(None)
        last_report, last_received = conn.execute(
            sa.select(sa.func.max(sr.c.reported_at), sa.func.max(sr.c.received_at)).where(cond)
        ).one()
        shelters = conn.execute(sa.select(sa.func.count()).select_from(Shelter)).scalar_one()
        op = ShelterOperation.__table__
        open_cond = [op.c.closed_at.is_(None)]
        if incident_id:
            open_cond.append(op.c.incident_id == incident_id)
        shelters_open = conn.execute(
            sa.select(sa.func.count(sa.distinct(op.c.shelter_id))).where(*open_cond)
        ).scalar_one()
        rr = RescueRequest.__table__
        rescue_open = conn.execute(
            sa.select(sa.func.count())
            .select_from(rr)
            .where(
                rr.c.status.in_(RESCUE_OPEN_STATUSES),
                rr.c.incident_id == incident_id if incident_id else rr.c.incident_id.is_(None),
            )
        ).scalar_one()
        demo = conn.execute(sa.select(Meta.value).where(Meta.key == "demo")).scalar()
        held_back = quarantined_counts(conn)
        sources = [
            {
                "source": r.source,
                "last_success_at": r.last_success_at,
                "stale": r.stale,
                "error_kind": r.error_kind,
                "quarantined": held_back.get(r.source, 0),
            }
            for r in conn.execute(sa.select(SourceHealth).order_by(SourceHealth.source))
        ]
    # SQLite returns max() of a datetime column as text: normalise through the column type.
    last_report = _as_datetime(last_report)
    last_received = _as_datetime(last_received)
    return CityOverview(
        incident_id,
        citizens,
        by_status,
        last_report,
        last_received,
        shelters,
        shelters_open,
        rescue_open,
        demo,
        sources,
    )


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
