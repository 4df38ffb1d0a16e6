"""Pull typed values out of one row, collecting a ``FILE:ROW:COLUMN`` problem per bad cell.

A reader asks for each field by the column names it may be published under; the first
present column is used and named in any problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from . import field_values as fv
from .problems import FieldError, Problem, reason
from .table_reader import SourceRow

T = TypeVar("T")


class RowFields:
    def __init__(self, row: SourceRow):
        self.row = row
        self.problems: list[Problem] = []

    def pick(self, names: tuple[str, ...]) -> tuple[str, str]:
        """``(column, value)``: the first of ``names`` with a non-empty cell, else the first
        present (value ""), else ``names[0]``."""
        cells = self.row.cells
        present = None
        for name in names:
            value = cells.get(name)
            if value is None:
                continue
            if value.strip():
                return name, value
            if present is None:
                present = name
        return present or names[0], ""

    def column(self, *names: str) -> str:
        return self.pick(names)[0]

    def raw(self, *names: str) -> str:
        return self.pick(names)[1]

    def problem(self, column: str, text: str) -> None:
        self.problems.append(Problem(self.row.file, self.row.row, column, text))

    def _parse(self, names: tuple[str, ...], parser: Callable[[str], T]) -> T | None:
        column, value = self.pick(names)
        try:
            return parser(value)
        except FieldError as exc:
            self.problem(column, exc.reason)
            return None

    def text(self, *names: str, max_length: int, required: bool = False) -> str | None:
        column, value = self.pick(names)
        try:
            return fv.parse_text(value, max_length=max_length, required=required)
        except FieldError as exc:
            self.problem(column, exc.reason)
            return None

    def notes(self, *columns: tuple[str, str | None], max_length: int = 1000) -> str | None:
        """Free-text columns as one note, a line each: ``(column, label)`` pairs, the label
        (None: none) written before the text as ``label: text``; None when all are empty."""
        lines = []
        for column, label in columns:
            text = self.text(column, max_length=max_length)
            if text:
                lines.append(f"{label}: {text}" if label else text)
        return "\n".join(lines) or None

    def flag(self, *names: str) -> bool | None:
        """A hazard flag; None when the column is absent from this file."""
        cells = self.row.cells
        if not any(n in cells for n in names):
            return None
        return self._parse(names, fv.parse_hazard_flag)

    def number(self, *names: str, required: bool = False) -> float | None:
        return self._parse(names, lambda v: fv.parse_number(v, required=required))

    def count(self, *names: str) -> int | None:
        return self._parse(names, fv.parse_count)

    def capacity(self, *names: str) -> tuple[int | None, str | None]:
        parsed = self._parse(names, fv.parse_capacity)
        return parsed if parsed is not None else (None, None)

    def coordinates(
        self, lat_names: tuple[str, ...], lon_names: tuple[str, ...]
    ) -> tuple[float, float] | None:
        """From latitude/longitude columns when present, else from the point geometry."""
        lat_raw, lon_raw = self.row.get(*lat_names), self.row.get(*lon_names)
        if lat_raw or lon_raw:
            column = self.column(*lon_names) if lat_raw and not lon_raw else self.column(*lat_names)
            try:
                return fv.parse_coordinates(lat_raw, lon_raw)
            except FieldError as exc:
                self.problem(column, exc.reason)
                return None
        if self.row.point_problem:
            self.problem("geometry", self.row.point_problem)
            return None
        if self.row.point is None:
            self.problem(lat_names[0], reason("importers.problem.no_coordinates"))
            return None
        lon, lat = self.row.point
        try:
            return fv.parse_coordinates(lat, lon)
        except FieldError as exc:
            self.problem("geometry", exc.reason)
            return None
