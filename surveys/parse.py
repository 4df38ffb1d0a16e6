"""Turn an export table into responses for an instrument, with a validation report.

Columns are matched to items by the item's Japanese or English text, an alias, its id (Kobo
column names, with or without a group path), the text in brackets of a Google Forms grid
column (``質問 [項目]``) — or by a mapping file. Answers are parsed by item type:

* Likert: a number on the scale, or a label (とてもそう思う … 全くそう思わない; ``5 とてもそう思う``);
* single / multiple choice: option code, Japanese or English label, or alias (multiple answers
  separated by ``;`` (Microsoft Forms), ``,`` / ``、`` (Google Forms) or spaces (Kobo));
* number; duration in seconds, ``m:ss``, ``h:mm:ss``, ``5分30秒``; free text.

The report lists **errors** (the import is refused: unreadable or out-of-range answers,
unknown options, bad timestamps, duplicate respondents, two columns for one item, no item
matched) and **warnings** (the import proceeds: unknown columns are ignored, items missing from
the export, straight-lining, rows without any answer are skipped). Every problem names the file,
the spreadsheet row and the column.

>>> from surveys.instrument import load_instrument
>>> from surveys.reader import read_table_text
>>> text = "タイムスタンプ,年代,アプリの操作は簡単だった\\n2022/03/11 10:15:32,70代以上,そう思う\\n"
>>> parsed = parse_export(read_table_text(text, "a.csv"), load_instrument("drill-2022"))
>>> parsed.responses[0].answers["ui_easy"], parsed.responses[0].age_band
((4.0, None), '70plus')
>>> parsed.report.ok
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import re
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from importers.problems import ERROR, WARNING, Problem

from .instrument import LIKERT_SCALES, Instrument, Item, normalise, scales
from .mapping import IGNORE, Mapping
from .reader import METADATA_COLUMNS, Table

#: Minimum number of answered Likert items before identical answers count as straight-lining.
STRAIGHT_LINING_MIN_ITEMS = 5

Answer = tuple[float | None, str | None]


@dataclasses.dataclass
class ValidationReport:
    file: str
    source_format: str = "generic"
    encoding: str = ""
    rows: int = 0
    problems: list[Problem] = dataclasses.field(default_factory=list)
    matched_columns: dict[str, str] = dataclasses.field(default_factory=dict)

    def add(self, level: str, row: int | str, column: str, message: str, code: str) -> None:
        self.problems.append(Problem(self.file, row, column, message, level, code))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, level: str | None = None) -> list[str]:
        return [str(p) for p in self.problems if level is None or p.level == level]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.code] = out.get(p.code, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source_format": self.source_format,
            "encoding": self.encoding,
            "rows": self.rows,
            "matched_columns": self.matched_columns,
            "errors": [_problem_dict(p) for p in self.errors],
            "warnings": [_problem_dict(p) for p in self.warnings],
        }


def _problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem in the report's JSON (``bosai survey import --json``)."""
    return {
        "level": problem.level,
        "row": problem.row,
        "column": problem.column,
        "message": problem.reason,
        "code": problem.code,
    }


@dataclasses.dataclass
class ParsedResponse:
    respondent_key: str
    row: int
    submitted_at: dt.datetime | None
    answers: dict[str, Answer]
    participant_type: str | None = None
    age_band: str | None = None
    sex: str | None = None


@dataclasses.dataclass
class ParsedSurvey:
    instrument: Instrument
    file: str
    responses: list[ParsedResponse]
    report: ValidationReport


# ---------------------------------------------------------------- columns


def _item_keys(item: Item) -> set[str]:
    keys = {normalise(item.id), normalise(item.text_ja)}
    if item.text_en:
        keys.add(normalise(item.text_en))
    keys.update(normalise(a) for a in item.aliases)
    return keys


_BRACKET = re.compile(r"^(.*)\[(.+)\]$")


