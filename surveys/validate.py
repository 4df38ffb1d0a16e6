"""A questionnaire export file, read and validated — the parse side of the survey import.

:func:`validate_file` reads an export (:mod:`surveys.reader`) and parses it for an instrument
(:mod:`surveys.parse`), with the validation report; nothing touches the database. The store side
is :mod:`sql.imports.surveys` (``bosai survey import``). :func:`refuse_if_invalid` raises
:class:`~bosai.errors.InvalidInputError` with ``FILE:ROW:COLUMN: reason`` lines when the report
has an error; :func:`responses_frame` gives the responses as the research queries give stored
ones, for analysis without importing.

>>> samples = Path(__file__).parents[1] / "tests" / "surveys" / "samples"
>>> parsed = validate_file(samples / "google_forms_drill_2022.csv", "drill-2022")
>>> parsed.report.ok, len(parsed.responses), responses_frame(parsed).shape[0]
(True, 24, 24)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bosai.errors import InvalidInputError

from .instrument import Instrument, load_instrument
from .mapping import Mapping, load_mapping
from .parse import ParsedSurvey, parse_export
from .reader import read_table


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
    """Raise :class:`~bosai.errors.InvalidInputError` listing the errors, if there are any."""
    report = parsed.report
    if report.errors:
        raise InvalidInputError(
            f"{report.file}: {len(report.errors)} problem(s); nothing was imported",
            report.lines("error"),
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
