"""The aggregates of an incident for the council report, computed and not yet formatted.

:func:`incident_figures` reads the incident through ``sql.queries`` (aggregates and
pseudonymous rows for counting), computes with ``analytics`` and takes the HQ picture at the
end of the period (:func:`compositions.hq_map_state.build_hq_state`, council role) for the map's
H3 cells and the shelter board.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics import occupancy_curve, response_times, status_timeline
from analytics.safety_rates import rates
from sql.city_config import CityConfig
from sql.queries import hazards, report_figures
from sql.queries.incidents import IncidentSummary, incident_timeline
from sql.queries.safety import incident_reference_date, safety_counts
from sql.viewer import Viewer

from .parts import report_viewer

#: Moments of the status curve (its appendix table lists every fourth).
CURVE_STEPS = 48
#: H3 resolution of the map of cells (about 0.7 km² a cell).
MAP_RESOLUTION = 8


@dataclasses.dataclass
class IncidentFigures:
    """Every aggregate of an incident the report shows (computed, not yet formatted)."""

    incident: IncidentSummary
    start: dt.datetime
    end: dt.datetime
    citizens: int
    status_curve: pd.DataFrame
    evacuated: int
    reached: dict[str, int]
    notifications: pd.DataFrame
    rescue: pd.DataFrame
    rescue_summary: pd.DataFrame
    rescue_per_hour: pd.DataFrame
    occupancy: pd.DataFrame
    occupancy_curve: pd.DataFrame
    peak: dict[str, Any]
    shelters: pd.DataFrame  # used shelters with their peaks
    shelters_used: int
    register_total: int
    register_curve: pd.DataFrame
    districts: pd.DataFrame
    cells: pd.DataFrame
    warnings: pd.DataFrame

    @property
    def final(self) -> dict[str, int]:
        if self.status_curve.empty:
            return {}
        return {k: int(v) for k, v in self.status_curve.iloc[-1].drop("at").items()}

    @property
    def register_final(self) -> dict[str, int]:
        if self.register_curve.empty:
            return {}
        return {k: int(v) for k, v in self.register_curve.iloc[-1].drop("at").items()}


def incident_figures(
    engine: Engine, incident: IncidentSummary, city: CityConfig, viewer: Viewer
) -> IncidentFigures:
    """Read and compute the aggregates of ``incident`` over its whole period."""
    from compositions.hq_map_state import HqMapCache, build_hq_state

    timeline = incident_timeline(engine, incident.id)
    start, end = timeline["start"], timeline["end"]
    citizens = report_figures.citizen_total(engine)
    reports = report_figures.status_reports(engine, incident.id, until=end)
    moments = status_timeline.evenly_spaced(start, end, CURVE_STEPS)
    curve = status_timeline.status_over_time(reports, moments, citizens)
    register = report_figures.register_ids(engine)
    register_reports = reports[reports["citizen_id"].isin(register)]
    register_curve = status_timeline.status_over_time(register_reports, moments, len(register))

    rescue = report_figures.rescue_timeline(engine, incident.id)
    occupancy = report_figures.occupancy_observations(engine, incident.id)
    periods = report_figures.open_periods(engine, incident.id)
    occ_curve = occupancy_curve.total_curve(occupancy, periods)

    state = build_hq_state(
        engine,
        HqMapCache(),
        report_viewer(viewer),
        incident.id,
        city,
        resolution=MAP_RESOLUTION,
        as_of=end,
        now=end,
    )
    board = state.shelters
    peaks = occupancy_curve.shelter_peaks(occupancy)
    used_ids = set(periods["shelter_id"].astype(int)) | set(
        occupancy.loc[occupancy["head_count"] > 0, "shelter_id"].astype(int)
    )
    shelters = (
        board[board["id"].isin(used_ids)][
            ["id", "name", "district", "capacity", "lat", "lon", "source", "is_synthetic"]
        ]
        .merge(peaks, left_on="id", right_on="shelter_id", how="left")
        .drop(columns="shelter_id")
    )
    capacity = pd.to_numeric(shelters["capacity"], errors="coerce")
    shelters["peak_rate"] = pd.to_numeric(shelters["peak"], errors="coerce") / capacity.where(
        capacity > 0
    )
    shelters = shelters.sort_values(["peak", "name"], ascending=[False, True], na_position="last")

    reference = incident_reference_date(engine, incident.id, city.timezone)
    districts = rates(safety_counts(engine, incident.id, reference), ["district"])
    area_codes = tuple(code for _, code in city.jma_area_codes)
    warnings = hazards.warning_history(engine, area_codes, as_of=end)
    if not warnings.empty:
        times = pd.to_datetime(warnings["report_time"], utc=True)
        warnings = warnings[times >= pd.Timestamp(start) - pd.Timedelta(days=1)]
    return IncidentFigures(
        incident=incident,
        start=start,
        end=end,
        citizens=citizens,
        status_curve=curve,
        evacuated=status_timeline.ever_in_states(reports, ("evacuating", "at_shelter")),
        reached=report_figures.people_reached(engine, incident.id, until=end),
        notifications=report_figures.notification_reach(engine, incident.id, until=end),
        rescue=rescue,
        rescue_summary=response_times.response_summary(rescue, until=end),
        rescue_per_hour=response_times.requests_per_period(rescue, "1h"),
        occupancy=occupancy,
        occupancy_curve=occ_curve,
        peak=occupancy_curve.peak(occ_curve),
        shelters=shelters.reset_index(drop=True),
        shelters_used=occupancy_curve.shelters_used(occupancy, periods),
        register_total=len(register),
        register_curve=register_curve,
        districts=districts,
        cells=state.cells,
        warnings=warnings.reset_index(drop=True),
    )
