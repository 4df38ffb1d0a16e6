"""Files uploaded on the research pages: questionnaire exports (with a shipped or uploaded
instrument and an optional column mapping) and UI/UX timing sheets — checked, previewed and
imported with exactly the checks of ``bosai survey import`` / ``import-timings``.

* :func:`check_survey` / :func:`check_timings` — the validation report as a table
  (:data:`REPORT_COLUMNS`: file, row, column, value, level, reason), a preview of what would
  be stored and the dry-run counts; nothing is written.
* :func:`import_survey_upload` / :func:`import_timings_upload` — validate again and store all
  or nothing (idempotent: the same file twice changes nothing), then record the import in the
  audit chain with the file, its SHA-256 and the counts. A survey import given the page's
  passing check of the very same inputs (same SHA-256) stores the check's parsed file instead
  of reading, checking and dry-running it again; other inputs are checked again.

Limits: :data:`MAX_BYTES` per file, :data:`MAX_ROWS` rows; a file over either is refused
before it is parsed. The upload is written to a private temporary folder under its own base
name (so the report names the file the researcher chose) and removed afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from bosai.errors import InvalidInputError

from .. import audit
from ..queries.research import RESEARCH_ROLES
from ..viewer import Viewer
from .surveys import import_survey, timing_records

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
REPORT_COLUMNS = ("file", "row", "column", "value", "level", "reason")
PREVIEW_ROWS = 10


@dataclasses.dataclass
class UploadCheck:
    """What a check found: ``ok`` when the file may be imported."""

    file: str
    ok: bool
    report: pd.DataFrame
    preview: pd.DataFrame
    counts: dict[str, int] | None
    rows: int
    what: str  # the instrument id, or the timing session key
    #: SHA-256 of everything checked (file, instrument, mapping, drill): an import of the same
    #: inputs may reuse ``parsed`` instead of reading and checking the file again.
    inputs_sha256: str = ""
    parsed: Any = dataclasses.field(default=None, repr=False, compare=False)


QUOTED = re.compile(r"'([^']*)'")


def _value(problem) -> str:
    """The offending value: the problem's own, else the first quoted one in its reason
    (the parsers write ``'6' is out of range 1–5``)."""
    value = getattr(problem, "value", None)
    if value not in (None, ""):
        return str(value)
    found = QUOTED.search(problem.reason or "")
    return found.group(1) if found else ""


def _report(problems, file: str) -> pd.DataFrame:
    rows = [
        {
            "file": p.file or file,
            "row": "" if p.row is None else str(p.row),
            "column": p.column or "",
            "value": _value(p),
            "level": p.level,
            "reason": p.reason,
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def _refused(file: str, reason: str, what: str = "") -> UploadCheck:
    report = pd.DataFrame(
        [{"file": file, "row": "", "column": "", "value": "", "level": "error", "reason": reason}],
        columns=list(REPORT_COLUMNS),
    )
    return UploadCheck(file, False, report, pd.DataFrame(), None, 0, what)


def safe_name(name: str) -> str:
    """The upload's base name (no folders), as the report names it."""
    base = Path(str(name).replace("\\", "/")).name.strip() or "upload"
    return base[:200]


