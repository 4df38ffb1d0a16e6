"""The tables of the reports: raw aggregates plus how each column is shown and suppressed.

A :class:`ReportTable` keeps the numbers as numbers; :meth:`ReportTable.text_rows` gives the
text the HTML and PDF show, :meth:`ReportTable.cell_rows` the cells the Excel workbook gets
(numbers stay numbers there). Both apply the same small-cell rule
(:mod:`analytics.small_cells`): a count from 1 to 4 becomes 「5未満」, and a value computed from
such a count (a share, a median) becomes 「—」.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pandas as pd

from analytics.small_cells import LABELS, MASK, is_small
from bosai.jpdate import format_datetime

#: Column kinds: how a value is written.
KINDS = ("text", "count", "share", "minutes", "number", "datetime")


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    #: The count column whose smallness hides this value (shares, medians, means).
    basis: str | None = None
    #: Digits after the point for ``minutes`` and ``number``.
    digits: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclasses.dataclass
class ReportTable:
    key: str
    title: str
    frame: pd.DataFrame
    columns: list[Column]
    note: str = ""
    lang: str = "ja"
    #: Rows shown in the HTML and PDF (the first ones); the workbook always has every row.
    page_limit: int | None = None

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def __len__(self) -> int:
        return len(self.frame)

    def _hidden(self, column: Column, value: Any, row: pd.Series) -> str | None:
        """The text that replaces ``value`` (「5未満」 or 「—」), or None to show it."""
        if column.kind == "count" and is_small(value):
            return LABELS.get(self.lang, LABELS["ja"])
        if column.basis is not None and is_small(row.get(column.basis)):
            return MASK
        return None

    def widths(self, rows: list[list[str]] | None = None) -> list[float]:
        """Column widths in percent for a fixed table layout: by the longest text of each
        column (header included; full-width characters count double), within bounds."""
        rows = self.text_rows() if rows is None else rows
        lengths = []
        for k, column in enumerate(self.columns):
            texts = [column.label, *(r[k] for r in rows[:400])]
            longest = max(sum(2 if ord(ch) > 0x2E7F else 1 for ch in text) for text in texts)
            lengths.append(min(max(longest, 6), 40 if column.kind == "text" else 16))
        total = sum(lengths) or 1
        return [round(100 * n / total, 2) for n in lengths]

    @property
    def cut(self) -> bool:
        """True when the pages show fewer rows than the table has."""
        return self.page_limit is not None and len(self.frame) > self.page_limit

    def text_rows(self, paged: bool = False) -> list[list[str]]:
        """The rows as display text (suppressed, formatted, Japanese dates); ``paged``: only
        the first :attr:`page_limit`."""
        out = []
        frame = self.frame.head(self.page_limit) if paged and self.cut else self.frame
        for _, row in frame.iterrows():
            cells = []
            for column in self.columns:
                value = row.get(column.key)
                hidden = self._hidden(column, value, row)
                cells.append(
                    hidden if hidden is not None else format_value(value, column, self.lang)
                )
            out.append(cells)
        return out

    def cell_rows(self) -> list[list[Any]]:
        """Every row for a spreadsheet: numbers as numbers, suppressed cells as their text,
        times as text in Japan time."""
        out = []
        for _, row in self.frame.iterrows():
            cells: list[Any] = []
            for column in self.columns:
                value = row.get(column.key)
                hidden = self._hidden(column, value, row)
                if hidden is not None:
                    cells.append(hidden)
                elif _missing(value):
                    cells.append(None)
                elif column.kind in ("count",):
                    cells.append(int(value))
                elif column.kind in ("share", "minutes", "number"):
                    cells.append(
                        round(float(value), 4 if column.kind == "share" else column.digits)
                    )
                elif column.kind == "datetime":
                    cells.append(format_value(value, column, self.lang))
                else:
                    cells.append(str(value))
            out.append(cells)
        return out


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_value(value: Any, column: Column, lang: str = "ja") -> str:
    """``value`` written as the column's kind says (``—`` when missing)."""
    if _missing(value):
        return MASK
    if column.kind == "count":
        return f"{int(value):,}"
    if column.kind == "share":
        return f"{float(value):.1%}"
    if column.kind in ("minutes", "number"):
        return f"{float(value):,.{column.digits}f}"
    if column.kind == "datetime":
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, dt.datetime):
            return format_datetime(value, lang)
        return str(value)
    return str(value)


def count_text(value: Any, lang: str = "ja") -> str:
    """A headline count: 「5未満」 for 1–4, ``—`` when unknown, else with thousands separators."""
    if _missing(value):
        return MASK
    if is_small(value):
        return LABELS.get(lang, LABELS["ja"])
    return f"{int(value):,}"


def share_text(count: Any, base: Any) -> str:
    """``count / base`` as a percentage, ``—`` when either is small, missing or zero."""
    if _missing(count) or _missing(base) or not base or is_small(count) or is_small(base):
        return MASK
    return f"{float(count) / float(base):.1%}"
