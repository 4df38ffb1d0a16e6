"""UI/UX task-timing sheets (CSV or XLSX) — one row per participant × task × method.

Columns (English or Japanese headers): ``participant`` / 参加者, ``group`` / 区分 (高齢者,
中学生, 一般 or ``elderly``, ``student``, ``general``), ``task`` / タスク, ``method`` / 方法
(アプリ, 紙 or ``app``, ``paper``), ``time`` / 時間 (seconds, ``m:ss`` or ``h:mm:ss``; empty when
the task was abandoned), ``success`` / 成功 (○/×, はい/いいえ, 1/0, TRUE/FALSE) and optionally
``errors`` / エラー数 (a count). Problems are reported like survey problems: file, row, column.

>>> from surveys.reader import read_table_text
>>> text = "参加者,区分,タスク,方法,時間,成功\\nP01,高齢者,マイタイムライン作成,紙,12:30,○\\n"
>>> sheet = parse_timing_table(read_table_text(text, "t.csv"))
>>> row = sheet.frame.to_dict("records")[0]
>>> row["participant"], row["group"], row["method"], row["seconds"], row["success"]
('P01', 'elderly', 'paper', 750.0, True)
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bosai.errors import InvalidInputError
from importers.problems import ERROR

from .instrument import normalise
from .parse import ValidationReport, ValueProblem, parse_duration
from .reader import Row, Table, read_table

COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("participant", "参加者", "参加者id", "被験者", "id"),
    "group": ("group", "区分", "属性", "グループ"),
    "task": ("task", "タスク", "課題"),
    "method": ("method", "方法", "手段"),
    "time": ("time", "時間", "所要時間", "seconds", "秒"),
    "success": ("success", "成功", "完了", "達成"),
    "errors": ("errors", "error_count", "エラー", "エラー数", "誤操作数"),
}
REQUIRED = ("participant", "group", "task", "method", "time")
GROUPS = {
    "elderly": ("高齢者", "シニア", "elderly"),
    "student": ("中学生", "学生", "生徒", "student", "students", "junior_high"),
    "general": ("一般", "一般市民", "一般の方", "general", "adult"),
}
METHODS = {
    "app": ("アプリ", "スマホ", "スマートフォン", "app"),
    "paper": ("紙", "用紙", "紙面", "paper"),
}
TRUE_WORDS = {
    normalise(w) for w in ("○", "〇", "◯", "はい", "成功", "完了", "1", "true", "yes", "y", "ok")
}
FALSE_WORDS = {
    normalise(w) for w in ("×", "✕", "いいえ", "失敗", "未完了", "0", "false", "no", "n")
}
MAX_SECONDS = 4 * 3600
#: The parsed sheet's columns.
FRAME_COLUMNS = (
    "participant",
    "group",
    "task",
    "method",
    "seconds",
    "success",
    "error_count",
    "row",
)
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclasses.dataclass
class TimingSheet:
    file: str
    frame: pd.DataFrame  # participant, group, task, method, seconds, success, error_count, row
    report: ValidationReport


def _vocab(value: str, vocab: dict[str, tuple[str, ...]], what: str) -> str:
    norm = normalise(value)
    for code, labels in vocab.items():
        if norm == code or norm in {normalise(label) for label in labels}:
            return code
    if _CODE.match(norm):
        return norm
    known = "、".join(labels[0] for labels in vocab.values())
    raise ValueProblem(
        f"{value!r} is not a known {what} ({known}, or a lower-case code)", "unknown_option"
    )


def parse_timing_table(table: Table) -> TimingSheet:
    """The sheet's rows as records, with the problems of the columns and of each row."""
    report = ValidationReport(
        file=table.name, source_format="timing_sheet", encoding=table.encoding, rows=len(table.rows)
    )
    index = _column_index(table, report)
    rows = _records(table, index, report) if report.ok else []
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["seconds"] = frame["seconds"].astype(float)
    return TimingSheet(file=table.name, frame=frame, report=report)


