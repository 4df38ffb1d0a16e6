"""Write evacuation areas, river stations and water-level observations: all or nothing.

The records come from :mod:`importers.evacuation`; here they are checked against the database
(an observation's station must be known, its level inside the station's range, its time not in
the future, and a station and time already recorded with another level is a conflict). Any
problem refuses the whole file (:class:`bosai.errors.InvalidInputError` with
``FILE:ROW:COLUMN`` lines) and nothing is written. Areas and stations are upserted by the
city's code; a re-import of the same file changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.errors import InvalidInputError
from importers.evacuation import (
    LEVEL,
    OBSERVED_AT,
    STATION_CODE,
    AreaRecord,
    ObservationRecord,
    Parsed,
    StationRecord,
)
from importers.problems import Problem, quoted, reason

from .. import audit
from ..city_config import active_city
from ..models import EvacuationArea, RiverStation, WaterLevelObservation
from ..models.base import utcnow
from ..viewer import Viewer
from .rows import (
    GEOMETRY_COLUMNS,
    bounds_columns,
    record_columns,
    row_problem,
    stored_columns,
)
from .summary import ImportSummary

#: How far ahead of the server's clock an observation may be stamped (clock skew).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

#: What a re-import compares, in this order.
AREA_FIELDS = stored_columns(AreaRecord, "code")
STATION_FIELDS = stored_columns(StationRecord, "code")
#: The columns an area takes from its record as they are (its geometry gives the others).
AREA_RECORD_COLUMNS = tuple(c for c in AREA_FIELDS if c not in GEOMETRY_COLUMNS)


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInputError(
            reason("importers.error.invalid_evacuation_input"), [str(p) for p in problems]
        )


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, memoryview):
        old = bytes(old)
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and abs(float(old) - float(new)) < 1e-9
    return old == new


def _area_values(record: AreaRecord) -> dict[str, Any]:
    return {
        **record_columns(record, AREA_RECORD_COLUMNS),
        "geom_wkb": record.wkb,
        **bounds_columns(record.geometry),
    }


def _upsert(
    conn: Connection,
    table: sa.Table,
    fields: tuple[str, ...],
    municipality_code: str,
    rows: list[tuple[str, dict[str, Any]]],
    summary: ImportSummary,
    extra: dict[str, Any],
    dry_run: bool,
) -> list[str]:
    existing = {
        r.code: r
        for r in conn.execute(
            sa.select(table).where(table.c.municipality_code == municipality_code)
        )
    }
    changed_codes, inserts = [], []
    for code, values in rows:
        before = existing.get(code)
        if before is None:
            summary.note_added(code)
            inserts.append(
                {"municipality_code": municipality_code, "code": code, **values, **extra}
            )
        else:
            changed = [f for f in fields if not _same(getattr(before, f), values[f])]
            if not changed:
                summary.unchanged += 1
                continue
            summary.note_changed(f"{code}: {', '.join(changed)}")
            if not dry_run:
                conn.execute(
                    sa.update(table)
                    .where(table.c.id == before.id)
                    .values(**{f: values[f] for f in changed}, **extra)
                )
        changed_codes.append(code)
    if inserts and not dry_run:
        conn.execute(sa.insert(table), inserts)
    return changed_codes


def _station_values(record: StationRecord) -> dict[str, Any]:
    return record_columns(record, STATION_FIELDS)


@dataclasses.dataclass(frozen=True)
class CodedImport:
    """An import of rows the active city keeps by their code (issuance areas, river stations):
    upserted in one transaction — nothing on any problem — with one audit row when anything was
    added or changed; a re-import of the same file changes nothing."""

    model: Any
    fields: tuple[str, ...]
    values: Callable[[Any], dict[str, Any]]
    #: The column stamped with the time a row was written.
    stamp_column: str

    def __call__(
        self,
        engine: Engine,
        viewer: Viewer,
        parsed: Parsed,
        source: str,
        *,
        dry_run: bool = False,
        synthetic: bool = False,
    ) -> ImportSummary:
        _refuse(parsed.problems)
        table = self.model.__table__
        summary = ImportSummary(table.name, dry_run=dry_run)
        city = active_city(engine).municipality_code
        rows = [(r.code, self.values(r)) for r in parsed.records]
        stamp = {"source": source[:200], self.stamp_column: utcnow(), "is_synthetic": synthetic}
        with engine.begin() as conn:
            changed = _upsert(conn, table, self.fields, city, rows, summary, stamp, dry_run)
            if changed and not dry_run:
                audit.append(
                    conn,
                    viewer,
                    f"write:{table.name}_imported",
                    target=f"{table.name}:{source}"[:200],
                    details={"added": summary.added, "changed": summary.changed},
                )
        return summary


#: Upsert the city's issuance areas by code, in one transaction (nothing on any problem).
import_areas = CodedImport(EvacuationArea, AREA_FIELDS, _area_values, "imported_at")
#: Upsert the city's river stations and thresholds by code (nothing on any problem).
import_stations = CodedImport(RiverStation, STATION_FIELDS, _station_values, "updated_at")


def check_observations(
    conn: Connection,
    municipality_code: str,
    records: list[ObservationRecord],
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], int, list[Problem]]:
    """Rows to insert, how many are already recorded identically, and the problems."""
    st = RiverStation.__table__
    obs = WaterLevelObservation.__table__
    stations = {
        r.code: r
        for r in conn.execute(
            sa.select(st.c.id, st.c.code, st.c.range_min_m, st.c.range_max_m).where(
                st.c.municipality_code == municipality_code
            )
        )
    }
    problems: list[Problem] = []
    wanted: list[tuple[ObservationRecord, Any]] = []
    for r in records:
        station = stations.get(r.station_code)
        if station is None:
            problems.append(
                row_problem(r, STATION_CODE[0], "unknown_station", value=quoted(r.station_code))
            )
            continue
        if r.observed_at > now + FUTURE_TOLERANCE:
            problems.append(
                row_problem(
                    r,
                    OBSERVED_AT[0],
                    "observation_in_future",
                    value=quoted(r.observed_at.isoformat()),
                )
            )
            continue
        if not station.range_min_m <= r.level_m <= station.range_max_m:
            problems.append(
                row_problem(
                    r,
                    LEVEL[0],
                    "level_out_of_range",
                    value=r.level_m,
                    low=station.range_min_m,
                    high=station.range_max_m,
                )
            )
            continue
        wanted.append((r, station))
    stored: dict[tuple[int, dt.datetime], float] = {}
    ids = sorted({s.id for _, s in wanted})
    if wanted:
        first = min(r.observed_at for r, _ in wanted)
        last = max(r.observed_at for r, _ in wanted)
        for row in conn.execute(
            sa.select(obs.c.station_id, obs.c.observed_at, obs.c.level_m).where(
                obs.c.station_id.in_(ids), obs.c.observed_at.between(first, last)
            )
        ):
            stored[(row.station_id, row.observed_at)] = row.level_m
    rows, unchanged = [], 0
    for r, station in wanted:
        old = stored.get((station.id, r.observed_at))
        if old is None:
            rows.append(
                {"station_id": station.id, "observed_at": r.observed_at, "level_m": r.level_m}
            )
        elif _same(old, r.level_m):
            unchanged += 1
        else:
            problems.append(row_problem(r, LEVEL[0], "observation_conflict", value=old))
    return rows, unchanged, problems


def import_observations(
    engine: Engine,
    viewer: Viewer,
    parsed: Parsed,
    source: str,
    *,
    dry_run: bool = False,
    synthetic: bool = False,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Insert new water-level observations (nothing on any problem; repeats are unchanged).

    ``now`` is the clock an observation may not be ahead of (the incident clock for a drill
    that plays recorded levels; the wall clock otherwise).
    """
    _refuse(parsed.problems)
    summary = ImportSummary("water_levels", dry_run=dry_run)
    city = active_city(engine).municipality_code
    with engine.begin() as conn:
        rows, unchanged, problems = check_observations(conn, city, parsed.records, now or utcnow())
        _refuse(problems)
        summary.added, summary.unchanged = len(rows), unchanged
        if rows and not dry_run:
            received = utcnow()
            conn.execute(
                sa.insert(WaterLevelObservation.__table__),
                [
                    {
                        **r,
                        "source": source[:200],
                        "is_synthetic": synthetic,
                        "received_at": received,
                    }
                    for r in rows
                ],
            )
            audit.append(
                conn,
                viewer,
                "write:water_levels_imported",
                target=f"water_level_observations:{source}"[:200],
                details={"added": summary.added, "unchanged": unchanged},
            )
    return summary


