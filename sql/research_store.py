"""Writes of the research workbench: survey instruments and responses, UI/UX task timings.

Each store function runs in one transaction and is idempotent: a record whose key already
exists with the same content is left untouched (a re-import changes nothing), one whose content
changed is updated in place, and a new one is inserted. ``dry_run=True`` computes the same
counts and writes nothing.

Keys: a survey response is ``(instrument_id, respondent_key)``; a timing is
``(session, participant, task, method)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .bulk import bulk_insert
from .models import (
    Drill,
    SurveyInstrument,
    SurveyResponse,
    UiuxSession,
    UiuxTaskTiming,
)
from .models.base import utcnow

RESPONSE_FIELDS = ("submitted_at", "participant_type", "age_band", "sex", "drill_id")
#: What an import writes of a response beside its key, in the order of its rows.
RESPONSE_VALUES = (*RESPONSE_FIELDS, "answers", "source_file", "source_row")


@dataclasses.dataclass(frozen=True)
class SurveyRecord:
    """One response as the data layer stores it."""

    respondent_key: str
    answers: dict[str, tuple[float | None, str | None]]
    submitted_at: dt.datetime | None = None
    participant_type: str | None = None
    age_band: str | None = None
    sex: str | None = None
    source_row: int | None = None


@dataclasses.dataclass(frozen=True)
class TimingRecord:
    participant: str
    participant_group: str
    task: str
    method: str
    seconds: float | None
    success: bool | None
    error_count: int | None


@dataclasses.dataclass
class StoreCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _same_time(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b  # aware datetimes compare as instants


def _ensure_instrument(
    conn: Connection,
    instrument_id: str,
    version: str,
    title_ja: str,
    title_en: str | None,
    definition: dict[str, Any],
    write: bool,
) -> None:
    table = SurveyInstrument.__table__
    row = conn.execute(sa.select(table).where(table.c.id == instrument_id)).mappings().first()
    values = {
        "version": version,
        "title_ja": title_ja,
        "title_en": title_en or None,
        "definition": definition,
    }
    if not write:
        return
    if row is None:
        conn.execute(sa.insert(table).values(id=instrument_id, loaded_at=utcnow(), **values))
    elif any(row[k] != v for k, v in values.items()):
        conn.execute(
            sa.update(table).where(table.c.id == instrument_id).values(loaded_at=utcnow(), **values)
        )


def drill_id_for(conn: Connection, ref: str | int | None) -> int | None:
    """The database id of a drill given its id or external id (None when ``ref`` is None)."""
    if ref is None:
        return None
    table = Drill.__table__
    cond = table.c.external_id == str(ref)
    if str(ref).isdigit():
        cond = sa.or_(cond, table.c.id == int(ref))
    found = conn.execute(sa.select(table.c.id).where(cond)).scalars().first()
    if found is None:
        raise LookupError(f"no drill {ref!r}")
    return found


def store_survey(
    engine: Engine,
    *,
    instrument_id: str,
    version: str,
    title_ja: str,
    title_en: str | None,
    definition: dict[str, Any],
    records: Sequence[SurveyRecord],
    source_file: str,
    drill: str | int | None = None,
    dry_run: bool = False,
) -> StoreCounts:
    """Insert or update the responses of one export in a single transaction; each response's
    answers are one JSON object (:func:`answers_object`)."""
    counts = StoreCounts(dry_run=dry_run)
    resp = SurveyResponse.__table__
    with engine.begin() as conn:
        drill_id = drill_id_for(conn, drill)
        _ensure_instrument(
            conn, instrument_id, version, title_ja, title_en, definition, not dry_run
        )
        existing = {
            row["respondent_key"]: row
            for row in conn.execute(
                sa.select(
                    resp.c.id,
                    resp.c.respondent_key,
                    resp.c.answers,
                    *[resp.c[f] for f in RESPONSE_FIELDS],
                ).where(resp.c.instrument_id == instrument_id)
            ).mappings()
        }
        new_rows: list[tuple[Any, ...]] = []
        now = utcnow()
        changed: list[tuple[int, dict[str, Any]]] = []
        for rec in records:
            old = existing.get(rec.respondent_key)
            if old is None and dry_run:  # counted; nothing to build
                counts.inserted += 1
                continue
            values = {  # in the order of RESPONSE_VALUES
                "submitted_at": rec.submitted_at,
                "participant_type": rec.participant_type,
                "age_band": rec.age_band,
                "sex": rec.sex,
                "drill_id": drill_id,
                "answers": answers_object(rec.answers),
                "source_file": source_file[:200],
                "source_row": rec.source_row,
            }
            if old is None:
                counts.inserted += 1
                new_rows.append((instrument_id, rec.respondent_key, now, *values.values()))
            elif _same_response(old, values):
                counts.unchanged += 1
            else:
                counts.updated += 1
                changed.append((old["id"], values))
        if dry_run:
            return counts
        if new_rows:
            columns = ("instrument_id", "respondent_key", "imported_at", *RESPONSE_VALUES)
            bulk_insert(conn, resp, new_rows, names=columns)
        for response_id, values in changed:
            conn.execute(sa.update(resp).where(resp.c.id == response_id).values(**values))
    return counts


def answers_object(answers: dict[str, tuple[float | None, str | None]]) -> dict[str, Any]:
    """A response's ``(number, text)`` answers as ``survey_responses.answers`` holds them:
    ``{item id: number or text}`` (every parsed answer is one or the other)."""
    return {
        item: number if number is not None else text for item, (number, text) in answers.items()
    }


def _same_response(old: Any, values: dict[str, Any]) -> bool:
    """The stored response says what ``values`` say (its file and row aside)."""
    return old["answers"] == values["answers"] and all(
        _same_time(old[f], values[f]) if f == "submitted_at" else old[f] == values[f]
        for f in RESPONSE_FIELDS
    )


def store_uiux(
    engine: Engine,
    *,
    session_key: str,
    name: str,
    held_on: dt.date | None,
    location: str | None,
    source_file: str,
    records: Sequence[TimingRecord],
    dry_run: bool = False,
) -> StoreCounts:
    """Insert or update the task timings of one UI/UX test session in a single transaction."""
    counts = StoreCounts(dry_run=dry_run)
    sessions = UiuxSession.__table__
    timings = UiuxTaskTiming.__table__
    fields = ("participant_group", "seconds", "success", "error_count")
    with engine.begin() as conn:
        session = (
            conn.execute(sa.select(sessions).where(sessions.c.external_id == session_key))
            .mappings()
            .first()
        )
        existing: dict[tuple[str, str, str], dict[str, Any]] = {}
        if session is not None:
            for row in conn.execute(
                sa.select(timings).where(timings.c.session_id == session["id"])
            ).mappings():
                existing[(row["participant"], row["task"], row["method"])] = dict(row)
        inserts: list[TimingRecord] = []
        updates: list[tuple[int, TimingRecord]] = []
        for rec in records:
            old = existing.get((rec.participant, rec.task, rec.method))
            if old is None:
                counts.inserted += 1
                inserts.append(rec)
            elif all(old[f] == getattr(rec, f) for f in fields):
                counts.unchanged += 1
            else:
                counts.updated += 1
                updates.append((old["id"], rec))
        session_values = {"name": name, "held_on": held_on, "location": location}
        if dry_run:
            return counts
        if session is None:
            session_id = conn.execute(
                sa.insert(sessions)
                .values(
                    external_id=session_key,
                    source_file=source_file[:200],
                    imported_at=utcnow(),
                    **session_values,
                )
                .returning(sessions.c.id)
            ).scalar_one()
        else:
            session_id = session["id"]
            if any(session[k] != v for k, v in session_values.items()):
                conn.execute(
                    sa.update(sessions).where(sessions.c.id == session_id).values(**session_values)
                )
        if inserts:
            conn.execute(
                sa.insert(timings),
                [{"session_id": session_id, **dataclasses.asdict(r)} for r in inserts],
            )
        for timing_id, rec in updates:
            conn.execute(
                sa.update(timings)
                .where(timings.c.id == timing_id)
                .values(**{f: getattr(rec, f) for f in fields})
            )
    return counts
