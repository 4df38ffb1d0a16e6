"""Occupancy snapshots into the database: shelters, the incident, head counts, open periods.

The city comes from the data (所在地_都道府県 + 所在地_市区町村 matched against the configured
cities). Head counts go to the city's open real incident — or to a new one created for them,
named after the city and the first snapshot. The import does not switch the emergency mode on
(``emergency_mode`` False): declaring it stays a staff decision.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bosai.errors import InvalidInputError
from bosai.jpdate import jst, wareki
from importers.occupancy import OccupancyObservation
from importers.problems import Problem, reason

from ..models import City, Incident, IncidentActivity, ShelterOccupancy
from ..models.base import utcnow
from .city_lookup import resolve_municipality_codes
from .shelter_operations import sync_open_periods
from .shelters import upsert_shelters_in_session
from .summary import ImportSummary
from .write_scope import write_session

#: ``source`` of head counts written by this importer.
OCCUPANCY_SOURCE = "import"


def import_occupancy(
    target: Engine | Session,
    observations: list[OccupancyObservation],
    *,
    dry_run: bool = False,
    incident_name: str | None = None,
    hazard: str | None = None,
) -> ImportSummary:
    """Write head counts (one transaction); see the module docstring."""
    summary = ImportSummary("occupancy", dry_run=dry_run)
    if not observations:
        return summary
    with write_session(target, dry_run) as session:
        now = utcnow()
        city = _city_of(session, observations)
        latest: dict[str, OccupancyObservation] = {}
        for obs in sorted(observations, key=lambda o: o.observed_at):
            latest[obs.record.published_id or obs.record.name] = obs
        keys = list(latest)
        shelters = upsert_shelters_in_session(
            session,
            [latest[k].record for k in keys],
            update_existing=False,
            default_municipality_code=city.municipality_code,
            now=now,
        )
        shelter_of = dict(zip(keys, shelters.shelter_ids, strict=True))
        summary.figures["shelters_created"] = shelters.summary.added
        incident = _incident(session, city, observations, incident_name, hazard, summary)
        _write_counts(session, incident.id, observations, shelter_of, summary, now)
        ops = sync_open_periods(session, incident.id, OCCUPANCY_SOURCE)
        summary.figures["operations"] = ops[0]
        if summary.wrote_anything or any(ops) or shelters.summary.added:
            session.add(
                IncidentActivity(
                    incident_id=incident.id,
                    at=now,
                    actor="import",
                    action="occupancy_imported",
                    target_type="incident",
                    target_id=str(incident.id),
                    details={
                        "added": summary.added,
                        "changed": summary.changed,
                        "snapshots": len({o.observed_at for o in observations}),
                        "shelters_created": shelters.summary.added,
                    },
                )
            )
        summary.figures["snapshots"] = len({o.observed_at for o in observations})
    return summary


def _city_of(session: Session, observations: list[OccupancyObservation]) -> City:
    records = [o.record for o in observations]
    problems = resolve_municipality_codes(session, records, default_code=None)
    if problems:
        raise InvalidInputError(
            reason("importers.error.invalid_occupancy"), [str(p) for p in problems]
        )
    codes = sorted({r.municipality_code for r in records if r.municipality_code})
    if len(codes) != 1:
        first = observations[0]
        raise InvalidInputError(
            reason("importers.error.invalid_occupancy"),
            [
                str(
                    Problem(
                        first.file,
                        first.row,
                        "所在地_市区町村",
                        reason("importers.problem.several_cities", places=", ".join(codes)),
                    )
                )
            ],
        )
    return session.scalars(sa.select(City).where(City.municipality_code == codes[0])).one()


def _incident(
    session: Session,
    city: City,
    observations: list[OccupancyObservation],
    name: str | None,
    hazard: str | None,
    summary: ImportSummary,
) -> Incident:
    incident = session.scalars(
        sa.select(Incident)
        .where(
            Incident.municipality_code == city.municipality_code,
            Incident.kind == "real",
            Incident.ended_at.is_(None),
        )
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
    ).first()
    if incident is not None:
        summary.notes.append(f"incident #{incident.id} {incident.name_ja}")
        return incident
    first = min(o.observed_at for o in observations)
    incident = Incident(
        external_id=f"occupancy:{city.municipality_code}:{jst(first):%Y%m%d}",
        kind="real",
        name_ja=name or f"{city.name_ja} 避難所開設状況（{wareki(first)}〜）",
        name_en=f"{city.name_en}: open shelters (from {jst(first):%Y-%m-%d})",
        hazard=hazard,
        municipality_code=city.municipality_code,
        declared_at=first,
        emergency_mode=False,
        declared_by="import",
        notes="避難者数の取込で作成 / created by bosai import occupancy",
    )
    session.add(incident)
    session.flush()
    summary.notes.append(f"incident #{incident.id} {incident.name_ja} (new)")
    return incident


def _write_counts(
    session: Session,
    incident_id: int,
    observations: list[OccupancyObservation],
    shelter_of: dict[str, int],
    summary: ImportSummary,
    now: dt.datetime,
) -> None:
    wanted: dict[tuple[int, dt.datetime], OccupancyObservation] = {}
    for obs in observations:
        wanted[(shelter_of[obs.record.published_id or obs.record.name], obs.observed_at)] = obs
    shelter_ids = sorted({key[0] for key in wanted})
    existing = {
        (row.shelter_id, row.observed_at): row
        for row in session.execute(
            sa.select(
                ShelterOccupancy.id,
                ShelterOccupancy.shelter_id,
                ShelterOccupancy.observed_at,
                ShelterOccupancy.head_count,
                ShelterOccupancy.incident_id,
                ShelterOccupancy.entered_by,
            ).where(
                ShelterOccupancy.source == OCCUPANCY_SOURCE,
                ShelterOccupancy.shelter_id.in_(shelter_ids),
            )
        )
    }
    inserts, updates = [], []
    by_time: dict[dt.datetime, int] = defaultdict(int)
    for key, obs in sorted(wanted.items(), key=lambda item: (item[0][1], item[0][0])):
        by_time[obs.observed_at] += obs.head_count
        entered_by = _file_name(obs.file)
        row = existing.get(key)
        values = {
            "head_count": obs.head_count,
            "incident_id": incident_id,
            "entered_by": entered_by,
        }
        if row is None:
            inserts.append(
                {
                    "shelter_id": key[0],
                    "observed_at": key[1],
                    "source": OCCUPANCY_SOURCE,
                    "recorded_at": now,
                    **values,
                }
            )
            summary.added += 1
            summary.diff.append(
                f"+ #{key[0]} {obs.record.name} {jst(key[1]):%Y-%m-%d %H:%M} {obs.head_count}人"
            )
        elif (row.head_count, row.incident_id, row.entered_by) != (
            obs.head_count,
            incident_id,
            entered_by,
        ):
            updates.append({"id": row.id, **values})
            summary.changed += 1
            summary.diff.append(
                f"~ #{key[0]} {obs.record.name} {jst(key[1]):%Y-%m-%d %H:%M}: {row.head_count}人 → {obs.head_count}人"
            )
        else:
            summary.unchanged += 1
    if inserts:
        session.execute(sa.insert(ShelterOccupancy), inserts)
    if updates:
        session.execute(sa.update(ShelterOccupancy), updates)
    session.flush()
    summary.figures["observations"] = len(wanted)
    summary.figures["totals_by_time"] = dict(by_time)


def _file_name(file: str) -> str:
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:64]
