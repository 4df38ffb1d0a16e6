"""The safety loop's picture at one moment, built without Streamlit: every person's merged
state, the unaccounted-for list, evacuees by place, plan tracking and the key figures.

:func:`build_safety_state` composes named queries (``sql.queries.safety_picture``) and pure
computations (``analytics.safety_merge``, ``analytics.unaccounted``,
``analytics.plan_tracking``) — what the unaccounted-for page, the plans page, the HQ map's
aggregate layer, the replay, the reports and ``bosai bench`` use. Nothing personal beyond
citizen numbers and districts: names are read by the page, for the rows it shows, through
``sql.policy.unaccounted_details``.

:class:`SafetyCache` keeps what rarely changes — each citizen's district, household and
register membership, and which homes lie in a hazard zone — and rebuilds it when citizens, the
register or the zones change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics import plan_tracking, unaccounted
from analytics.hazards import hazards_for_warnings
from analytics.safety_merge import (
    CATEGORIES,
    DETAILS,
    NO_CONTACT,
    SOURCES,
    state_arrays,
)
from analytics.zone_exposure import ZoneMembership
from bosai.vocab import HAZARD_ZONE_KINDS
from sql.city_config import CityConfig
from sql.queries import hazards, safety_picture, status_snapshot
from sql.queries.incidents import incident_clock

#: Minutes after the incident began without a supporter confirmation or an arrival at the
#: planned destination that escalate a plan (city setting ``plan_escalate_minutes``).
DEFAULT_ESCALATE_MINUTES = 60


class SafetyCache:
    """Per database: people with district, household, register membership and home zones;
    per incident, the inputs of the merge, read incrementally.

    The person's own answers change only by pointing at a newer report (a higher report id),
    and recorded observations are append-only (a higher id): each refresh reads only what is
    new, and a count check falls back to a full read after removals (retention, withdrawn
    consent), as the HQ map's cache does.
    """

    CHECK_EVERY = 2.0

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._key: Any = None
        self._checked = 0.0
        self._people: pd.DataFrame | None = None
        self._membership: ZoneMembership | None = None
        self._live: dict[int, _LiveInputs] = {}

    def _refresh(self, engine: Engine) -> None:
        now = time.monotonic()
        if self._people is not None and now - self._checked < self.CHECK_EVERY:
            return
        key = (safety_picture.people_fingerprint(engine), hazards.zones_fingerprint(engine))
        self._checked = now
        if key == self._key and self._people is not None:
            return
        people = safety_picture.people(engine)
        homes = people[people["lat"].notna() & people["lon"].notna()]
        self._membership = ZoneMembership(
            homes["citizen_id"].to_numpy(),
            homes["lat"].to_numpy(),
            homes["lon"].to_numpy(),
            hazards.hazard_zones(engine),
        )
        self._people = people
        self._key = key
        self._live.clear()

    def people(self, engine: Engine, zone_kinds: tuple[str, ...]) -> pd.DataFrame:
        """``citizen_id``, ``district``, ``household_id``, ``lat``, ``lon``, ``on_register``,
        ``in_zone`` (the home lies in a zone of one of ``zone_kinds``); sorted by id."""
        with self._lock:
            self._refresh(engine)
            assert self._people is not None and self._membership is not None
            people, membership = self._people, self._membership
        inside = np.zeros(len(membership.ids), bool)
        for kind in zone_kinds:
            ranks = membership.rank_of.get(kind)
            if ranks is not None:
                inside |= ranks >= 0
        ids = people["citizen_id"].to_numpy()
        in_zone = np.zeros(len(ids), bool)
        if len(membership.ids):
            pos = np.minimum(np.searchsorted(membership.ids, ids), len(membership.ids) - 1)
            found = membership.ids[pos] == ids
            in_zone[found] = inside[pos[found]]
        return people.assign(in_zone=in_zone)

    def observations(self, engine: Engine, incident_id: int | None) -> Observations:
        """Every observation of the incident now, as code arrays (own answers, recorded
        observations, rescue requests)."""
        with self._lock:
            key = incident_id or 0
            live = self._live.get(key)
            if live is None:
                live = self._live[key] = _LiveInputs()
            live.update(engine, incident_id)
            own, recorded = live.arrays()
        rescue = _rescue_arrays(*safety_picture.rescue_observations(engine, incident_id))
        return Observations.concat([own, recorded, rescue])


@dataclasses.dataclass(frozen=True)
class Observations:
    """Observations as arrays: ``citizen``, ``at`` (seconds), ``source`` and ``detail`` codes
    (into :data:`analytics.safety_merge.SOURCES` / ``DETAILS``)."""

    citizen: np.ndarray
    at: np.ndarray
    source: np.ndarray
    detail: np.ndarray

    @classmethod
    def concat(cls, parts: list[Observations]) -> Observations:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Observations:
        """From :func:`sql.queries.safety_picture.observations`."""
        return cls(
            frame["citizen_id"].to_numpy(np.int64),
            frame["at"].to_numpy(float),
            _codes(frame["source"].to_numpy(object), _SOURCE_CODE),
            _codes(frame["detail"].to_numpy(object), _DETAIL_CODE),
        )


_FIELDS = ("citizen", "at", "source", "detail")
_SOURCE_CODE = {s: i for i, s in enumerate(SOURCES)}
_DETAIL_CODE = {d: i for i, d in enumerate(DETAILS)}


def _codes(values: np.ndarray, table: dict[str, int]) -> np.ndarray:
    codes, uniques = pd.factorize(values)
    unknown = [u for u in uniques if u not in table]
    if unknown:
        raise ValueError(f"unknown codes {unknown}")
    lookup = np.array([table[u] for u in uniques], np.int16)
    return lookup[codes] if len(lookup) else np.empty(0, np.int16)


def _empty() -> Observations:
    return Observations(
        np.empty(0, np.int64), np.empty(0), np.empty(0, np.int16), np.empty(0, np.int16)
    )


def _rescue_arrays(requested: dict, resolved: dict) -> Observations:
    parts = []
    for cols, source, detail in (
        (requested, "app", "rescue_requested"),
        (resolved, "rescue", "rescued"),
    ):
        n = len(cols["citizen_id"])
        if n:
            parts.append(
                Observations(
                    cols["citizen_id"].astype(np.int64),
                    cols["at"].astype(float),
                    np.full(n, _SOURCE_CODE[source], np.int16),
                    np.full(n, _DETAIL_CODE[detail], np.int16),
                )
            )
    return Observations.concat(parts) if parts else _empty()


class _LiveInputs:
    """One incident's own answers (one per person) and recorded observations, kept current."""

    def __init__(self) -> None:
        self.answers: dict[str, np.ndarray] | None = None  # sorted by citizen
        self.top_report = 0
        self.recorded = _empty()
        self.top_recorded = 0
        self.recorded_rows = 0

    def update(self, engine: Engine, incident_id: int | None) -> None:
        feed = status_snapshot.feed_position(engine, incident_id)
        if self.answers is None or feed.top_report_id < self.top_report:
            self.answers = _sorted_answers(safety_picture.app_answers_since(engine, incident_id))
        elif feed.top_report_id > self.top_report:
            changed = _sorted_answers(
                safety_picture.app_answers_since(engine, incident_id, self.top_report)
            )
            self.answers = _upsert(self.answers, changed)
        if len(self.answers["citizen_id"]) != feed.latest_rows:
            self.answers = _sorted_answers(safety_picture.app_answers_since(engine, incident_id))
        self.top_report = feed.top_report_id
        cols, total = safety_picture.recorded_since(engine, incident_id, self.top_recorded)
        if total < self.recorded_rows + len(cols["id"]):  # removed meanwhile: read everything
            cols, total = safety_picture.recorded_since(engine, incident_id, 0)
            self.recorded, self.recorded_rows = _empty(), 0
        if len(cols["id"]):
            new = Observations(
                cols["citizen_id"].astype(np.int64),
                cols["at"].astype(float),
                _codes(cols["source"].astype(object), _SOURCE_CODE),
                _codes(cols["outcome"].astype(object), _DETAIL_CODE),
            )
            self.recorded = Observations.concat([self.recorded, new])
            self.top_recorded = int(cols["id"].max())
        self.recorded_rows = total

    def arrays(self) -> tuple[Observations, Observations]:
        answers = self.answers or {}
        n = len(answers.get("citizen_id", ()))
        own = Observations(
            answers.get("citizen_id", np.empty(0, np.int64)),
            answers.get("at", np.empty(0)),
            np.full(n, _SOURCE_CODE["app"], np.int16),
            answers.get("detail", np.empty(0, np.int16)),
        )
        return own, self.recorded


