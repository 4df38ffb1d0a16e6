"""Upsert shelters by stable ID, merging the same site from different lists into one row.

Which record may change which column of a merged shelter (so that re-importing any one of the
lists changes nothing):

- the *primary* record — the one whose ID created the shelter (same source, same ID column) —
  sets everything it knows;
- another list's record fills only what is still empty, except the columns only its list
  publishes (the standard list's capacity, kana, elevation, phone and district; the GSI
  指定避難所 list's 受入対象者), which it keeps up to date;
- kinds (指定緊急避難場所, 指定避難所, 福祉避難所) are switched on by any list, off only by the primary;
- hazard flags count as empty while all eight are off.

An occupancy snapshot only creates shelters it does not know (``update_existing=False``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bosai.errors import InvalidInputError
from importers.problems import Problem, reason
from importers.shelter_record import HAZARD_FLAG_COLUMNS, RecordOrigin, ShelterRecord
from importers.shelters_standard import finish_standard_ids

from ..bulk import bulk_insert
from ..models import Shelter
from ..models.base import utcnow
from .city_lookup import resolve_municipality_codes
from .shelter_matching import GSI_LOCAL_PREFIX, ShelterEntry, ShelterIndex
from .summary import ImportSummary
from .write_scope import write_session

#: Columns only one list publishes, kept up to date by it even on a shelter another list owns.
EXCLUSIVE_COLUMNS = {
    "standard": ("capacity", "capacity_text", "kana", "elevation_m", "phone", "district"),
    "gsi": ("target_groups",),
}
KIND_COLUMNS = ("is_emergency_site", "is_designated_shelter", "is_welfare_shelter")
ID_COLUMNS = ("standard_id", "gsi_id", "local_id")
#: Columns compared when deciding "changed" (everything a record can set).
DATA_COLUMNS = tuple(
    c.name for c in Shelter.__table__.columns if c.name not in ("id", "created_at", "updated_at")
)


@dataclasses.dataclass
class ShelterUpsertResult:
    summary: ImportSummary
    #: The stored shelter's id for each record, in the records' order.
    shelter_ids: list[int]


def upsert_shelters(
    target: Engine | Session,
    records: list[ShelterRecord],
    *,
    dry_run: bool = False,
    merge_distance_m: float = 30.0,
    default_municipality_code: str | None = None,
) -> ImportSummary:
    """Add or update shelters in one transaction; ``dry_run`` reports without writing.

    ``target`` is an engine (this function commits) or a session (runs in a savepoint of the
    caller's transaction). Raises :class:`InvalidInputError` (nothing written) when a record's
    city is not configured.
    """
    with write_session(target, dry_run) as session:
        result = upsert_shelters_in_session(
            session,
            records,
            merge_distance_m=merge_distance_m,
            default_municipality_code=default_municipality_code,
        )
    result.summary.dry_run = dry_run
    return result.summary


def upsert_shelters_in_session(
    session: Session,
    records: list[ShelterRecord],
    *,
    update_existing: bool = True,
    merge_distance_m: float = 30.0,
    default_municipality_code: str | None = None,
    now: dt.datetime | None = None,
) -> ShelterUpsertResult:
    now = now or utcnow()
    problems = resolve_municipality_codes(session, records, default_municipality_code)
    finish_standard_ids(records)
    problems += _unidentified(records)
    if problems:
        raise InvalidInputError(
            reason("importers.error.invalid_shelters"), [str(p) for p in problems]
        )
    index = ShelterIndex(merge_distance_m)
    originals: dict[int, dict[str, Any]] = {}
    for row in session.execute(sa.select(*Shelter.__table__.columns)).mappings():
        values = dict(row)
        originals[values["id"]] = dict(values)
        index.add(ShelterEntry(values))
    summary = ImportSummary("shelters")
    record_entries: list[ShelterEntry] = []
    touched: dict[int, ShelterEntry] = {}  # by id(entry), in first-touch order
    for record in records:
        entry = index.by_id(record)
        if entry is not None:
            if update_existing or entry.is_new:
                _apply(index, entry, record, primary=_is_primary(entry, record))
        else:
            entry = index.merge_candidate(record)
            if entry is not None:
                summary.merged += 1
                summary.diff.append(
                    f"+> {record.identity} {record.name} → #{entry.values.get('id') or 'new'} {entry.values['name']}"
                )
                _attach_id(index, entry, record)
                _apply(index, entry, record, primary=False)
            else:
                entry = ShelterEntry(_new_values(record, now), is_new=True)
                index.add(entry)
                summary.added += 1
                summary.diff.append(f"+ {record.identity} {record.name}")
        touched.setdefault(id(entry), entry)
        record_entries.append(entry)
    _write(session, list(touched.values()), originals, summary, now)
    ids = [entry.values["id"] for entry in record_entries]
    return ShelterUpsertResult(summary, ids)


def _unidentified(records: list[ShelterRecord]) -> list[Problem]:
    problems = []
    for record in records:
        if not (record.standard_id or record.gsi_id or record.local_id):
            origin = record.origin or RecordOrigin("-", 0)
            problems.append(
                Problem(origin.file, origin.row, "ID", reason("importers.problem.no_stable_id"))
            )
    return problems


def _is_primary(entry: ShelterEntry, record: ShelterRecord) -> bool:
    values = entry.values
    if values.get("source") != record.source:
        return False
    if record.source == "gsi":
        return bool(record.gsi_id) and values.get("gsi_id") == record.gsi_id
    if record.standard_id:
        return values.get("standard_id") == record.standard_id
    return bool(record.local_id) and values.get("local_id") == record.local_id


def _new_values(record: ShelterRecord, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {name: None for name in DATA_COLUMNS}
    for name in (*HAZARD_FLAG_COLUMNS, *KIND_COLUMNS, "is_synthetic"):
        values[name] = False
    values.update(record.column_values())
    values.update(id=None, created_at=now, updated_at=now)
    return values


def _attach_id(index: ShelterIndex, entry: ShelterEntry, record: ShelterRecord) -> None:
    before = dict(entry.values)
    if record.standard_id:
        entry.values["standard_id"] = record.standard_id
    if record.gsi_id:
        slot = entry.free_gsi_slot()
        entry.values[slot] = record.gsi_id if slot == "gsi_id" else GSI_LOCAL_PREFIX + record.gsi_id
    if record.local_id and not record.gsi_id:
        entry.values["local_id"] = record.local_id
    index.reindex(entry, before)


def _apply(
    index: ShelterIndex, entry: ShelterEntry, record: ShelterRecord, *, primary: bool
) -> None:
    before = dict(entry.values)
    values = entry.values
    exclusive = EXCLUSIVE_COLUMNS.get(record.source, ())
    flags_empty = not any(values.get(c) for c in HAZARD_FLAG_COLUMNS)
    for name, value in record.column_values().items():
        if name in ID_COLUMNS or name == "source":
            continue
        if name in KIND_COLUMNS:
            if value or primary:
                values[name] = value
        elif name in HAZARD_FLAG_COLUMNS:
            if primary or flags_empty:
                values[name] = value
        elif primary or name in exclusive or values.get(name) in (None, ""):
            values[name] = value
    index.reindex(entry, before)


def _changed_columns(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changed = []
    for name in DATA_COLUMNS:
        old, new = before.get(name), after.get(name)
        if isinstance(old, float) and isinstance(new, float):
            if abs(old - new) > 1e-9:
                changed.append(name)
        elif old != new:
            changed.append(name)
    return changed


def _write(
    session: Session,
    touched: list[ShelterEntry],
    originals: dict[int, dict[str, Any]],
    summary: ImportSummary,
    now: dt.datetime,
) -> None:
    new_entries = [e for e in touched if e.is_new]
    updates = []
    for entry in touched:
        if entry.is_new:
            continue
        original = originals[entry.values["id"]]
        changed = _changed_columns(original, entry.values)
        if not changed:
            summary.unchanged += 1
            continue
        summary.changed += 1
        details = ", ".join(
            f"{c}: {original.get(c)!r} → {entry.values.get(c)!r}" for c in changed[:6]
        )
        summary.diff.append(f"~ #{entry.values['id']} {entry.values['name']}: {details}")
        entry.values["updated_at"] = now
        updates.append(
            {"id": entry.values["id"], **{c: entry.values[c] for c in changed}, "updated_at": now}
        )
    if new_entries:
        rows = [{k: v for k, v in e.values.items() if k != "id"} for e in new_entries]
        bulk_insert(session.connection(), Shelter.__table__, rows)  # executemany / COPY
        _fetch_new_ids(session, new_entries)
    if updates:
        session.execute(sa.update(Shelter), updates)  # ORM bulk UPDATE by primary key


def _fetch_new_ids(session: Session, entries: list[ShelterEntry]) -> None:
    """Read back the ids of freshly inserted shelters by their stable IDs (one query per 500)."""
    for column in ID_COLUMNS:
        waiting = {
            e.values[column]: e for e in entries if e.values.get(column) and not e.values.get("id")
        }
        keys = list(waiting)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            attribute = getattr(Shelter, column)
            for shelter_id, key in session.execute(
                sa.select(Shelter.id, attribute).where(attribute.in_(chunk))
            ):
                waiting[key].values["id"] = shelter_id
    missing = [e.values["name"] for e in entries if not e.values.get("id")]
    if missing:  # pragma: no cover - every new shelter has a stable ID (checked before)
        raise RuntimeError(f"inserted shelters without a stable ID: {missing[:3]}")