def match_columns(
    headers: list[str], instrument: Instrument, mapping: Mapping | None, source_format: str
) -> tuple[dict[int, str], list[int], set[int]]:
    """``({column index: item id}, [unknown column indexes], {metadata column indexes})``."""
    by_key: dict[str, str] = {}
    for item in instrument.items:
        for key in _item_keys(item):
            by_key.setdefault(key, item.id)
    meta_names = set(METADATA_COLUMNS[source_format])
    meta_names |= {normalise("タイムスタンプ"), "timestamp", normalise("回答日時")}
    if mapping is not None:
        meta_names |= {k for k in (mapping.respondent_key, mapping.timestamp) if k}
    matched: dict[int, str] = {}
    unknown: list[int] = []
    meta: set[int] = set()
    for i, header in enumerate(headers):
        norm = normalise(header)
        if mapping is not None and norm in mapping.columns:
            target = mapping.columns[norm]
            if target == IGNORE:
                meta.add(i)
            else:
                matched[i] = target
            continue
        if norm in meta_names:
            meta.add(i)
            continue
        candidates = [norm]
        bracket = _BRACKET.match(unicodedata.normalize("NFKC", header).strip())
        if bracket:
            candidates.append(normalise(bracket.group(2)))
        if "/" in norm:  # Kobo group path: group_optin/optin_recognised
            candidates.append(norm.rsplit("/", 1)[1])
        item_id = next((by_key[c] for c in candidates if c in by_key), None)
        if item_id is not None:
            matched[i] = item_id
        elif norm.startswith("_") or (source_format == "kobo" and "/" in norm):
            meta.add(i)  # Kobo's own columns (_parent_index, per-option 0/1 columns, ...)
        else:
            unknown.append(i)
    return matched, unknown, meta


# ---------------------------------------------------------------- values


class ValueProblem(ValueError):
    def __init__(self, message: str, code: str = "unparseable"):
        super().__init__(message)
        self.code = code


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_PREFIXED = re.compile(r"^(\d+)\s*[:：.．\-—–)）(（]?\s*(.+?)[)）]?$")


def _number(text: str) -> float | None:
    t = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    return float(t) if _NUMBER.match(t) else None


def _likert_labels(item: Item) -> dict[str, int]:
    out: dict[str, int] = {}
    for value, labels in scales()[LIKERT_SCALES[item.type]].items():
        for label in labels:
            out.setdefault(normalise(label), value)
    return out


def parse_likert(item: Item, text: str, extra: dict[str, Any] | None = None) -> float:
    """A Likert answer as its scale number.

    >>> from surveys.instrument import load_instrument
    >>> item = load_instrument("sus").item("sus01")
    >>> parse_likert(item, "全くそう思わない"), parse_likert(item, "５"), parse_likert(item, "4：そう思う")
    (1.0, 5.0, 4.0)
    """
    points = item.points or 5
    norm = normalise(text)
    if extra and norm in extra:
        value = _number(str(extra[norm]))
        if value is None:
            raise ValueProblem(f"mapping value {extra[norm]!r} is not a number")
    else:
        value = _number(text)
        if value is None:
            labels = _likert_labels(item)
            if norm in labels:
                value = float(labels[norm])
            else:
                prefixed = _PREFIXED.match(unicodedata.normalize("NFKC", text).strip())
                if prefixed and normalise(prefixed.group(2)) in labels:
                    value = float(prefixed.group(1))
                    if labels[normalise(prefixed.group(2))] != value:
                        raise ValueProblem(f"{text!r}: the number and the label disagree")
                else:
                    raise ValueProblem(f"{text!r} is not an answer on the {points}-point scale")
    if not (1 <= value <= points) or not float(value).is_integer():
        raise ValueProblem(f"{text!r} is out of range 1–{points}", "out_of_range")
    return float(value)