def _sorted_answers(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ids = cols["citizen_id"].astype(np.int64)
    order = np.argsort(ids, kind="stable")
    return {
        "citizen_id": ids[order],
        "at": cols["at"].astype(float)[order],
        "detail": _codes(cols["state"].astype(object), _DETAIL_CODE)[order],
    }


def _upsert(
    current: dict[str, np.ndarray], changed: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    keep = ~np.isin(current["citizen_id"], changed["citizen_id"])
    merged = {k: np.concatenate([current[k][keep], changed[k]]) for k in current}
    order = np.argsort(merged["citizen_id"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


@dataclasses.dataclass
class SafetyState:
    at: dt.datetime | None
    now: dt.datetime
    zone_kinds: tuple[str, ...]
    #: Everyone with their merged state (analytics.unaccounted.with_states columns).
    rows: pd.DataFrame
    board: pd.DataFrame
    districts: pd.DataFrame
    counts: dict[str, int]
    places: dict[str, int]
    walk_ins: dict[str, int]
    plans: pd.DataFrame
    coverage: dict[str, Any]
    follow_ups: dict[str, int]

    def households(self) -> pd.DataFrame:
        return unaccounted.households(self.rows)


def zone_kinds_for(engine: Engine, city: CityConfig, as_of: dt.datetime | None) -> tuple[str, ...]:
    """Hazard-zone kinds that define "in a hazard zone": those of the warnings in force, or
    every kind when none is in force."""
    area_codes = tuple(code for _, code in city.jma_area_codes)
    in_force = hazards.warnings_in_force(engine, area_codes, as_of)
    active = hazards_for_warnings(in_force["kind_code"].tolist()) if len(in_force) else ()
    kinds = tuple(k for k in HAZARD_ZONE_KINDS if k in active)
    return kinds or HAZARD_ZONE_KINDS


_STATE_NAMES = (*CATEGORIES, NO_CONTACT)  # code -1 → last


def person_rows(people: pd.DataFrame, observations: Observations) -> pd.DataFrame:
    """``people`` (sorted by id) with each one's merged state, from observation arrays."""
    states = state_arrays(
        people["citizen_id"].to_numpy(np.int64),
        observations.citizen,
        observations.at,
        observations.source,
        observations.detail,
    )
    return people.assign(
        state=pd.Categorical.from_codes(
            np.where(states.state < 0, len(CATEGORIES), states.state), _STATE_NAMES
        ),
        source=pd.Categorical.from_codes(states.source, SOURCES),
        detail=pd.Categorical.from_codes(states.detail, DETAILS),
        at=safety_picture.to_utc(states.at).set_axis(people.index),
        last_contact_at=safety_picture.to_utc(states.last_contact).set_axis(people.index),
    )


def build_safety_state(
    engine: Engine,
    cache: SafetyCache,
    incident_id: int | None,
    city: CityConfig,
    *,
    as_of: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> SafetyState:
    """The safety picture live (``as_of`` None) or at a past moment (replay)."""
    now = as_of or now or incident_clock(engine, incident_id)
    kinds = zone_kinds_for(engine, city, as_of)
    people = cache.people(engine, kinds)
    if as_of is None:
        observations = cache.observations(engine, incident_id)
    else:
        observations = Observations.from_frame(
            safety_picture.observations(engine, incident_id, as_of)
        )
    rows = person_rows(people, observations)
    plans = plan_tracking.track(
        safety_picture.plans(engine),
        safety_picture.supporter_confirmations(engine, incident_id, as_of),
        safety_picture.shelter_arrivals(engine, incident_id, as_of, planned_only=True),
        safety_picture.incident_start(engine, incident_id),
        now,
        float(city.setting("plan_escalate_minutes", DEFAULT_ESCALATE_MINUTES)),
    )
    escalated = plans.loc[plans["status"] == "escalated", "citizen_id"]
    board = unaccounted.unaccounted(rows, now, escalated)
    places = safety_picture.evacuees_by_place(engine, incident_id, as_of)
    return SafetyState(
        at=as_of,
        now=now,
        zone_kinds=kinds,
        rows=rows,
        board=board,
        districts=unaccounted.by_district(board),
        counts=unaccounted.accounted_counts(rows),
        places=safety_picture.place_totals(places),
        walk_ins=safety_picture.walk_in_count(engine, incident_id),
        plans=plans,
        coverage=plan_tracking.coverage(plans, people.loc[people["on_register"], "citizen_id"]),
        follow_ups=safety_picture.follow_up_counts(engine, incident_id),
    )


def district_points(state: SafetyState) -> pd.DataFrame:
    """Per district: where to draw it (the mean of its homes), people, unaccounted, priority
    and needs help — the HQ map's aggregate layer (no person is placed)."""
    homes = state.rows.dropna(subset=["lat", "lon"])
    centre = homes.groupby(homes["district"].fillna("—"))[["lat", "lon"]].mean()
    people = state.rows.groupby(state.rows["district"].fillna("—")).size().rename("people")
    table = state.districts.set_index("district").join(centre, how="inner").join(people)
    return table.reset_index()