def _column_index(table: Table, report: ValidationReport) -> dict[str, int]:
    """Each field's column (the first header naming it); unknown and missing columns reported."""
    index: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        norm = normalise(re.sub(r"[（(].*?[)）]", "", unicodedata.normalize("NFKC", header)))
        for field, names in COLUMNS.items():
            if norm in {normalise(n) for n in names} and field not in index:
                index[field] = i
                break
        else:
            report.add(
                "warning", 1, header or f"#{i + 1}", "unknown column (ignored)", "unknown_column"
            )
    report.matched_columns = {table.headers[i]: field for field, i in index.items()}
    for field in REQUIRED:
        if field not in index:
            report.add(
                ERROR,
                1,
                field,
                f"required column missing ({' / '.join(COLUMNS[field][:2])})",
                "missing_column",
            )
    return index


def _records(table: Table, index: dict[str, int], report: ValidationReport) -> list[dict]:
    """The rows without problems, each participant × task × method once."""
    rows: list[dict] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in table.rows:
        rec = _record(table, row, index, report)
        if rec is None:
            continue
        key = (rec["participant"], rec["task"], rec["method"])
        if key in seen:
            report.add(
                ERROR,
                row.number,
                table.headers[index["participant"]],
                f"duplicate: {key[0]} / {key[1]} / {key[2]} already on row {seen[key]}",
                "duplicate_respondent",
            )
            continue
        seen[key] = row.number
        rows.append(rec)
    return rows


def _record(table: Table, row: Row, index: dict[str, int], report: ValidationReport) -> dict | None:
    """One row as a record, or None when it has problems (each reported at its column)."""
    cell = {f: row.cells[i].strip() for f, i in index.items()}
    rec: dict = {"row": row.number}
    bad = False

    def problem(field: str, message: str, code: str) -> None:
        nonlocal bad
        report.add(ERROR, row.number, table.headers[index[field]], message, code)
        bad = True

    def parsed(field: str, parse: Callable[[str], Any]) -> Any:
        """The cell of ``field`` parsed, or None when it is empty, absent or unparseable."""
        if field not in index or not cell[field]:
            return None
        try:
            return parse(cell[field])
        except ValueProblem as exc:
            problem(field, str(exc), exc.code)
            return None

    for field in ("participant", "task"):
        if not cell[field]:
            problem(field, "empty", "missing_value")
        rec[field] = unicodedata.normalize("NFKC", cell[field])
    for field, vocab in (("group", GROUPS), ("method", METHODS)):
        try:
            rec[field] = _vocab(cell[field], vocab, field)
        except ValueProblem as exc:
            problem(field, str(exc), exc.code)
    rec["seconds"] = parsed("time", _seconds)
    rec["success"] = parsed("success", _success)
    if rec["seconds"] is None and rec["success"] is not False and not bad:
        problem("time", "time is empty but the task is not marked as failed", "missing_value")
    rec["error_count"] = parsed("errors", _error_count)
    return None if bad else rec


def _seconds(text: str) -> float:
    seconds = parse_duration(text)
    if not 0 <= seconds <= MAX_SECONDS:
        raise ValueProblem(f"{text!r} is outside 0–{MAX_SECONDS} s", "out_of_range")
    return seconds


def _success(text: str) -> bool:
    word = normalise(text)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem(f"{text!r} is not yes/no (○/×)", "unparseable")


def _error_count(text: str) -> int:
    count = unicodedata.normalize("NFKC", text)
    if not count.isdigit():
        raise ValueProblem(f"{text!r} is not a count", "unparseable")
    return int(count)


def read_timing_sheet(path: str | Path, strict: bool = True) -> TimingSheet:
    """Read and validate a timing sheet; with ``strict`` any error raises InvalidInputError."""
    sheet = parse_timing_table(read_table(path))
    if strict and sheet.report.errors:
        raise InvalidInputError(
            f"{sheet.file}: {len(sheet.report.errors)} problem(s); nothing was read",
            sheet.report.lines("error"),
        )
    return sheet
