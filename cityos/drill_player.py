"""Play a drill scenario live: citizen events through the city OS into our database.

``bosai drill run --scenario flood --speed 60`` (one scenario minute per second):

1. sync users and shelters from the city OS (a normal sync), so the participants exist;
2. create the drill and its own incident (kind ``drill``) — drill data never mixes with a real
   incident;
3. build the scenario's timeline (:func:`drills.live_drill.build_timeline`) for the city OS's
   users and shelters;
4. every tick, post the events that are due to the city OS (marked with the drill's exercise
   id, time-stamped with the wall-clock time they are played) and pull the city OS's feed into
   the database — so the headquarters map moves while the drill runs;
5. play the scenario's river gauges beside them (its ``water_levels``): each tick stores the
   readings that are due, stamped like the events, through the observations import's checks —
   so the city's evacuation rules propose levels on the decision board while the drill runs
   (readings of a station the city has not imported are left out and counted in the report);
6. end the drill; the report compares what the scenario emitted with what was stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable

from sqlalchemy.engine import Engine

from drills.live_drill import (
    Participant,
    Scenario,
    ScenarioEvent,
    ShelterSite,
    WaterReading,
    build_timeline,
    water_level_timeline,
)
from sql import cityos_drills
from sql.imports.evacuation import known_station_codes, record_played_levels
from sql.viewer import SYSTEM

from .client import CityOSClient
from .sync import DrillContext, sync

#: Events posted to the city OS per request.
POST_BATCH = 5_000


@dataclasses.dataclass
class DrillReport:
    drill_id: int
    incident_id: int
    exercise: str
    scenario: str
    speed: float
    until_min: float
    #: Events the scenario emitted (posted to the city OS), per kind.
    emitted: Counter = dataclasses.field(default_factory=Counter)
    #: Events skipped at our boundary because the citizen's consent did not cover them.
    skipped_no_consent: int = 0
    #: Rows the drill wrote, per table (``drill_counts``).
    stored: dict[str, int] = dataclasses.field(default_factory=dict)
    #: The events themselves (subject, kind) as emitted, for checking.
    events: list[ScenarioEvent] = dataclasses.field(default_factory=list)
    #: Gauge readings stored during the drill, and the scenario's stations the city lacks.
    water_levels: int = 0
    unknown_stations: tuple[str, ...] = ()
    wall_seconds: float = 0.0

    def summary(self) -> str:
        emitted = ", ".join(f"{k} {v}" for k, v in sorted(self.emitted.items()))
        stored = ", ".join(f"{k} {v}" for k, v in sorted(self.stored.items()))
        return (
            f"drill {self.drill_id} ({self.scenario}, exercise {self.exercise}) ran "
            f"{self.until_min:g} scenario minutes in {self.wall_seconds:.1f} s at speed "
            f"{self.speed:g}: emitted {emitted or 'nothing'}; stored {stored or 'nothing'}; "
            f"skipped without consent {self.skipped_no_consent}; water levels {self.water_levels}"
            + (
                f" (stations not imported, left out: {', '.join(self.unknown_stations)})"
                if self.unknown_stations
                else ""
            )
        )


def participants_and_shelters(
    client: CityOSClient,
) -> tuple[list[Participant], list[ShelterSite]]:
    """Participants (users with a home position the city OS shares) and shelter sites."""
    users, _ = client.all_users(0)
    shelters, _ = client.all_shelters(0)
    people = [
        Participant(u.subject, u.basic_info.home.lat, u.basic_info.home.lon)
        for u in users
        if u.basic_info is not None and u.basic_info.home is not None
    ]
    sites = [ShelterSite(s.shelter_id, s.lat, s.lon) for s in shelters]
    return people, sites


def run_drill(
    engine: Engine,
    client: CityOSClient,
    scenario: Scenario,
    *,
    speed: float = 60.0,
    until_min: float | None = None,
    tick_s: float = 0.5,
    on_tick: Callable[[float, DrillReport], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DrillReport:
    """Play ``scenario`` through the city OS into ``engine`` (see the module docstring)."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    until = min(
        until_min if until_min is not None else scenario.duration_min, scenario.duration_min
    )
    sync(engine, client, events=False)
    people, sites = participants_and_shelters(client)
    timeline = [e for e in build_timeline(scenario, people, sites) if e.minute <= until]
    exercise = f"drill-{scenario.id}-{uuid.uuid4().hex[:8]}"
    started_at = dt.datetime.now(dt.UTC)
    drill_id, incident_id = cityos_drills.start_drill(
        engine,
        external_id=exercise,
        name_ja=f"【訓練】{scenario.name_ja}",
        name_en=f"[DRILL] {scenario.name_en}",
        scenario=scenario.id,
        hazard=scenario.hazard,
        seed=scenario.seed,
        speed=speed,
        started_at=started_at,
    )
    report = DrillReport(drill_id, incident_id, exercise, scenario.id, speed, until)
    readings, report.unknown_stations = _playable_readings(engine, scenario, until)
    context = DrillContext(exercise=exercise, drill_id=drill_id, incident_id=incident_id)
    began = clock()
    position = played = 0
    while True:
        elapsed = clock() - began
        scenario_minute = min(elapsed * speed / 60.0, until)
        due: list[ScenarioEvent] = []
        while position < len(timeline) and timeline[position].minute <= scenario_minute:
            due.append(timeline[position])
            position += 1
        for start in range(0, len(due), POST_BATCH):
            part = due[start : start + POST_BATCH]
            client.post_events(_wire(e, exercise, started_at, speed) for e in part)
            report.emitted.update(e.kind for e in part)
            report.events.extend(part)
        due_levels = []
        while played < len(readings) and readings[played].minute <= scenario_minute:
            due_levels.append(readings[played])
            played += 1
        if due_levels:
            report.water_levels += _store_levels(
                engine, scenario, due_levels, exercise, started_at, speed
            )
        result = sync(engine, client, users=False, shelters=False, drill=context)
        report.skipped_no_consent += result.events_skipped_no_consent
        if on_tick:
            on_tick(scenario_minute, report)
        if scenario_minute >= until and position >= len(timeline) and played >= len(readings):
            break
        sleep(tick_s)
    ended = dt.datetime.now(dt.UTC)
    cityos_drills.end_drill(
        engine, drill_id, ended, feed_source=drill_feed_source(client, exercise)
    )
    report.stored = cityos_drills.drill_counts(engine, drill_id)
    report.wall_seconds = clock() - began
    return report