def _option_lookup(item: Item, extra: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in item.options:
        for key in (o.code, o.ja, o.en, *o.aliases):
            if key:
                out.setdefault(normalise(key), o.code)
    for label, code in (extra or {}).items():
        if item.option(str(code)) is not None:
            out[label] = str(code)
    return out


def parse_single(item: Item, text: str, extra: dict[str, Any] | None = None) -> str:
    lookup = _option_lookup(item, extra)
    code = lookup.get(normalise(text))
    if code is None:
        prefixed = _PREFIXED.match(unicodedata.normalize("NFKC", text).strip())
        if prefixed:
            code = lookup.get(normalise(prefixed.group(2)))
    if code is None:
        choices = "、".join(o.ja for o in item.options)
        raise ValueProblem(f"{text!r} is not one of the options ({choices})", "unknown_option")
    return code


def parse_multiple(item: Item, text: str, extra: dict[str, Any] | None = None) -> str:
    """Selected option codes, in the instrument's option order, joined by ``;``.

    >>> from surveys.instrument import load_instrument
    >>> item = load_instrument("drill-2022").item("share_targets")
    >>> parse_multiple(item, "家族;町内会;"), parse_multiple(item, "町内会, 家族"), parse_multiple(item, "family friends")
    ('family;neighbourhood', 'family;neighbourhood', 'family;friends')
    """
    lookup = _option_lookup(item, extra)
    norm_text = unicodedata.normalize("NFKC", text).strip()
    chosen: set[str] | None = None
    for pattern in (r"[;；]", r"[,、，]", r"\s+"):
        tokens = [t for t in re.split(pattern, norm_text) if t.strip()]
        codes = [lookup.get(normalise(t)) for t in tokens]
        if tokens and all(codes):
            chosen = set(codes)  # type: ignore[arg-type]
            break
    if chosen is None:  # labels containing separators: match whole labels greedily
        rest = normalise(norm_text)
        chosen = set()
        for label in sorted(lookup, key=len, reverse=True):
            if label and label in rest:
                chosen.add(lookup[label])
                rest = rest.replace(label, "")
        if re.sub(r"[;；,、，]", "", rest):
            raise ValueProblem(f"{text!r}: not all parts are options of the item", "unknown_option")
    return ";".join(o.code for o in item.options if o.code in chosen)


_DURATION_JA = re.compile(r"^(?:(\d+(?:\.\d+)?)時間)?(?:(\d+(?:\.\d+)?)分)?(?:(\d+(?:\.\d+)?)秒)?$")


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``1:30``, ``0:01:30``, ``1分30秒``, ``1時間5分``.

    >>> parse_duration("1:30"), parse_duration("0:01:30"), parse_duration("１分３０秒"), parse_duration("95.5")
    (90.0, 90.0, 90.0, 95.5)
    """
    t = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    value = _number(t)
    if value is not None:
        return value
    if re.fullmatch(r"\d+:\d{1,2}(\.\d+)?", t):
        m, s = t.split(":")
        if float(s) >= 60:
            raise ValueProblem(f"{text!r}: seconds must be below 60")
        return int(m) * 60 + float(s)
    if re.fullmatch(r"\d+:\d{2}:\d{2}(\.\d+)?", t):
        h, m, s = t.split(":")
        if int(m) >= 60 or float(s) >= 60:
            raise ValueProblem(f"{text!r}: minutes and seconds must be below 60")
        return int(h) * 3600 + int(m) * 60 + float(s)
    match = _DURATION_JA.match(t)
    if match and any(match.groups()):
        h, m, s = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + s
    raise ValueProblem(f"{text!r} is not a duration (seconds, m:ss, h:mm:ss or 分・秒)")


def parse_value(item: Item, text: str, extra: dict[str, Any] | None = None) -> Answer:
    """``(number, text)`` for one non-empty cell; raises :class:`ValueProblem`."""
    if item.is_likert:
        return parse_likert(item, text, extra), None
    if item.type == "single":
        return None, parse_single(item, text, extra)
    if item.type == "multiple":
        return None, parse_multiple(item, text, extra)
    if item.type == "text":
        return None, text.strip()
    if item.type == "number":
        value = _number(text)
        if value is None:
            raise ValueProblem(f"{text!r} is not a number")
    else:
        value = parse_duration(text)
    if not math.isfinite(value):
        raise ValueProblem(f"{text!r} is not a finite number")
    if item.min is not None and value < item.min:
        raise ValueProblem(f"{text!r} is below the minimum {item.min:g}", "out_of_range")
    if item.max is not None and value > item.max:
        raise ValueProblem(f"{text!r} is above the maximum {item.max:g}", "out_of_range")
    return value, None


# ---------------------------------------------------------------- timestamps

#: ``%Y/%m/%d %H:%M:%S`` (Google Forms' Japanese timestamps), read without ``strptime``.
_PLAIN_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})", re.ASCII)
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)


def parse_timestamp(text: str, tz: ZoneInfo) -> dt.datetime:
    """A submission time; naive values are taken in ``tz`` (Asia/Tokyo for the exports here).

    >>> parse_timestamp("2022/03/11 10:15:32", ZoneInfo("Asia/Tokyo")).isoformat()
    '2022-03-11T10:15:32+09:00'
    >>> parse_timestamp("2022-03-11T01:15:32.123Z", ZoneInfo("Asia/Tokyo")).hour
    1
    """
    t = unicodedata.normalize("NFKC", text).strip()
    if (plain := _PLAIN_TIME.fullmatch(t)) is not None:  # strptime's first format, 10x faster
        try:
            return dt.datetime(*map(int, plain.groups()), tzinfo=tz)
        except ValueError:
            pass  # the formats below say why
    t = re.sub(r"\s+(GMT|UTC|JST)([+-]\d+(:\d+)?)?$", "", t)  # Google Forms "…GMT+9"
    try:
        value = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        value = None
        for fmt in _TIME_FORMATS:
            try:
                value = dt.datetime.strptime(t, fmt)
                break
            except ValueError:
                continue
        if value is None:
            raise ValueProblem(f"{text!r} is not a date and time", "bad_timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value


# ---------------------------------------------------------------- the parse


#: Where each export format keeps the respondent's key, first found first.
KEY_COLUMNS = {
    "google_forms": ("メールアドレス", "Email Address"),
    "ms_forms": ("ID",),
    "kobo": ("_uuid", "meta/instanceID", "_id"),
}
#: Where each export format keeps the submission time, first found first.
TIME_COLUMNS = {
    "google_forms": ("タイムスタンプ", "Timestamp"),
    "ms_forms": ("完了時刻", "Completion time"),
    "kobo": ("_submission_time", "end"),
}


def _meta_index(table: Table, names: tuple[str, ...]) -> int | None:
    for name in names:
        index = table.column(name)
        if index is not None:
            return index
    return None


def _mapped_index(table: Table, report: ValidationReport, column: str, role: str) -> int | None:
    """The index of the column the mapping names for ``role`` (an error when it is missing)."""
    index = _meta_index(table, (column,))
    if index is None:
        report.add(
            ERROR,
            1,
            column,
            f"{role} column of the mapping is not in the export",
            "missing_column",
        )
    return index


def _respondent_key(table: Table, cells: list[str], key_index: int | None, stamp: str) -> str:
    prefix = {"google_forms": "gf", "ms_forms": "msf", "kobo": "kobo"}.get(
        table.source_format, "row"
    )
    if key_index is not None and cells[key_index].strip():
        raw = cells[key_index].strip()
        if table.source_format == "google_forms":  # an e-mail address: keep only its hash
            return f"{prefix}:" + hashlib.sha256(normalise(raw).encode()).hexdigest()[:40]
        return f"{prefix}:{raw}"[:96]
    digest = hashlib.sha256("\x1f".join([stamp, *cells]).encode()).hexdigest()[:40]
    return f"{prefix}:h:{digest}"


def _columns(table: Table, width: int) -> list[list[str]]:
    """The table's cells column by column (one list of texts per column)."""
    if not table.rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*(row.cells for row in table.rows), strict=True)]


