"""``bosai cityos sync``: users, consents, shelters and the event feed, into our database.

Everything is fetched first (all pages), checked against consent at the boundary
(:mod:`cityos.optin`), and then written by :func:`sql.cityos_store.apply_sync` in one
transaction together with the new cursors, so a sync is all or nothing: if the city OS fails
mid-way nothing is written and the source is marked stale (with the error) for the pages to
show. Incremental: only users and shelters changed since the last revision and events after the
last event id are fetched; a repeated sync with nothing new changes nothing.

Every record passes the boundary checks of :mod:`cityos.boundary` first: one that fails
(a control character such as U+0000, a name longer than its column, a wrong type or an unknown
code) is written to the quarantine table with its reason and position instead, and the sync
moves past it — one bad record never stops the feed. A failed sync records a short error kind
(``unavailable``, ``auth``, ``contract``, ``write``) for the banners, which never show the
driver's text.

Events of a drill (``exercise`` set) are stored only for the drill being played (its own
incident), never as real data; events of other drills are skipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from sql import cityos_store
from sql.cityos_store import SyncBatch, SyncCursor, SyncWritten

from . import payloads as p
from .boundary import Quarantined
from .client import CityOSClient
from .contract import ITEM_FIELDS
from .errors import (
    CityOSAuthError,
    CityOSContractError,
    CityOSError,
    CityOSRequestError,
    CityOSUnavailable,
)
from .optin import event_allowed, filter_user

DRILL_EVENT_TYPES = {
    "arrival": "arrived",
    "location": "location_fix",
    "rescue_request": "rescue_requested",
}


@dataclasses.dataclass(frozen=True)
class DrillContext:
    """The drill whose events a feed sync stores (its exercise id, drill and incident ids)."""

    exercise: str
    drill_id: int
    incident_id: int
    participant_group: str = "resident"


@dataclasses.dataclass
class SyncResult:
    source: str
    users: int = 0
    shelters: int = 0
    events: int = 0
    events_skipped_no_consent: int = 0
    events_skipped_other_drill: int = 0
    fields_dropped_no_consent: int = 0
    #: Records kept out by the boundary checks (written to the quarantine table).
    quarantined: int = 0
    cursor: SyncCursor = dataclasses.field(default_factory=SyncCursor)
    written: SyncWritten = dataclasses.field(default_factory=SyncWritten)

    def summary(self) -> str:
        w = self.written
        removed = ", ".join(f"{k} {v}" for k, v in sorted(w.removed.items())) or "none"
        return (
            f"{self.source}: {self.users} users ({w.citizens_changed} changed, "
            f"{w.consents_appended} consent events appended), {self.shelters} shelters "
            f"({w.shelters_changed} changed), {self.events} events ({w.status_reports} status "
            f"reports, {w.location_fixes} location fixes, {w.rescue_requests} rescue requests "
            f"new); removed after withdrawn consent: {removed}; dropped without consent: "
            f"{self.fields_dropped_no_consent} fields, {self.events_skipped_no_consent} events"
            + (
                f"; quarantined (failed the boundary checks): {self.quarantined}"
                if self.quarantined
                else ""
            )
        )


@dataclasses.dataclass(frozen=True)
class _FeedRow:
    """Who a status report or location fix of the sync batch is about and where it came
    from: its idempotency key, subject, incident (None until known) and source."""

    idempotency_key: str
    subject: str
    incident_id: int | None
    source: str

    def status_report(
        self, state: str, status: p.SafetyStatus | p.EventStatus, at: dt.datetime
    ) -> dict[str, Any]:
        """``state``, with ``status``'s shelter and message."""
        where = {"shelter_ref": status.shelter_id, "message": status.message}
        return {**dataclasses.asdict(self), "state": state, **where, "reported_at": at}

    def location_fix(
        self, position: p.LocationFix | p.EventLocation, at: dt.datetime
    ) -> dict[str, Any]:
        point = {"lat": position.lat, "lon": position.lon, "accuracy_m": position.accuracy_m}
        return {**dataclasses.asdict(self), **point, "fixed_at": at}


def error_kind(exc: BaseException) -> str:
    """The short reason a banner shows for a failed sync (``live.source_error.<kind>``)."""
    if isinstance(exc, CityOSAuthError):
        return "auth"
    if isinstance(exc, CityOSUnavailable):
        return "unavailable"
    if isinstance(exc, (CityOSContractError, CityOSRequestError)):
        return "contract"
    return "unknown"


