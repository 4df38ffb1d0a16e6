"""Read a CSV file into a header and rows that remember their line numbers.

Header names are normalised with NFKC (full-width brackets and letters become ASCII) and
stripped, so 「建物名等（方書）」 and 「建物名等(方書)」 are the same column. Rows whose cells
do not line up with the header are reported, never silently padded or cut.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
from pathlib import Path

from .problems import FileRejected, Problem, quoted, reason
from .text_encoding import read_text

#: The largest single cell accepted (bytes of junk without line breaks end here).
MAX_CELL_CHARS = 100_000


def normalise_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


@dataclasses.dataclass
class CsvRow:
    line: int  # line in the file where this record starts (header = 1)
    cells: dict[str, str]  # normalised header -> cell text
    raw: list[str]  # the cells as read, for the rejects file

    def get(self, *names: str) -> str:
        """The first non-empty cell among ``names`` ("" when none)."""
        for name in names:
            value = self.cells.get(name)
            if value is not None and value.strip():
                return value
        return ""


@dataclasses.dataclass
class CsvTable:
    label: str
    encoding: str
    header: list[str]  # normalised
    raw_header: list[str]
    rows: list[CsvRow]
    problems: list[Problem]

    def has(self, *names: str) -> bool:
        return any(n in self.header for n in names)


def read_csv_table(path: Path, label: str | None = None) -> CsvTable:
    """Decode and parse ``path``; whole-file failures raise :class:`FileRejected`."""
    label = label or str(path)
    text, encoding = read_text(path, label)
    return parse_csv_text(text, label, encoding)


def parse_csv_text(text: str, label: str, encoding: str = "utf-8") -> CsvTable:
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    header: list[str] | None = None
    raw_header: list[str] = []
    rows: list[CsvRow] = []
    seen_line = 0
    try:
        for cells in reader:
            start = seen_line + 1
            seen_line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                raw_header = cells
                header = [normalise_header(c) for c in cells]
                problems += _header_problems(label, header)
                continue
            if len(cells) != len(header):
                extra = cells[len(header) :]
                if len(cells) > len(header) and not any(c.strip() for c in extra):
                    cells = cells[: len(header)]
                else:
                    problems.append(
                        Problem(
                            label,
                            start,
                            "-",
                            reason(
                                "importers.problem.cell_count",
                                cells=len(cells),
                                columns=len(header),
                            ),
                        )
                    )
                    rows.append(CsvRow(start, {}, cells))
                    continue
            rows.append(CsvRow(start, dict(zip(header, cells, strict=True)), cells))
    except csv.Error as exc:
        raise FileRejected(
            Problem(
                label,
                reader.line_num or 1,
                "-",
                reason("importers.problem.csv_syntax", detail=quoted(str(exc))),
            )
        ) from exc
    if header is None:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.empty_file")))
    if not rows:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.header_only")))
    return CsvTable(label, encoding, header, raw_header, rows, problems)


def _header_problems(label: str, header: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(Problem(label, 1, name, reason("importers.problem.duplicate_column")))
        seen.add(name)
    return problems


def require_columns(table: CsvTable, required: dict[str, tuple[str, ...]]) -> list[Problem]:
    """One problem per required field none of whose accepted column names is present."""
    problems = []
    for field_label, names in required.items():
        if not table.has(*names):
            problems.append(
                Problem(
                    table.label,
                    1,
                    names[0],
                    reason("importers.problem.missing_column", field=field_label),
                )
            )
    return problems