def known_station_codes(engine: Engine) -> set[str]:
    """The codes of the active city's river stations."""
    st = RiverStation.__table__
    city = active_city(engine).municipality_code
    with engine.connect() as conn:
        return set(
            conn.execute(sa.select(st.c.code).where(st.c.municipality_code == city)).scalars()
        )


def record_played_levels(
    engine: Engine,
    viewer: Viewer,
    readings: list[tuple[str, dt.datetime, float, int]],
    label: str,
    source: str,
) -> ImportSummary:
    """Store the readings a drill plays live — ``(station, observed_at, level_m, row)`` with
    ``label`` the scenario file for errors — through :func:`import_observations`'s checks
    (synthetic, audited, all or nothing, a repeat unchanged)."""
    records = [ObservationRecord(label, row, code, at, level) for code, at, level, row in readings]
    return import_observations(engine, viewer, Parsed(records, []), source, synthetic=True)


def import_trigger_telegrams(
    engine: Engine,
    viewer: Viewer,
    telegrams: list[Any],
    *,
    dry_run: bool = False,
    synthetic: bool = False,
) -> ImportSummary:
    """Store the triggers of JMA telegrams (:mod:`importers.jma_triggers`): a 土砂災害警戒情報's
    row for the city's municipality, every river of a 指定河川洪水予報. A telegram whose rows
    are stored already is unchanged; one with nothing for the city is skipped. One audit row
    when anything was written."""
    from importers.problems import reason as why

    from ..models import EvacuationTrigger

    summary = ImportSummary("evacuation_triggers", dry_run=dry_run)
    city = active_city(engine)
    municipality = city.jma_municipality_code
    table = EvacuationTrigger.__table__
    with engine.begin() as conn:
        stored = {
            (r.content_sha256, r.subject_code)
            for r in conn.execute(
                sa.select(table.c.content_sha256, table.c.subject_code).where(
                    table.c.content_sha256.in_([t.content_sha256 for t in telegrams])
                )
            )
        }
        rows = []
        for telegram in telegrams:
            items = [
                i
                for i in telegram.items
                if telegram.kind == "flood_forecast" or i.subject_code == municipality
            ]
            if not items:
                summary.skipped += 1
                summary.notes.append(f"{telegram.file}: {why('importers.skip.other_area')}")
                continue
            new = [i for i in items if (telegram.content_sha256, i.subject_code) not in stored]
            if not new:
                summary.unchanged += 1
                continue
            summary.added += 1
            for item in new:
                summary.diff.append(
                    f"+ {telegram.kind} {item.subject_name or item.subject_code}: "
                    f"{item.forecast or '—'} ({'in force' if item.in_force else 'ended'})"
                )
                rows.append(
                    {
                        "content_sha256": telegram.content_sha256,
                        "kind": telegram.kind,
                        "subject_code": item.subject_code,
                        "subject_name": item.subject_name,
                        "kind_code": item.kind_code,
                        "forecast": item.forecast,
                        "in_force": item.in_force,
                        "report_time": telegram.report_time,
                        "info_type": telegram.info_type,
                        "title": (telegram.title or "")[:200] or None,
                        "file_name": str(telegram.file)[-200:],
                        "is_drill": telegram.is_drill,
                        "is_synthetic": synthetic,
                        "received_at": utcnow(),
                    }
                )
        if rows and not dry_run:
            conn.execute(sa.insert(table), rows)
            audit.append(
                conn,
                viewer,
                "write:evacuation_triggers_imported",
                target="evacuation_triggers",
                details={"telegrams": summary.added, "rows": len(rows)},
            )
    return summary