def sync(
    engine: Engine,
    client: CityOSClient,
    *,
    full: bool = False,
    users: bool = True,
    shelters: bool = True,
    events: bool = True,
    incident_id: int | None = None,
    drill: DrillContext | None = None,
    on_page: Callable[[str, int], None] | None = None,
    now: dt.datetime | None = None,
    timings: dict[str, float] | None = None,
) -> SyncResult:
    """One sync of the configured city OS into ``engine`` (all or nothing; see module doc).

    ``incident_id``: the incident real events belong to (default: the active real incident).
    ``timings``: if given, receives seconds spent fetching, preparing and writing.
    """
    clock = time.perf_counter
    began = clock()
    config = client.config
    # A drill follows the feed with a cursor of its own, so that neither a drill nor a real
    # sync skips the other's events; idempotency keys are the same for both.
    source = config.source_name if drill is None else f"{config.source_name}/drill:{drill.exercise}"
    cursor = SyncCursor() if full else cityos_store.read_cursor(engine, source)
    if incident_id is None and drill is None:
        incident_id = cityos_store.active_incident_id(engine)
    quarantine: list[Quarantined] = []
    try:
        fetched_users: list[p.User] = []
        users_rev = cursor.users_revision
        if users:
            fetched_users, users_rev = client.all_users(
                cursor.users_revision, on_page, quarantine=quarantine
            )
        fetched_shelters: list[p.Shelter] = []
        shelters_rev = cursor.shelters_revision
        if shelters:
            fetched_shelters, shelters_rev = client.all_shelters(
                cursor.shelters_revision, on_page, quarantine=quarantine
            )
        feed: list[p.Event] = []
        last_event = cursor.last_event_id
        if events:
            feed, last_event = client.all_events(
                cursor.last_event_id, on_page, quarantine=quarantine
            )
        # Events of people we have never synced: fetch them one by one (the user API).
        have = {u.subject for u in fetched_users}
        unknown = {e.subject for e in feed} - have
        unknown -= cityos_store.known_subjects(engine, unknown)
        for subject in sorted(unknown):
            checked = client.user_checked(subject)
            if isinstance(checked, Quarantined):
                quarantine.append(checked)
            else:
                fetched_users.append(checked)
    except CityOSError as exc:
        cityos_store.mark_failed(engine, source, str(exc), kind=error_kind(exc))
        raise
    fetched_at = clock()
    at = now or dt.datetime.now(dt.UTC)
    new_cursor = SyncCursor(users_rev, shelters_rev, last_event)
    batch = SyncBatch(source=source, cursor=new_cursor)
    batch.quarantined = [q.as_row() for q in quarantine]
    result = SyncResult(source=source, cursor=new_cursor, quarantined=len(quarantine))
    allowed = _add_users(batch, result, fetched_users, config.share_target, at, config.source_name)
    _add_shelters(batch, fetched_shelters)
    feed_subjects = {e.subject for e in feed} - allowed.keys()
    allowed.update(cityos_store.items_in_force_for(engine, feed_subjects, config.share_target, at))
    _add_events(batch, result, feed, allowed, incident_id, drill, config.source_name)
    result.users, result.shelters, result.events = (
        len(fetched_users),
        len(fetched_shelters),
        len(feed),
    )
    batch.notes.update(
        fields_dropped_no_consent=result.fields_dropped_no_consent,
        events_skipped_no_consent=result.events_skipped_no_consent,
    )
    prepared_at = clock()
    try:
        result.written = cityos_store.apply_sync(engine, batch, at)
    except Exception as exc:
        cityos_store.mark_failed(engine, source, f"writing the sync failed: {exc}", kind="write")
        raise
    if timings is not None:
        timings.update(
            fetch_s=fetched_at - began,
            prepare_s=prepared_at - fetched_at,
            write_s=clock() - prepared_at,
        )
    return result