ParsedColumn = tuple[list[Any], list[tuple[int, ValueProblem]]]


def _parse_column_with(texts: list[str], parse) -> ParsedColumn:
    """``parse`` applied to each non-blank text of a column, each distinct text parsed once:
    ``([result or None per row], [(row index, problem), ...])`` — None for a blank cell or one
    whose text raised a :class:`ValueProblem`, which is listed with its row instead."""
    results: dict[str, Any] = {}
    bad: dict[str, ValueProblem] = {}
    for text in dict.fromkeys(texts):
        results[text] = None
        if text.strip():
            try:
                results[text] = parse(text)
            except ValueProblem as exc:
                bad[text] = exc
    problems = [(r, bad[text]) for r, text in enumerate(texts) if text in bad] if bad else []
    return [results[text] for text in texts], problems


def _parse_column(texts: list[str], item: Item, extra: dict[str, Any] | None) -> ParsedColumn:
    """One item's column parsed (see :func:`_parse_column_with`): ``(number, text)`` answers."""
    return _parse_column_with(texts, lambda text: parse_value(item, text, extra))


def _problems_by_row(
    headers: list[str], columns: list[ParsedColumn]
) -> dict[int, list[tuple[str, ValueProblem]]]:
    """``{row index: [(column header, problem), ...]}`` in column order, for the rows with a
    problem in any of ``columns``."""
    out: dict[int, list[tuple[str, ValueProblem]]] = {}
    for header, (_values, problems) in zip(headers, columns, strict=True):
        for r, problem in problems:
            out.setdefault(r, []).append((header, problem))
    return out