@contextlib.contextmanager
def staged(files: dict[str, bytes]) -> Iterator[dict[str, Path]]:
    """The uploaded ``{name: bytes}`` as files in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bosai-upload-") as folder:
        paths = {}
        for name, data in files.items():
            path = Path(folder) / safe_name(name)
            path.write_bytes(data)
            paths[name] = path
        yield paths


def _require_research(viewer: Viewer) -> None:
    if viewer.role not in RESEARCH_ROLES:
        raise PermissionError(f"role {viewer.role!r} may not import research data")


def _too_big(name: str, data: bytes) -> str | None:
    if len(data) > MAX_BYTES:
        return f"larger than {MAX_BYTES // (1024 * 1024)} MB ({len(data):,} bytes)"
    if not data:
        return "empty file"
    return None


# ---------------------------------------------------------------- questionnaires


@dataclasses.dataclass(frozen=True)
class _SurveyInputs:
    """What a survey upload is checked with: the file and what it is checked against."""

    name: str
    data: bytes
    instrument: str
    instrument_yaml: tuple[str, bytes] | None
    mapping_yaml: tuple[str, bytes] | None
    drill: str | int | None

    def sha256(self) -> str:
        """SHA-256 of the inputs: the file (name and bytes) and what it is checked against."""
        digest = hashlib.sha256()
        for part in (
            safe_name(self.name),
            self.instrument,
            *(self.instrument_yaml or ("", b"")),
            *(self.mapping_yaml or ("", b"")),
        ):
            chunk = part if isinstance(part, bytes) else str(part).encode()
            digest.update(hashlib.sha256(chunk).digest())
        digest.update(hashlib.sha256(str(self.drill).encode()).digest())
        digest.update(hashlib.sha256(self.data).digest())
        return digest.hexdigest()

    def uploads(self) -> list[tuple[str, bytes]]:
        """The uploaded files as ``(name, bytes)``: the export, then any instrument or mapping."""
        return [
            (self.name, self.data),
            *(u for u in (self.instrument_yaml, self.mapping_yaml) if u),
        ]


def _instrument_ref(paths: dict[str, Path], instrument: str, instrument_yaml: str | None) -> str:
    return str(paths[instrument_yaml]) if instrument_yaml else instrument


def check_survey(
    engine: Engine,
    name: str,
    data: bytes,
    instrument: str = "",
    *,
    instrument_yaml: tuple[str, bytes] | None = None,
    mapping_yaml: tuple[str, bytes] | None = None,
    drill: str | int | None = None,
) -> UploadCheck:
    """Validate an uploaded export (and count what an import would do); writes nothing."""
    inputs = _SurveyInputs(name, data, instrument, instrument_yaml, mapping_yaml, drill)
    check, _ = _check_survey(engine, inputs)
    return check


def _check_survey(engine: Engine, inputs: _SurveyInputs) -> tuple[UploadCheck, Any]:
    """:func:`check_survey` and the parsed file (None when refused), read once."""
    from surveys.validate import responses_frame, validate_file

    name, instrument, drill = inputs.name, inputs.instrument, inputs.drill
    instrument_yaml, mapping_yaml = inputs.instrument_yaml, inputs.mapping_yaml
    file = safe_name(name)
    for upload_name, upload in inputs.uploads():
        if reason := _too_big(upload_name, upload):
            return _refused(safe_name(upload_name), reason, instrument), None
    with staged(dict(inputs.uploads())) as paths:
        try:
            ref = _instrument_ref(paths, instrument, instrument_yaml and instrument_yaml[0])
            mapping = paths[mapping_yaml[0]] if mapping_yaml else None
            parsed = validate_file(paths[name], ref, mapping)
        except InvalidInputError as exc:
            return _refused(file, str(exc), instrument), None
        rows = int(parsed.report.rows)
        what = parsed.instrument.id
        report = _report(parsed.report.problems, file)
        if rows > MAX_ROWS:
            return _refused(file, f"{rows:,} rows: more than {MAX_ROWS:,}", what), None
        if not parsed.report.ok:
            return UploadCheck(file, False, report, pd.DataFrame(), None, rows, what), None
        first = dataclasses.replace(parsed, responses=parsed.responses[:PREVIEW_ROWS])
        preview = responses_frame(first).drop(
            columns=["respondent_key", "response_id"], errors="ignore"
        )
        try:
            result = import_survey(
                engine, paths[name], ref, mapping, drill=drill, dry_run=True, parsed=parsed
            )
        except InvalidInputError as exc:
            return _refused(file, str(exc), what), None
    check = UploadCheck(
        file,
        True,
        report,
        preview,
        result.counts.as_dict(),
        rows,
        what,
        inputs_sha256=inputs.sha256(),
        parsed=parsed,
    )
    return check, parsed


def _passed_on(check: UploadCheck | None, inputs_sha256: str) -> bool:
    """Whether ``check`` is a passing check of inputs with this SHA-256 (its parsed file kept)."""
    return (
        check is not None
        and check.ok
        and check.parsed is not None
        and check.inputs_sha256 == inputs_sha256
    )


def _require_pass(check: UploadCheck) -> None:
    if not check.ok:
        raise InvalidInputError(f"{check.file}: the file does not pass the checks; nothing written")


def _audit_import(
    engine: Engine, viewer: Viewer, target: str, check: UploadCheck, data: bytes, counts: dict
) -> None:
    """The import's audit row: the file, its SHA-256, its rows and what was stored."""
    details = {"file": check.file, "sha256": hashlib.sha256(data).hexdigest(), "rows": check.rows}
    audit.record(engine, viewer, "import", target=target, details={**details, **counts})