def _add_users(
    batch: SyncBatch,
    result: SyncResult,
    users: list[p.User],
    share_target: str,
    at: dt.datetime,
    key_source: str,
) -> dict[str, set[str]]:
    allowed_by_subject: dict[str, set[str]] = {}
    for raw in users:
        user, allowed, dropped = filter_user(raw, share_target, at)
        result.fields_dropped_no_consent += len(dropped)
        allowed_by_subject[user.subject] = allowed
        batch.not_in_force[user.subject] = set(ITEM_FIELDS) - allowed
        info = user.basic_info
        row: dict[str, Any] = {"subject": user.subject, "is_synthetic": user.synthetic}
        if info is not None:
            row.update(
                name=info.name,
                kana=info.kana,
                sex=info.sex,
                birth_date=info.birth_date,
                address=info.address,
                district=info.district,
                phone=info.phone,
                home_lat=info.home.lat if info.home else None,
                home_lon=info.home.lon if info.home else None,
            )
        row["household_ref"] = user.household.household_id if user.household else None
        batch.citizens.append(row)
        for c in user.consents:
            given = c.state == "given"
            expires = (
                c.expires_at if given and c.expires_at and c.expires_at > c.occurred_at else None
            )
            batch.consents.append(
                {
                    "subject": user.subject,
                    "data_item": c.data_item,
                    "share_target": c.share_target,
                    "purpose": c.purpose,
                    "notice_version": c.notice_version,
                    "event_type": c.state,
                    "occurred_at": c.occurred_at,
                    "expires_at": expires,
                    "collection_method": "city_os_sync",
                    "source_ref": c.consent_id,
                }
            )
        if user.support_register is not None:
            batch.register[user.subject] = {
                **user.support_register.model_dump(),
                "is_synthetic": user.synthetic,
            }
        key = f"{key_source}:ev:"
        if user.safety_status is not None:
            s = user.safety_status
            # The incident is set with the events' incident below.
            feed_row = _FeedRow(f"{key}{s.report_id}", user.subject, None, "city_os")
            batch.status_reports.append(feed_row.status_report(s.state, s, s.reported_at))
        if user.location is not None:
            loc = user.location
            feed_row = _FeedRow(f"{key}{loc.fix_id}", user.subject, None, "city_os")
            batch.location_fixes.append(feed_row.location_fix(loc, loc.fixed_at))
    return allowed_by_subject


def _add_shelters(batch: SyncBatch, shelters: list[p.Shelter]) -> None:
    from bosai.vocab import HAZARD_KINDS

    for s in shelters:
        hazards = set(s.hazards)
        batch.shelters.append(
            {
                "local_id": s.shelter_id,
                "standard_id": s.standard_id,
                "gsi_id": s.gsi_id,
                "name": s.name,
                "kana": s.kana,
                "address": s.address,
                "district": s.district,
                "lat": s.lat,
                "lon": s.lon,
                "elevation_m": s.elevation_m,
                "capacity": s.capacity,
                **{f"hazard_{k}": k in hazards for k in HAZARD_KINDS},
                "is_emergency_site": s.emergency_site,
                "is_designated_shelter": s.designated_shelter,
                "is_welfare_shelter": s.welfare_shelter,
                "is_synthetic": s.synthetic,
            }
        )


def _add_events(
    batch: SyncBatch,
    result: SyncResult,
    feed: list[p.Event],
    allowed: dict[str, set[str]],
    incident_id: int | None,
    drill: DrillContext | None,
    source: str,
) -> None:
    for row in (*batch.status_reports, *batch.location_fixes):
        row["incident_id"] = incident_id if drill is None else None
    if drill is not None:
        # A drill's feed sync stores drill events only; real snapshots wait for a real sync.
        batch.status_reports.clear()
        batch.location_fixes.clear()
    for e in feed:
        if e.exercise is not None and (drill is None or e.exercise != drill.exercise):
            result.events_skipped_other_drill += 1
            continue
        if e.exercise is None and drill is not None:
            result.events_skipped_other_drill += 1
            continue
        if not event_allowed(e, allowed.get(e.subject, set())):
            result.events_skipped_no_consent += 1
            continue
        key = f"{source}:ev:{e.event_id}"
        incident = drill.incident_id if drill else incident_id
        origin = "drill" if drill else "city_os"
        feed_row = _FeedRow(key, e.subject, incident, origin)
        if e.kind in ("status", "arrival") and e.status is not None:
            state = "at_shelter" if e.kind == "arrival" else e.status.state
            batch.status_reports.append(feed_row.status_report(state, e.status, e.at))
        elif e.kind == "location" and e.location is not None:
            batch.location_fixes.append(feed_row.location_fix(e.location, e.at))
        elif e.kind == "rescue_request" and e.rescue is not None:
            r = e.rescue
            batch.rescue_requests.append(
                {
                    "idempotency_key": key,
                    "subject": e.subject,
                    "incident_id": incident,
                    "lat": r.lat,
                    "lon": r.lon,
                    "people_count": r.people_count,
                    "injured_count": r.injured_count,
                    "needs": r.needs,
                    "priority": "high" if r.injured_count else "medium",
                    "source": origin,
                    "requested_at": e.at,
                }
            )
        else:  # an event without the part its kind needs: not usable
            continue
        if drill is not None:
            if e.kind == "status":
                kind = "evacuation_started" if e.status.state == "evacuating" else "safety_answered"
            else:
                kind = DRILL_EVENT_TYPES[e.kind]
            batch.drill_events.append(
                {
                    "idempotency_key": key,
                    "drill_id": drill.drill_id,
                    "subject": e.subject,
                    "participant_group": drill.participant_group,
                    "event_type": kind,
                    "at": e.at,
                    "details": {"event_id": e.event_id},
                }
            )
