"""The store side of questionnaire exports and UI/UX timing sheets.

Parsing is :mod:`surveys` (:func:`surveys.validate.validate_file`,
:func:`surveys.timing_sheet.read_timing_sheet`); this module turns what they parsed into the
research store's records and writes them with :mod:`sql.research_store` — one transaction,
idempotent (a re-import of the same file changes nothing), with a dry run that writes nothing.
:func:`import_survey` refuses a file with any error (``FILE:ROW:COLUMN: reason`` lines) before
anything is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bosai.errors import InvalidInputError
from surveys.instrument import Instrument
from surveys.mapping import Mapping
from surveys.parse import ParsedSurvey, ValidationReport
from surveys.timing_sheet import TimingSheet
from surveys.validate import refuse_if_invalid, validate_file

from ..research_store import StoreCounts, SurveyRecord, TimingRecord, store_survey


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


def survey_records(parsed: ParsedSurvey) -> list[SurveyRecord]:
    """The parsed responses as the store's records."""
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


def timing_records(sheet: TimingSheet) -> list[TimingRecord]:
    """The rows of a validated timing sheet as the store's records."""
    frame = sheet.frame.astype(object).where(sheet.frame.notna(), None)
    return [
        TimingRecord(
            participant=r["participant"],
            participant_group=r["group"],
            task=r["task"],
            method=r["method"],
            seconds=None if r["seconds"] is None else float(r["seconds"]),
            success=None if r["success"] is None else bool(r["success"]),
            error_count=None if r["error_count"] is None else int(r["error_count"]),
        )
        for r in frame.to_dict("records")
    ]


def import_survey(
    engine: Engine,
    path: str | Path,
    instrument: str | Instrument,
    mapping: str | Path | Mapping | None = None,
    *,
    drill: str | int | None = None,
    dry_run: bool = False,
    parsed: ParsedSurvey | None = None,
) -> ImportResult:
    """Validate ``path`` and store its responses (all or nothing). ``dry_run`` writes nothing.
    ``parsed``: the result of ``validate_file`` on this same file when the caller has it
    already (the upload page), so the file is not read twice; it is still refused if invalid."""
    if parsed is None:
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
            records=survey_records(parsed),
            source_file=Path(path).name,
            drill=drill,
            dry_run=dry_run,
        )
    except LookupError as exc:
        raise InvalidInputError(f"{Path(path).name}: {exc}") from exc
    return ImportResult(
        instrument=inst.id, file=Path(path).name, report=parsed.report, counts=counts
    )