def parse_export(
    table: Table, instrument: Instrument, mapping: Mapping | None = None
) -> ParsedSurvey:
    """Match columns, parse every answer and validate; never raises for bad data (see report).

    Answers are parsed column by column, each distinct text of a column once (an export of
    10,000 rows holds a handful of distinct answers per item); the report still lists every
    problem in every row, row by row and in column order, as a cell-by-cell pass would."""
    report = ValidationReport(
        file=table.name,
        source_format=table.source_format,
        encoding=table.encoding,
        rows=len(table.rows),
    )
    answered = _answered_columns(table, instrument, mapping, report)
    key_index, time_index, kobo_utc = _metadata_columns(table, mapping, report)
    columns = _parse_columns(table, instrument, mapping, answered, time_index, kobo_utc)
    responses = _responses(table, instrument, mapping, report, answered, columns, key_index)
    return ParsedSurvey(instrument=instrument, file=table.name, responses=responses, report=report)


def _answered_columns(
    table: Table, instrument: Instrument, mapping: Mapping | None, report: ValidationReport
) -> list[tuple[int, str]]:
    """``(column index, item id)`` of the columns that answer an item (the first of two for
    one item), reporting unknown, doubled and missing columns."""
    matched, unknown, _meta = match_columns(table.headers, instrument, mapping, table.source_format)
    for i in unknown:
        report.add(
            WARNING,
            1,
            table.headers[i] or f"#{i + 1}",
            "unknown column (ignored)",
            "unknown_column",
        )
    seen_items: dict[str, int] = {}
    for i, item_id in sorted(matched.items()):
        if item_id in seen_items:
            other = table.headers[seen_items[item_id]]
            report.add(
                ERROR,
                1,
                table.headers[i],
                f"a second column for item {item_id} (first: {other!r})",
                "duplicate_column",
            )
        else:
            seen_items[item_id] = i
    report.matched_columns = {table.headers[i]: item_id for i, item_id in matched.items()}
    if not matched:
        report.add(
            ERROR,
            1,
            "-",
            f"no column matches an item of instrument {instrument.id} (use --mapping)",
            "no_items",
        )
    for item in instrument.items:
        if item.id not in seen_items:
            report.add(
                WARNING,
                1,
                item.id,
                f"item {item.id} ({item.text_ja}) is not in the export",
                "missing_item",
            )
    return [(i, item_id) for i, item_id in matched.items() if seen_items.get(item_id) == i]


def _metadata_columns(
    table: Table, mapping: Mapping | None, report: ValidationReport
) -> tuple[int | None, int | None, bool]:
    """The respondent key's and the time stamp's column (mapped or found by name), and whether
    the stamps are Kobo's UTC submission times."""
    if mapping is not None and mapping.respondent_key:
        key_index = _mapped_index(table, report, mapping.respondent_key, "respondent_key")
    else:
        key_index = _meta_index(table, KEY_COLUMNS.get(table.source_format, ()))
    if mapping is not None and mapping.timestamp:
        time_index = _mapped_index(table, report, mapping.timestamp, "timestamp")
    else:
        time_index = _meta_index(
            table,
            TIME_COLUMNS.get(table.source_format, ("タイムスタンプ", "Timestamp", "回答日時")),
        )
    kobo_utc = table.source_format == "kobo" and time_index == table.column("_submission_time")
    return key_index, time_index, kobo_utc


@dataclasses.dataclass(frozen=True)
class _ParsedColumns:
    """Each answered column's values and problems, the time stamps as text and parsed, and the
    problems by row (in column order, time stamp last)."""

    parsed: list
    stamps: list[str]
    times: tuple
    row_problems: dict