def import_survey_upload(
    engine: Engine,
    viewer: Viewer,
    name: str,
    data: bytes,
    instrument: str = "",
    *,
    instrument_yaml: tuple[str, bytes] | None = None,
    mapping_yaml: tuple[str, bytes] | None = None,
    drill: str | int | None = None,
    check: UploadCheck | None = None,
) -> dict[str, Any]:
    """Check again and import (all or nothing); audited. Raises InvalidInputError when the
    file does not pass (nothing written), PermissionError for roles other than researcher and
    admin.

    ``check``: the page's :func:`check_survey` of these inputs. When it passed and its
    ``inputs_sha256`` is that of these inputs, its parsed file is stored as it is (no second
    read, check or dry run); a check of other inputs (another or a changed file, instrument,
    mapping or drill) is ignored and the file checked again."""
    _require_research(viewer)
    inputs = _SurveyInputs(name, data, instrument, instrument_yaml, mapping_yaml, drill)
    if _passed_on(check, inputs.sha256()):
        parsed = check.parsed
    else:
        check, parsed = _check_survey(engine, inputs)
    _require_pass(check)
    # The file as just checked (read once): stored all or nothing.
    result = import_survey(engine, Path(check.file), parsed.instrument, drill=drill, parsed=parsed)
    counts = result.counts.as_dict()
    _audit_import(
        engine, viewer, f"research.survey_upload:{result.instrument}", check, data, counts
    )
    return {"instrument": result.instrument, "file": check.file, **counts}


# ---------------------------------------------------------------- UI/UX timing sheets


def check_timings(
    engine: Engine, name: str, data: bytes, session_key: str | None = None
) -> UploadCheck:
    """Validate an uploaded timing sheet (and count what an import would do)."""
    from surveys.timing_sheet import read_timing_sheet

    from ..research_store import store_uiux

    file = safe_name(name)
    key = (session_key or Path(file).stem)[:64]
    if reason := _too_big(name, data):
        return _refused(file, reason, key)
    with staged({name: data}) as paths:
        try:
            sheet = read_timing_sheet(paths[name], strict=False)
        except InvalidInputError as exc:
            return _refused(file, str(exc), key)
    rows = len(sheet.frame)
    report = _report(sheet.report.problems, file)
    if rows > MAX_ROWS:
        return _refused(file, f"{rows:,} rows: more than {MAX_ROWS:,}", key)
    if sheet.report.errors:
        return UploadCheck(file, False, report, pd.DataFrame(), None, rows, key)
    counts = store_uiux(
        engine,
        session_key=key,
        name=key,
        held_on=None,
        location=None,
        source_file=file,
        records=timing_records(sheet),
        dry_run=True,
    )
    preview = sheet.frame.drop(columns=["row"], errors="ignore").head(PREVIEW_ROWS)
    return UploadCheck(file, True, report, preview, counts.as_dict(), rows, key)


def import_timings_upload(
    engine: Engine,
    viewer: Viewer,
    name: str,
    data: bytes,
    session_key: str | None = None,
    session_name: str | None = None,
) -> dict[str, Any]:
    """Check again and import the timing sheet (all or nothing); audited."""
    _require_research(viewer)
    from surveys.timing_sheet import read_timing_sheet

    from ..research_store import store_uiux

    check = check_timings(engine, name, data, session_key)
    _require_pass(check)
    with staged({name: data}) as paths:
        sheet = read_timing_sheet(paths[name])
    counts = store_uiux(
        engine,
        session_key=check.what,
        name=session_name or check.what,
        held_on=None,
        location=None,
        source_file=check.file,
        records=timing_records(sheet),
    ).as_dict()
    _audit_import(engine, viewer, f"research.timings_upload:{check.what}", check, data, counts)
    return {"session": check.what, "file": check.file, **counts}
