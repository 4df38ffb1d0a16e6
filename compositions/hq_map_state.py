"""The headquarters' picture at one moment: KPIs and map layers, built without Streamlit.

:func:`build_hq_state` composes named queries (``sql``) and pure computations (``analytics``)
into an :class:`HqState` — what the HQ map page and the replay page draw, what the benchmark
measures. :class:`HqMapCache` keeps what rarely changes (home points on H3 cells, hazard-zone
polygons) and each incident's live status, updated incrementally; the page holds one per
database in ``st.cache_resource``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Engine

from analytics import shelter_status
from analytics.hazard_exposure import classify_citizens
from analytics.hazards import ZoneIndex, hazards_for_warnings
from analytics.status_cells import (
    NO_REPORT,
    SAFE,
    STATE_INDEX,
    STATES,
    LiveStatus,
    StatusGrid,
    unconfirmed_colour,
)
from analytics.triage import minutes_waiting, triage_scores
from bosai.palette import rgba
from sql import policy
from sql.city_config import CityConfig
from sql.queries import hazards, rescue, shelter_board, status_snapshot
from sql.queries.incidents import incident_clock
from sql.viewer import Viewer

#: Hazard-zone fills: the palette's pale tints, translucent over the map.
ZONE_ALPHA = 110
KNOWN_ZONE_KINDS = ("flood", "inland_flood", "landslide", "storm_surge", "tsunami")
#: Polygon simplification for the browser (degrees; about 10 m).
ZONE_TOLERANCE = 0.0001
COORD_DECIMALS = 5


# ------------------------------------------------------------------ cache


@dataclasses.dataclass
class _Zones:
    fingerprint: Any
    frame: pd.DataFrame
    index: ZoneIndex
    shapes: list[dict[str, Any]]


class HqMapCache:
    """Per-database memory of the HQ map: grid of home points, zones, live status per incident.

    Home points are checked cheaply (count, highest id) at most every :attr:`QUICK_EVERY`
    seconds — once per map build; a count over 1.2 M citizens takes ~55 ms on PostgreSQL — and
    thoroughly (id sum, newest update) every :attr:`THOROUGH_EVERY` seconds. Live status is read incrementally:
    only citizens who sent a report since the last read; a count check catches removals
    (retention, withdrawn consent) and falls back to a full read.
    """

    THOROUGH_EVERY = 60.0
    QUICK_EVERY = 2.0

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._grid: tuple[Any, StatusGrid] | None = None
        self._grid_checked = 0.0
        self._quick_checked = 0.0
        self._citizens = 0
        self._live: dict[int, _Live] = {}
        self._zones: _Zones | None = None
        self._nearest: tuple[Any, pd.DataFrame] | None = None

    def grid(self, engine: Engine) -> StatusGrid:
        with self._lock:
            now = time.monotonic()
            thorough = now - self._grid_checked > self.THOROUGH_EVERY
            if (
                self._grid is not None
                and not thorough
                and now - self._quick_checked < self.QUICK_EVERY
            ):
                return self._grid[1]
            fingerprint = status_snapshot.citizens_fingerprint(engine, thorough=thorough)
            self._quick_checked, self._citizens = now, fingerprint.rows
            known = self._grid[0] if self._grid else None
            same = known is not None and (
                known == fingerprint
                if thorough
                else (known.rows, known.max_key) == (fingerprint.rows, fingerprint.max_key)
            )
            if not same:
                points = status_snapshot.home_points(engine)
                self._grid = (points.fingerprint, StatusGrid(points.ids, points.lat, points.lon))
                self._live.clear()
                thorough = True
            if thorough:
                self._grid_checked = time.monotonic()
            assert self._grid is not None
            return self._grid[1]

    def citizens(self, engine: Engine) -> int:
        """How many citizens there are (all, with or without a home point), as last checked."""
        with self._lock:
            self.grid(engine)
            return self._citizens

    def live_states(
        self, engine: Engine, incident_id: int | None
    ) -> tuple[np.ndarray, status_snapshot.FeedPosition]:
        """Current state code per grid citizen, and the feed position it reflects."""
        with self._lock:
            grid = self.grid(engine)
            key = incident_id or 0
            feed = status_snapshot.feed_position(engine, incident_id)
            live = self._live.get(key)
            if live is not None and feed.top_report_id >= live.top:
                if feed.top_report_id > live.top:
                    live.apply(status_snapshot.latest_states(engine, incident_id, live.top))
                    live.top = feed.top_report_id
                if live.rows() != feed.latest_rows:
                    live = None  # something was removed or rebuilt: read everything again
            if live is None:
                live = _Live(LiveStatus(grid), feed.top_report_id)
                live.apply(status_snapshot.latest_states(engine, incident_id))
                self._live[key] = live
            return live.status.states.copy(), feed

    def nearest_shelters(
        self, engine: Engine, shelters: pd.DataFrame, warning_codes: tuple[str, ...]
    ) -> pd.DataFrame:
        """Each home point's hazard zone and nearest suitable open shelter
        (:func:`analytics.hazard_exposure.classify_citizens`), cached until the citizens,
        the zones, the open shelters or the warnings change."""
        grid = self.grid(engine)
        zones = self.zones(engine)
        open_ids = tuple(int(i) for i in shelters.loc[shelters["is_open"], "id"])
        key = (id(grid), zones.fingerprint, open_ids, tuple(sorted(warning_codes)))
        with self._lock:
            if self._nearest is not None and self._nearest[0] == key:
                return self._nearest[1]
        citizens = pd.DataFrame({"id": grid.ids, "lat": grid.lat, "lon": grid.lon})
        result = classify_citizens(citizens, shelters, zones.index, warning_codes)
        with self._lock:
            self._nearest = (key, result)
        return result

    def zones(self, engine: Engine) -> _Zones:
        fingerprint = hazards.zones_fingerprint(engine)
        with self._lock:
            if self._zones is None or self._zones.fingerprint != fingerprint:
                frame = hazards.hazard_zones(engine)
                self._zones = _Zones(fingerprint, frame, ZoneIndex(frame), _zone_shapes(frame))
            return self._zones


class _Live:
    """One incident's live status, plus the reported citizens that have no home point."""

    def __init__(self, status: LiveStatus, top: int):
        self.status = status
        self.top = top
        self.homeless: set[int] = set()

    def apply(self, rows: status_snapshot.StateRows) -> None:
        self.status.apply(rows.citizen_ids, rows.states, rows.report_ids)
        outside = self.status.grid.index_of(rows.citizen_ids) < 0
        self.homeless.update(int(i) for i in rows.citizen_ids[outside])

    def rows(self) -> int:
        return int(np.count_nonzero(self.status.states != NO_REPORT)) + len(self.homeless)


