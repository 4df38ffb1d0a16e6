"""Text that spreadsheets show as text: CSV cells never run as formulas (OWASP CSV injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``). Every
text cell of a file staff download gets a leading apostrophe in that case, which spreadsheets
show as text. Numbers stay numbers: a number cannot carry a formula.

>>> safe_cell("=HYPERLINK(\\"http://example.invalid\\")")
'\\'=HYPERLINK("http://example.invalid")'
>>> safe_cell("会津 太郎"), safe_cell("-"), safe_cell(-3), safe_cell(None)
('会津 太郎', "'-", -3, '')
>>> import pandas as pd
>>> to_csv_bytes(pd.DataFrame({"名前": ["@SUM(A1)", "花子"], "n": [1, 2]})).decode("utf-8-sig")
"名前,n\\r\\n'@SUM(A1),1\\r\\n花子,2\\r\\n"
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import numbers

import pandas as pd

#: Leading characters that make a spreadsheet cell a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def safe_text(value: object) -> str:
    """``value`` as text, with a leading apostrophe when it would start a formula.

    Parameters
    ----------
    value
        Anything; ``None`` and NaN become the empty string.

    Returns
    -------
    str
        The text a spreadsheet shows as it is.

    Examples
    --------
    >>> safe_text("+81 90"), safe_text("\\tcmd"), safe_text("a=b")
    ("'+81 90", "'\\tcmd", 'a=b')
    """
    if _missing(value):
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_cell(value: object) -> object:
    """A cell for a spreadsheet file: numbers unchanged, everything else :func:`safe_text`.

    Booleans, dates and times become text (``True``, ISO 8601); NaN and ``None`` become empty.

    Examples
    --------
    >>> safe_cell(2.5), safe_cell(True), safe_cell(float("nan"))
    (2.5, 'True', '')
    """
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return safe_text(value)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every cell and every column name passed through :func:`safe_cell`.

    Examples
    --------
    >>> safe_frame(pd.DataFrame({"=x": ["-1+1", None]})).to_dict("list")
    {"'=x": ["'-1+1", '']}
    """
    out = pd.DataFrame(
        {
            safe_text(column): [safe_cell(v) for v in frame[column].tolist()]
            for column in frame.columns
        },
        index=range(len(frame)),
    )
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV for spreadsheets: UTF-8 with a BOM (Excel reads the Japanese), CRLF
    line ends, every cell made safe with :func:`safe_cell`, no index."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")
