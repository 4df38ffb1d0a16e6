"""Problems found in input files, reported as ``FILE:ROW:COLUMN: reason``.

ROW is the line number in the file for CSV and XML (the header is line 1), the feature number
(1-based) for GeoJSON and shapefiles, and ``-`` for problems with the whole file. COLUMN is the
column or attribute name as published, or ``-``. Reasons come from the label catalog
(``bosai/messages/importers.yaml``), Japanese first with the English after a slash, so staff
and maintainers read the same line.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bosai.errors import InvalidInputError
from bosai.i18n import t

#: How much of an offending value a problem line quotes.
QUOTE_LIMIT = 60


#: Problem levels: an error refuses the file (or the row, for the feeds that quarantine rows);
#: a warning is reported and the import proceeds.
ERROR = "error"
WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem of an input file: where (file, row, column), why, how serious.

    ``code`` names the kind of problem for counting (``out_of_range``, ``unknown_column`` …);
    empty where the reason is all there is to say.

    >>> str(Problem("a.csv", 3, "年代", "unknown option", WARNING, "unknown_option"))
    'a.csv:3:年代: unknown option'
    """

    file: str
    row: int | str
    column: str
    reason: str
    level: str = ERROR
    code: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.reason}"


class FileRejected(InvalidInputError):
    """The whole file is unusable (encoding, empty, not the expected format, unsafe XML): an
    :class:`~bosai.errors.InvalidInputError` whose one problem is :attr:`problem`."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem), [str(problem)])
        self.problem = problem


class FieldError(ValueError):
    """One value is invalid; ``reason`` is the finished reason text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def reason(key: str, /, **values: Any) -> str:
    """The reason text for a catalog key: 「日本語 / English」."""
    ja = t(key, "ja", **values)
    en = t(key, "en", **values)
    return ja if ja == en else f"{ja} / {en}"


def quoted(value: Any) -> str:
    """A value as it may safely appear in a message: quoted, control characters escaped, cut."""
    text = "" if value is None else str(value)
    if len(text) > QUOTE_LIMIT:
        text = text[:QUOTE_LIMIT] + "…"
    return json.dumps(text, ensure_ascii=False)


def raise_for_problems(message: str, problems: list[Problem]) -> None:
    """Raise :class:`InvalidInputError` (exit code 2) when there is any problem."""
    if problems:
        raise InvalidInputError(message, [str(p) for p in problems])