def _zone_shapes(frame: pd.DataFrame) -> list[dict[str, Any]]:
    shapes = []
    if frame.empty:
        return shapes
    geoms = shapely.from_wkb(frame["geom_wkb"].to_numpy())
    simplified = shapely.simplify(geoms, ZONE_TOLERANCE, preserve_topology=True)
    for row, geom in zip(frame.itertuples(index=False), simplified, strict=True):
        polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        for poly in polygons:
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            ring = np.round(np.asarray(poly.exterior.coords)[:, :2], COORD_DECIMALS).tolist()
            shapes.append(
                {
                    "polygon": ring,
                    "kind": row.kind,
                    "c": rgba(
                        f"zone.{row.kind if row.kind in KNOWN_ZONE_KINDS else 'flood'}",
                        ZONE_ALPHA,
                    ),
                    "label": row.rank_label or row.name or row.kind,
                    "depth": row.depth_max_m,
                    "zone_id": int(row.id),
                }
            )
    return shapes


# ------------------------------------------------------------------ state


def score_requests(requests: pd.DataFrame, zones: ZoneIndex, now: dt.datetime) -> pd.DataFrame:
    """Add ``flood_depth_m`` (at the request's place; empty where the position is hidden),
    ``minutes_waiting`` and the triage ``score``."""
    out = requests.copy()
    if out.empty:
        for column in ("flood_depth_m", "minutes_waiting", "score"):
            out[column] = pd.Series(dtype=float)
        return out
    hidden = out["lat"].isna() | out["lon"].isna()
    out["flood_depth_m"] = zones.flood_depth(
        out["lat"].fillna(0).to_numpy(float), out["lon"].fillna(0).to_numpy(float)
    )
    out.loc[hidden, "flood_depth_m"] = np.nan
    out["minutes_waiting"] = minutes_waiting(out["requested_at"], now).round(0)
    out["score"] = triage_scores(out, now)
    return out


