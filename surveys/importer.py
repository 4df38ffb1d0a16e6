"""The survey import: read, validate, and store atomically — or nothing at all.

:func:`validate_file` reads an export and returns the parsed responses with their validation
report (no database). :func:`import_survey` refuses a file with any error (raising
:class:`~bosai.errors.InvalidInputError` with ``FILE:ROW:COLUMN: reason`` lines) and otherwise
stores every response in one transaction; a re-import of the same file changes nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from bosai.errors import InvalidInputError
from sql.research_store import StoreCounts, SurveyRecord, store_survey

from .instrument import Instrument, load_instrument
from .mapping import Mapping, load_mapping
from .parse import ParsedSurvey, ValidationReport, parse_export
from .reader import read_table


@dataclasses.dataclass
class ImportResult:
    instrument: str
    file: str
    report: ValidationReport
    counts: StoreCounts

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "file": self.file,
            "responses": self.counts.inserted + self.counts.updated + self.counts.unchanged,
            **self.counts.as_dict(),
            "report": self.report.as_dict(),
        }


def validate_file(
    path: str | Path,
    instrument: str | Instrument,
    mapping: str | Path | Mapping | None = None,
) -> ParsedSurvey:
    """Read and validate an export without touching the database."""
    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping, {i.id for i in inst.items}, inst.id)
    table = read_table(path)
    return parse_export(table, inst, mapping)


def refuse_if_invalid(parsed: ParsedSurvey) -> None:
    report = parsed.report
    if report.errors:
        raise InvalidInputError(
            f"{report.file}: {len(report.errors)} problem(s); nothing was imported",
            report.lines("error"),
        )


def to_records(parsed: ParsedSurvey) -> list[SurveyRecord]:
    return [
        SurveyRecord(
            respondent_key=r.respondent_key,
            answers=dict(r.answers),
            submitted_at=r.submitted_at,
            participant_type=r.participant_type,
            age_band=r.age_band,
            sex=r.sex,
            source_row=r.row,
        )
        for r in parsed.responses
    ]


def import_survey(
    engine: Engine,
    path: str | Path,
    instrument: str | Instrument,
    mapping: str | Path | Mapping | None = None,
    *,
    drill: str | int | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Validate ``path`` and store its responses (all or nothing). ``dry_run`` writes nothing."""
    parsed = validate_file(path, instrument, mapping)
    refuse_if_invalid(parsed)
    inst = parsed.instrument
    try:
        counts = store_survey(
            engine,
            instrument_id=inst.id,
            version=inst.version,
            title_ja=inst.title_ja,
            title_en=inst.title_en,
            definition=inst.definition,
            records=to_records(parsed),
            source_file=Path(path).name,
            drill=drill,
            dry_run=dry_run,
        )
    except LookupError as exc:
        raise InvalidInputError(f"{Path(path).name}: {exc}") from exc
    return ImportResult(
        instrument=inst.id, file=Path(path).name, report=parsed.report, counts=counts
    )


def responses_frame(parsed: ParsedSurvey) -> pd.DataFrame:
    """The parsed responses as one row per response — the same shape as
    :func:`sql.queries.research.survey_responses` (metadata columns plus one column per item)."""
    rows = []
    for r in parsed.responses:
        row: dict[str, Any] = {
            "respondent_key": r.respondent_key,
            "submitted_at": r.submitted_at,
            "participant_type": r.participant_type,
            "age_band": r.age_band,
            "sex": r.sex,
            "source_row": r.row,
        }
        for item_id, (num, text) in r.answers.items():
            row[item_id] = num if num is not None else text
        rows.append(row)
    frame = pd.DataFrame(rows)
    for item in parsed.instrument.items:
        if item.id not in frame:
            frame[item.id] = None
        if item.is_likert or item.type in ("number", "duration"):
            frame[item.id] = pd.to_numeric(frame[item.id], errors="coerce").astype(float)
    return frame
