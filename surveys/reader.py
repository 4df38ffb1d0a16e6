"""Read questionnaire exports as they come: CSV or XLSX, UTF-8, UTF-8 with BOM or CP932.

Files are decoded by the importers' decoder (:func:`importers.text_encoding.decode_text`: a file
in another encoding is refused naming the file and line) and CSV is parsed by the importers'
reader (:func:`importers.table_reader.csv_records`); this module adds what questionnaires need.

Every cell is kept as text (a spreadsheet number ``5.0`` becomes ``"5"``, a time cell
``0:03:20`` becomes ``"0:03:20"``), with its spreadsheet row number: the header is row 1, the
first answer row 2 — the numbers a researcher sees in Excel. The export's origin is recognised
from its metadata columns:

* Google Forms — first column タイムスタンプ / Timestamp (メールアドレス optional);
* Microsoft Forms — ID, 開始時刻 / Start time, 完了時刻 / Completion time, メール, 名前;
* KoboToolbox — ``_uuid`` / ``_submission_time`` (CSV often separated by ``;``).

>>> table = read_table_text("タイムスタンプ,年代\\n2022/03/11 10:15:32,70代以上\\n", "x.csv")
>>> table.source_format, table.headers, table.rows[0].number, table.rows[0].cells
('google_forms', ['タイムスタンプ', '年代'], 2, ['2022/03/11 10:15:32', '70代以上'])
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from bosai.errors import InvalidInputError
from importers.table_reader import csv_records
from importers.text_encoding import decode_text

from .instrument import normalise

FORMATS = ("google_forms", "ms_forms", "kobo", "generic")

#: Metadata columns of each export format (normalised header text).
METADATA_COLUMNS: dict[str, frozenset[str]] = {
    "google_forms": frozenset(
        normalise(h)
        for h in (
            "タイムスタンプ",
            "Timestamp",
            "メールアドレス",
            "Email Address",
            "スコア",
            "Score",
        )
    ),
    "ms_forms": frozenset(
        normalise(h)
        for h in (
            "ID",
            "開始時刻",
            "完了時刻",
            "メール",
            "名前",
            "最終変更時刻",
            "合計ポイント",
            "クイズのフィードバック",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "Last modified time",
            "Total points",
            "Quiz feedback",
        )
    ),
    "kobo": frozenset(
        normalise(h)
        for h in (
            "start",
            "end",
            "today",
            "deviceid",
            "username",
            "simserial",
            "subscriberid",
            "phonenumber",
            "audit",
            "_id",
            "_uuid",
            "_submission_time",
            "_validation_status",
            "_notes",
            "_status",
            "_submitted_by",
            "__version__",
            "_version_",
            "_tags",
            "_index",
            "meta/instanceID",
            "meta/rootUuid",
            "meta/deprecatedID",
            "formhub/uuid",
        )
    ),
    "generic": frozenset(),
}


@dataclasses.dataclass(frozen=True)
class Row:
    number: int  # spreadsheet row (header = 1)
    cells: list[str]


@dataclasses.dataclass
class Table:
    """An export as text cells, with where it came from."""

    name: str
    headers: list[str]
    rows: list[Row]
    encoding: str
    source_format: str

    def column(self, header: str) -> int | None:
        """Index of the column whose header is ``header`` (compared normalised)."""
        wanted = normalise(header)
        for i, h in enumerate(self.headers):
            if normalise(h) == wanted:
                return i
        return None


def detect_format(headers: list[str]) -> str:
    norm = [normalise(h) for h in headers]
    if norm and norm[0] in (normalise("タイムスタンプ"), "timestamp"):
        return "google_forms"
    if "id" in norm and (
        ({normalise("開始時刻"), normalise("完了時刻")} <= set(norm))
        or ({"starttime", "completiontime"} <= set(norm))
    ):
        return "ms_forms"
    if "_uuid" in norm or "_submission_time" in norm:
        return "kobo"
    return "generic"


def _finish(name: str, records: list[list[str]], encoding: str) -> Table:
    if not records or not any(c.strip() for c in records[0]):
        raise InvalidInputError(f"{name}: the file is empty", [f"{name}:1:-: no header row"])
    headers = [h.strip() for h in records[0]]
    width = len(headers)
    rows = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        cells = [c.strip() for c in cells] + [""] * (width - len(cells))
        rows.append(Row(number=number, cells=cells[:width] if len(cells) > width else cells))
    return Table(
        name=name,
        headers=headers,
        rows=rows,
        encoding=encoding,
        source_format=detect_format(headers),
    )


def read_table_text(text: str, name: str, encoding: str = "utf-8") -> Table:
    """A table from CSV text (delimiter ``,``, ``;`` or tab, sniffed from the header)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    records = [cells for _, cells in csv_records(text, name, delimiter, strict=False)]
    return _finish(name, records, encoding)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.time):
        return f"{value.hour}:{value.minute:02d}:{value.second:02d}"
    if isinstance(value, dt.timedelta):
        total = int(round(value.total_seconds()))
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(value)


def read_xlsx(path: Path, name: str | None = None) -> Table:
    """The first worksheet of an XLSX workbook as text cells."""
    import openpyxl

    name = name or path.name
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInputError(
            f"{name}: not a readable XLSX workbook", [f"{name}:1:-: {type(exc).__name__}: {exc}"]
        ) from exc
    try:
        sheet = book.worksheets[0]
        records = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    while records and not any(records[-1]):
        records.pop()
    return _finish(name, records, "xlsx")


def read_table(path: str | Path) -> Table:
    """Read a CSV or XLSX export (by extension; ``.xls`` is refused with a hint)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, name)
    if suffix == ".xls":
        raise InvalidInputError(f"{name}: old .xls workbooks are not read; save it as .xlsx or CSV")
    data = path.read_bytes()
    # An empty file is reported by the table as having no header row (like one of blank lines).
    text, encoding = decode_text(data, name) if data.strip() else ("", "utf-8")
    return read_table_text(text, name, encoding)
