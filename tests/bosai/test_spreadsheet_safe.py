"""Spreadsheet-safe cells: what a downloaded CSV holds, read back as a spreadsheet would."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from bosai.spreadsheet_safe import FORMULA_PREFIXES, safe_cell, safe_frame, safe_text, to_csv_bytes

DANGEROUS = [
    '=HYPERLINK("http://example.invalid","x")',
    "+81-90-0000-0000",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_starts_get_a_leading_apostrophe(text):
    assert text.startswith(FORMULA_PREFIXES)
    assert safe_text(text) == "'" + text
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["会津 太郎", "a=b", "1-2", " =x", "", "要介護3"])
def test_ordinary_text_is_unchanged(text):
    assert safe_text(text) == text


def test_numbers_stay_numbers_and_missing_values_are_empty():
    assert safe_cell(-3) == -3
    assert safe_cell(np.int64(-7)) == -7
    assert safe_cell(np.float64(1.5)) == 1.5
    assert safe_cell(None) == ""
    assert safe_cell(float("nan")) == ""
    assert safe_cell(pd.NA) == ""
    assert safe_cell(pd.NaT) == ""
    assert safe_cell(True) == "True"
    assert safe_cell(dt.date(2026, 7, 10)) == "2026-07-10"


def test_every_cell_of_a_csv_reads_back_as_text_not_a_formula():
    frame = pd.DataFrame(
        {
            "氏名": DANGEROUS,
            "=列": ["x"] * len(DANGEROUS),
            "n": range(len(DANGEROUS)),
        }
    )
    data = to_csv_bytes(frame)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["氏名", "'=列", "n"]
    body = rows[1:]
    assert len(body) == len(DANGEROUS)
    for row, original in zip(body, DANGEROUS, strict=True):
        assert row[0] == "'" + original  # tab and CR survive inside the quoted cell
        assert not row[0].startswith(FORMULA_PREFIXES)
    assert [r[2] for r in body] == [str(i) for i in range(len(DANGEROUS))]


def test_safe_frame_keeps_rows_and_order():
    frame = pd.DataFrame({"a": ["=1", "b", None]}, index=[10, 3, 7])
    out = safe_frame(frame)
    assert out["a"].tolist() == ["'=1", "b", ""]
    assert list(out.index) == [0, 1, 2]


def test_docstring_examples():
    import doctest

    import bosai.spreadsheet_safe as module

    assert doctest.testmod(module).failed == 0
