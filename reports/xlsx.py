"""Excel workbooks of the reports (openpyxl): one sheet per table, widths set, no formulas.

Every text cell goes through :func:`bosai.spreadsheet_safe.safe_text` (a leading ``=``, ``+``,
``-``, ``@``, tab or carriage return gets an apostrophe, so Excel shows it as text and never
runs it); numbers stay numbers; characters a workbook cannot hold (control characters) are
dropped. Each cell is written with an explicit type, so openpyxl never turns a string into a
formula.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bosai.spreadsheet_safe import safe_text

from .tables import ReportTable

#: Characters Excel refuses in sheet names.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31
MAX_WIDTH = 60
HEADER_FILL = PatternFill("solid", fgColor="EEF1F5")


def text_width(text: str) -> int:
    """Display width in Excel's character units: full-width (CJK) characters count twice.

    >>> text_width("避難所A"), text_width("abc")
    (7, 3)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name for ``title`` (at most 31 characters, no ``[]:*?/\\``).

    >>> sheet_name("避難所/ピーク", set()), sheet_name("概要", {"概要"})
    ('避難所_ピーク', '概要 (2)')
    """
    base = SHEET_NAME_FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    base = base[:MAX_SHEET_NAME]
    name, k = base, 2
    while name in taken:
        suffix = f" ({k})"
        name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        k += 1
    taken.add(name)
    return name


def safe_value(value: Any) -> Any:
    """A cell value that cannot be a formula: numbers as they are, text escaped and cleaned."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return safe_text(text)


def _write_row(
    sheet,
    row_index: int,
    values: Sequence[Any],
    widths: list[int] | None = None,
    bold: bool = False,
) -> None:
    """Write ``values`` into row ``row_index``; widen ``widths`` (per column) to fit them."""
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row=row_index, column=col)
        clean = safe_value(value)
        cell.value = clean
        if isinstance(clean, str):
            cell.data_type = "s"  # a string, whatever it looks like: never a formula
        if bold:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        if widths is None:
            continue
        shown = "" if clean is None else (f"{clean:,}" if isinstance(clean, int | float) else clean)
        longest = max((text_width(line) for line in shown.splitlines() or [""]), default=0)
        widths[col - 1] = max(widths[col - 1], min(longest, MAX_WIDTH))


def add_table_sheet(
    book: Workbook, table: ReportTable, taken: set[str], title_row: bool = True
) -> None:
    """One sheet for ``table``: its title, a header row, the rows, the note; widths fitted."""
    sheet = book.create_sheet(sheet_name(table.title, taken))
    widths = [4] * max(len(table.columns), 1)
    row = 1
    if title_row:  # the title spills over the row; it does not set the first column's width
        _write_row(sheet, row, [table.title])
        sheet.cell(row=row, column=1).font = Font(bold=True, size=12)
        row += 2
    header_row = row
    _write_row(sheet, row, table.labels, widths, bold=True)
    for values in table.cell_rows():
        row += 1
        _write_row(sheet, row, values, widths)
    if table.note:
        row += 2
        _write_row(sheet, row, [table.note])
    for k, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = max(width + 2, 8)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


def add_pairs_sheet(
    book: Workbook, title: str, pairs: Sequence[tuple[str, Any]], taken: set[str]
) -> None:
    """A two-column sheet (label, value) — the cover and the summary figures."""
    sheet = book.create_sheet(sheet_name(title, taken))
    widths = [4, 4]
    for row, (label, value) in enumerate(pairs, start=1):
        _write_row(sheet, row, [label, value], widths)
        sheet.cell(row=row, column=1).font = Font(bold=True)
    for k, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = max(width + 2, 10)


def workbook_bytes(
    cover: Sequence[tuple[str, Any]],
    cover_title: str,
    tables: Sequence[ReportTable],
    notes: Sequence[str] = (),
    notes_title: str = "",
) -> bytes:
    """The workbook: the cover sheet, one sheet per table, a sheet of notes."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    add_pairs_sheet(book, cover_title, cover, taken)
    for table in tables:
        add_table_sheet(book, table, taken)
    if notes:
        add_pairs_sheet(
            book, notes_title, [(str(k), n) for k, n in enumerate(notes, start=1)], taken
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