def _playable_readings(
    engine: Engine, scenario: Scenario, until: float
) -> tuple[list[WaterReading], tuple[str, ...]]:
    """The scenario's gauge readings up to ``until`` for the stations the city has."""
    readings = [r for r in water_level_timeline(scenario) if r.minute <= until]
    if not readings:
        return [], ()
    known = known_station_codes(engine)
    unknown = tuple(sorted({r.station for r in readings} - known))
    return [r for r in readings if r.station in known], unknown


def _store_levels(
    engine: Engine,
    scenario: Scenario,
    due: list[WaterReading],
    exercise: str,
    started_at: dt.datetime,
    speed: float,
) -> int:
    """Store the due readings, stamped with the wall-clock time they are played."""
    rows = [
        (r.station, started_at + dt.timedelta(seconds=r.minute * 60.0 / speed), r.level_m, r.row)
        for r in due
    ]
    summary = record_played_levels(engine, SYSTEM, rows, f"{scenario.id}.yaml", f"drill:{exercise}")
    return summary.added


def drill_feed_source(client: CityOSClient, exercise: str) -> str:
    """The data-source name of a drill's own feed cursor (see :func:`cityos.sync.sync`)."""
    return f"{client.config.source_name}/drill:{exercise}"


def _wire(event: ScenarioEvent, exercise: str, started_at: dt.datetime, speed: float) -> dict:
    """The event as the city OS's admin API takes it, stamped with its wall-clock time."""
    at = started_at + dt.timedelta(seconds=event.minute * 60.0 / speed)
    doc: dict = {
        "kind": event.kind,
        "subject": event.subject,
        "at": at.isoformat(),
        "exercise": exercise,
    }
    for part in ("status", "location", "rescue"):
        value = getattr(event, part)
        if value is not None:
            doc[part] = value
    return doc
