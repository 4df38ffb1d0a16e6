"""Read imported public data back as DataFrames, in the shape ``analytics.hazard_exposure`` takes.

Nothing here is personal data: shelters, hazard zones and JMA warnings are public. (Citizens'
positions are personal and come only through the viewer policy.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import HAZARD_KINDS

from ..models import City, HazardZone, JmaTelegram, JmaWarning, Shelter, ShelterOperation

#: Statuses under which a warning is in force (a telegram lists every warning of its areas).
IN_FORCE = frozenset(
    {"発表", "継続", "特別警報から警報", "警報から注意報", "注意報から警報", "警報から特別警報"}
)


def shelters_frame(
    engine: Engine, *, incident_id: int | None = None, municipality_code: str | None = None
) -> pd.DataFrame:
    """Shelters: id, name, lat, lon, elevation_m, capacity, the eight ``hazard_*`` flags, is_open.

    ``is_open`` is True for a shelter with an open period (``shelter_operations`` without
    ``closed_at``) — of ``incident_id`` when given, of any incident otherwise.
    """
    flags = [getattr(Shelter, f"hazard_{kind}") for kind in HAZARD_KINDS]
    open_periods = sa.select(ShelterOperation.shelter_id).where(
        ShelterOperation.closed_at.is_(None)
    )
    if incident_id is not None:
        open_periods = open_periods.where(ShelterOperation.incident_id == incident_id)
    query = sa.select(
        Shelter.id,
        Shelter.name,
        Shelter.lat,
        Shelter.lon,
        Shelter.elevation_m,
        Shelter.capacity,
        *flags,
        Shelter.id.in_(open_periods).label("is_open"),
    ).order_by(Shelter.id)
    if municipality_code is not None:
        query = query.where(Shelter.municipality_code == municipality_code)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        columns = ["id", "name", "lat", "lon", "elevation_m", "capacity"]
        return pd.DataFrame(columns=[*columns, *(f.key for f in flags), "is_open"])
    for column in [f.key for f in flags] + ["is_open"]:
        frame[column] = frame[column].astype(bool)
    return frame


def hazard_zones_frame(engine: Engine, *, kinds: list[str] | None = None):
    """Hazard zones as a GeoDataFrame (EPSG:4326): id, kind, rank_code, rank_label,
    depth_min_m, depth_max_m, phenomenon, source_dataset, geometry."""
    import geopandas
    import shapely

    query = sa.select(
        HazardZone.id,
        HazardZone.kind,
        HazardZone.rank_code,
        HazardZone.rank_label,
        HazardZone.depth_min_m,
        HazardZone.depth_max_m,
        HazardZone.phenomenon,
        HazardZone.source_dataset,
        HazardZone.geom_wkb,
    ).order_by(HazardZone.id)
    if kinds is not None:
        query = query.where(HazardZone.kind.in_(kinds))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        frame = pd.DataFrame(columns=[c.key for c in query.selected_columns])
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("geom_wkb")])
    return geopandas.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


@dataclasses.dataclass(frozen=True)
class WarningInForce:
    kind_code: str
    kind_name: str
    status: str
    area_code: str
    area_name: str | None
    report_time: dt.datetime


def warnings_in_force(engine: Engine) -> list[WarningInForce]:
    """The active city's warnings in force: those of the newest stored telegram for its area.

    Each VPWW54 telegram lists every warning of its areas, so the newest one is the state.
    """
    with engine.connect() as conn:
        city = conn.execute(
            sa.select(
                City.jma_municipality_code,
                City.jma_group_code,
                City.jma_subdivision_code,
                City.jma_prefecture_code,
            ).where(City.active.is_(True))
        ).first()
        if city is None:
            return []
        codes = [code for code in city if code]
        newest = conn.execute(
            sa.select(JmaWarning.telegram_id)
            .join(JmaTelegram, JmaTelegram.id == JmaWarning.telegram_id)
            .where(JmaWarning.area_code.in_(codes))
            .order_by(JmaTelegram.report_time.desc(), JmaTelegram.id.desc())
            .limit(1)
        ).scalar()
        if newest is None:
            return []
        found = conn.execute(
            sa.select(
                JmaWarning.kind_code,
                JmaWarning.kind_name,
                JmaWarning.status,
                JmaWarning.area_code,
                JmaWarning.area_name,
                JmaWarning.report_time,
            )
            .where(JmaWarning.telegram_id == newest, JmaWarning.area_code.in_(codes))
            .order_by(JmaWarning.kind_code)
        ).all()
    return [WarningInForce(*row) for row in found if row.status in IN_FORCE]