def _parse_columns(
    table: Table,
    instrument: Instrument,
    mapping: Mapping | None,
    answered: list[tuple[int, str]],
    time_index: int | None,
    kobo_utc: bool,
) -> _ParsedColumns:
    """Parse each answered column and the time stamps (each distinct text once)."""
    tz = ZoneInfo(mapping.timezone if mapping else "Asia/Tokyo")
    items = {item.id: item for item in instrument.items}
    extra = mapping.values if mapping else {}
    cells = _columns(table, width=len(table.headers))
    parsed = [
        _parse_column(cells[i], items[item_id], extra.get(item_id)) for i, item_id in answered
    ]
    stamps = cells[time_index] if time_index is not None else [""] * len(table.rows)
    times = _parse_column_with(
        stamps, lambda text: parse_timestamp(text, dt.UTC if kobo_utc else tz)
    )
    row_problems = _problems_by_row(
        [
            *(table.headers[i] for i, _ in answered),
            table.headers[time_index] if time_index is not None else "-",
        ],
        [*parsed, times],
    )
    return _ParsedColumns(parsed, stamps, times, row_problems)


def _responses(
    table: Table,
    instrument: Instrument,
    mapping: Mapping | None,
    report: ValidationReport,
    answered: list[tuple[int, str]],
    columns: _ParsedColumns,
    key_index: int | None,
) -> list[ParsedResponse]:
    """One response per row with answers (rows' problems, empty rows, straight-lining and
    duplicate respondents reported as they come)."""
    items = {item.id: item for item in instrument.items}
    parsed, stamps, times, row_problems = (
        columns.parsed,
        columns.stamps,
        columns.times,
        columns.row_problems,
    )
    answered_ids = [item_id for _, item_id in answered]
    by_row = (
        zip(*(values for values, _ in parsed), strict=True) if parsed else [()] * len(table.rows)
    )
    likert_ids = [i.id for i in instrument.likert_items]
    responses: list[ParsedResponse] = []
    by_key: dict[str, int] = {}
    for r, (row, row_values) in enumerate(zip(table.rows, by_row, strict=True)):
        answers: dict[str, Answer] = {
            item_id: value
            for item_id, value in zip(answered_ids, row_values, strict=True)
            if value is not None
        }
        problems = row_problems.get(r, ())
        for column_name, exc in problems:
            report.add(ERROR, row.number, column_name, str(exc), exc.code)
        row_ok = not problems
        stamp = stamps[r]
        submitted_at = times[0][r]
        if not answers and row_ok:
            report.add(WARNING, row.number, "-", "no answer in this row (skipped)", "empty_row")
            continue
        likert = [answers[i][0] for i in likert_ids if i in answers]
        if len(likert) >= STRAIGHT_LINING_MIN_ITEMS and len(set(likert)) == 1:
            report.add(
                WARNING,
                row.number,
                "-",
                f"straight-lining: the same answer ({likert[0]:g}) to all {len(likert)} scale items",
                "straight_lining",
            )
        key = _respondent_key(table, row.cells, key_index, stamp)
        response = ParsedResponse(
            respondent_key=key, row=row.number, submitted_at=submitted_at, answers=answers
        )
        for item_id, (_num, text) in answers.items():
            target = items[item_id].maps_to
            if target:
                setattr(response, target, text)
        if key in by_key:
            first = responses[by_key[key]]
            policy = mapping.on_duplicate if mapping else "error"
            if policy == "error":
                column = table.headers[key_index] if key_index is not None else "-"
                report.add(
                    ERROR,
                    row.number,
                    column,
                    f"duplicate respondent: same respondent as row {first.row} (set on_duplicate in a mapping file to keep one)",
                    "duplicate_respondent",
                )
            else:
                report.add(
                    WARNING,
                    row.number,
                    "-",
                    f"duplicate respondent of row {first.row}: kept the {'first' if policy == 'keep_first' else 'last'}",
                    "duplicate_respondent",
                )
                if policy == "keep_last":
                    responses[by_key[key]] = response
            continue
        by_key[key] = len(responses)
        responses.append(response)
    return responses
