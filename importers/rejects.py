"""The rejects file of ``--skip-invalid``: the invalid rows as published, with their reasons.

The file is a CSV (UTF-8 with BOM, so spreadsheet programs read the Japanese correctly) placed
beside the input: ``shelters.csv`` → ``shelters.rejects.csv``; a folder ``history/`` →
``history.rejects.csv`` next to it, so a later import of the folder does not read it. Its
first columns are ファイル, 行 and 理由; the rest are the input's own columns, so a corrected
rejects file can be imported again as it is (importers ignore columns they do not know).

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) are written with a leading apostrophe (:mod:`bosai.spreadsheet_safe`):
published names such as ``=HYPERLINK(…)`` stay text when staff open the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bosai.spreadsheet_safe import safe_text

from .problems import Problem

SUFFIX = ".rejects.csv"
LEAD_COLUMNS = ("ファイル", "行", "理由")

RowKey = tuple[str, int | str]


def is_rejects_file(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIX)


def rejects_path(inputs: Sequence[Path], what: str) -> Path:
    """Where the rejects of ``inputs`` go: beside the one input, or beside the first of several."""
    first = Path(inputs[0])
    if len(inputs) == 1 and not first.is_dir():
        return first.with_name(first.stem + SUFFIX)
    if len(inputs) == 1:
        return first.parent / (first.name + SUFFIX)
    return first.parent / (what + SUFFIX)


def write_rejects(
    target: Path,
    problems: Iterable[Problem],
    rows: Mapping[RowKey, Mapping[str, str]],
    columns: Iterable[str] = (),
) -> int:
    """Write one line per rejected row (or per rejected file); returns the number of lines.

    ``rows`` maps ``(file, row)`` to the row's cells as published; ``problems`` give the
    reasons (all reasons of one row are joined). A problem whose row is not in ``rows`` (a
    whole file refused, e.g. an unsafe XML telegram) still gets its own line.
    """
    reasons: dict[RowKey, list[str]] = {}
    for problem in problems:
        reasons.setdefault((problem.file, problem.row), []).append(
            f"{problem.column}: {problem.reason}"
        )
    keys = list(dict.fromkeys([*reasons, *rows]))
    names = list(dict.fromkeys(c for c in columns if c not in LEAD_COLUMNS))
    with Path(target).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*LEAD_COLUMNS, *names])
        for key in keys:
            cells = rows.get(key, {})
            writer.writerow(
                [
                    safe_text(key[0]),
                    safe_text(key[1]),
                    safe_text(" | ".join(reasons.get(key, []))),
                    *(safe_text(cells.get(name, "")) for name in names),
                ]
            )
    return len(keys)