@dataclasses.dataclass
class HqState:
    at: dt.datetime | None
    kpis: dict[str, Any]
    cells: pd.DataFrame
    resolution: int
    zone_shapes: list[dict[str, Any]]
    shelters: pd.DataFrame
    rescue: pd.DataFrame
    register: pd.DataFrame
    warnings: pd.DataFrame
    hazards: tuple[str, ...]
    newest_report_at: dt.datetime | None
    shows_positions: bool
    shows_register: bool
    #: State code per home point of the grid (see analytics.status_cells).
    states: np.ndarray = dataclasses.field(repr=False, default_factory=lambda: np.empty(0))
    #: Where the hazard zones drawn come from (``source_dataset``: A31, A33, demo, …).
    zone_sources: tuple[str, ...] = ()


def build_hq_state(
    engine: Engine,
    cache: HqMapCache,
    viewer: Viewer,
    incident_id: int | None,
    city: CityConfig,
    *,
    resolution: int = 8,
    as_of: dt.datetime | None = None,
    now: dt.datetime | None = None,
    read_engine: Engine | None = None,
) -> HqState:
    """Everything the HQ map shows, for the viewer, live (``as_of`` None) or at a past moment.

    Aggregates (cells, KPIs, boards, warnings) are read through ``read_engine`` (a streaming
    replica, when given); the mode and everything personal through ``engine`` (the primary:
    the policy appends to the audit chain)."""
    reads = read_engine or engine
    now = now or incident_clock(reads, incident_id)
    grid = cache.grid(reads)
    newest = as_of
    if as_of is None:
        states, feed = cache.live_states(reads, incident_id)
        newest = feed.newest_received_at
    else:
        rows = status_snapshot.states_as_of(reads, incident_id, as_of)
        replay = LiveStatus(grid)
        replay.apply(rows.citizen_ids, rows.states)
        states = replay.states
    cells = grid.aggregate(states, resolution)
    cells["c"] = [unconfirmed_colour(s, 100) for s in cells["share_unconfirmed"]]
    zones = cache.zones(reads)

    area_codes = tuple(code for _, code in city.jma_area_codes)
    # No incident or drill in force: synthetic telegrams (the demo's, a drill's) are over too.
    in_force = hazards.warnings_in_force(
        reads, area_codes, as_of, synthetic=incident_id is not None
    )
    active_hazards = hazards_for_warnings(in_force["kind_code"].tolist())
    thresholds = tuple(city.setting("congestion_thresholds", shelter_status.DEFAULT_THRESHOLDS))
    shelters = shelter_status.board(
        shelter_board.shelter_board(reads, incident_id, as_of),
        active_hazards,
        zones.index,
        thresholds,
        city.setting("flood_low_elevation_m"),
    )

    mode = policy.mode_of(engine, incident_id)
    scoped = viewer.for_incident(incident_id)
    rescue_rows = pd.DataFrame(columns=list(policy.RESCUE_COLUMNS))
    if policy.may_see_rescue_requests(viewer):
        rescue_rows = policy.rescue_requests(
            engine, scoped, incident_id, open_only=True, as_of=as_of, fields="map"
        )
        rescue_rows = score_requests(rescue_rows, zones.index, as_of or now)
    register_ids = status_snapshot.register_member_ids(reads)
    reg_pos = grid.index_of(register_ids)
    reg_states = np.where(reg_pos >= 0, states[np.maximum(reg_pos, 0)], NO_REPORT)
    register_rows = pd.DataFrame()
    shows_register = policy.may_see_register(viewer) and mode.emergency
    if shows_register:
        # The register people not known safe (live, or then in a replay) who have a home point
        # to draw; the policy decides which of them this viewer may see, and audits it.
        drawable = register_ids[(reg_pos >= 0) & ~np.isin(reg_states, SAFE)]
        shown = policy.register_map_points(engine, scoped, incident_id, drawable)
        pos = grid.index_of(shown)
        register_rows = pd.DataFrame(
            {
                "citizen_id": shown,
                "lat": grid.lat[pos],
                "lon": grid.lon[pos],
                "state": [STATES[code] if code >= 0 else None for code in states[pos]],
            }
        )

    counts = {s: int(np.count_nonzero(states == i)) for s, i in STATE_INDEX.items()}
    citizens = cache.citizens(reads)
    confirmed = int(np.count_nonzero(np.isin(states, SAFE)))
    open_rescue = rescue.open_by_priority(reads, incident_id, as_of)
    kpis = {
        "citizens": citizens,
        "confirmed": confirmed,
        "confirmed_share": confirmed / citizens if citizens else 0.0,
        "evacuating": counts["evacuating"],
        "at_shelter": counts["at_shelter"],
        "needs_rescue": counts["needs_rescue"],
        "injured": counts["injured"],
        "rescue_open": open_rescue,
        "rescue_open_total": sum(open_rescue.values()),
        "shelters_open": int(shelters["is_open"].sum()),
        # 満員 = at or above capacity (100 %), not the top congestion band (from 80 %).
        "shelters_full": int((shelters["is_open"] & (shelters["occupancy"] >= 1.0)).sum()),
        "shelters": len(shelters),
        "register": len(register_ids),
        "register_unconfirmed": int(np.count_nonzero(~np.isin(reg_states, SAFE))),
    }
    return HqState(
        at=as_of,
        kpis=kpis,
        cells=cells,
        resolution=resolution,
        zone_shapes=zones.shapes,
        zone_sources=tuple(sorted(set(zones.frame["source_dataset"]))) if len(zones.frame) else (),
        shelters=shelters,
        rescue=rescue_rows,
        register=register_rows,
        warnings=in_force,
        hazards=active_hazards,
        newest_report_at=newest,
        shows_positions=policy.may_see_rescue_positions(viewer, mode),
        shows_register=shows_register,
        states=states,
    )


