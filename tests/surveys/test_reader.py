"""Reading exports as they come: encodings, CSV dialects, XLSX, the export's origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from bosai.errors import InvalidInputError
from importers.text_encoding import decode_text
from surveys.reader import read_table, read_table_text

SAMPLES = Path(__file__).with_name("samples")


def test_encodings_of_the_samples():
    assert read_table(SAMPLES / "google_forms_drill_2022.csv").encoding == "utf-8"
    assert read_table(SAMPLES / "google_forms_sus_cp932.csv").encoding == "cp932"
    bom = read_table(SAMPLES / "sus_short_headers_bom.csv")
    assert bom.encoding == "utf-8-sig" and bom.headers[0] == "回答番号"  # BOM removed


def test_origin_is_recognised_from_metadata_columns():
    assert read_table(SAMPLES / "google_forms_drill_2022.csv").source_format == "google_forms"
    kobo = read_table(SAMPLES / "kobo_drill_2022.csv")
    assert kobo.source_format == "kobo" and len(kobo.headers) > 30  # ';'-separated
    ms = read_table(SAMPLES / "ms_forms_drill_2022.xlsx")
    assert ms.source_format == "ms_forms" and ms.encoding == "xlsx"
    assert read_table(SAMPLES / "sus_short_headers_bom.csv").source_format == "generic"


def test_xlsx_cells_become_text_with_spreadsheet_row_numbers():
    table = read_table(SAMPLES / "uiux_timings_2021.xlsx")
    assert table.rows[0].number == 2
    assert all(isinstance(c, str) for row in table.rows for c in row.cells)


def test_rows_keep_their_spreadsheet_numbers_past_blank_lines():
    table = read_table_text("a,b\n1,2\n\n3,4\n", "x.csv")
    assert [r.number for r in table.rows] == [2, 4]
    short = read_table_text("a,b,c\n1\n", "x.csv")
    assert short.rows[0].cells == ["1", "", ""]


def test_unreadable_input_names_the_file_and_line(tmp_path):
    with pytest.raises(InvalidInputError, match="x.csv"):
        decode_text(b"a,b\n\x81\xff\xfe", "x.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty.csv: the file is empty"):
        read_table(empty)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InvalidInputError, match="xlsx or CSV"):
        read_table(old)
    with pytest.raises(InvalidInputError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InvalidInputError, match="broken.xlsx: not a readable XLSX"):
        read_table(broken)