def expected_arrivals(
    engine: Engine,
    cache: HqMapCache,
    shelters: pd.DataFrame,
    warning_codes: tuple[str, ...],
    states: np.ndarray,
    incident_id: int | None,
) -> pd.Series:
    """Citizens expected at each shelter: those evacuating towards it, plus those in a hazard
    zone of the warnings in force, not yet safe nor at a shelter, whose nearest suitable open
    shelter it is."""
    grid = cache.grid(engine)
    nearest = cache.nearest_shelters(engine, shelters, warning_codes)
    moving = ~np.isin(states, SAFE) & (states != STATE_INDEX["at_shelter"])
    in_zone = nearest["zone_level"].fillna(0).to_numpy() > 0
    # Citizens evacuating towards a named shelter are counted by the shelter board already.
    named = np.zeros(len(grid), bool)
    pos = grid.index_of(status_snapshot.heading_citizen_ids(engine, incident_id))
    named[pos[pos >= 0]] = True
    candidates = moving & in_zone & ~named
    target = nearest["shelter_id"].to_numpy()
    chosen = pd.Series(target[candidates]).dropna().astype(int).value_counts()
    from_zone = shelters["id"].map(lambda i: int(chosen.get(int(i), 0)))
    return (from_zone + shelters["heading_here"]).rename("expected")
