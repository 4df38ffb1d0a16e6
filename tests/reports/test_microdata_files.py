"""The microdata export's files: spreadsheet-safe CSVs, a dictionary entry for every column,
the k report and the request in the Markdown dictionary, all in one ZIP."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd

from reports import microdata
from sql.policy import MicrodataExport


def test_cells_are_escaped_and_every_column_is_described():
    export = MicrodataExport(
        export_id="0123456789abcdef",
        tables={
            "status": pd.DataFrame(
                {
                    "pseudonym": ["Pa", "Pb"],
                    "age_band": ["20s", "30s"],
                    "sex": ["female", "male"],
                    "home_cell": ["862e76d4fffffff", "862e76d4fffffff"],
                    "incident_id": [1, 1],
                    "state": ['=HYPERLINK("http://x")', "safe_at_home"],
                    "source": ["app", "@SUM(A1)"],
                    "reported": ["2026-07-10 04:00", "2026-07-10 04:05"],
                }
            )
        },
        report=pd.DataFrame(
            [
                {
                    "table": "status",
                    "k": 5,
                    "quasi_identifiers": "age_band, sex, home_cell",
                    "rows": 9,
                    "people": 8,
                    "classes": 1,
                    "smallest_class": 5,
                    "rows_suppressed": 7,
                    "people_suppressed": 6,
                    "rows_exported": 2,
                    "people_exported": 2,
                }
            ]
        ),
        parameters={
            "k": 5,
            "h3_resolution": 6,
            "time_step_minutes": 5,
            "location": "cell",
            "age_bands_on": "2026-07-10",
            "purpose": "避難行動の研究",
            "requester": "研究 一郎",
        },
    )
    made = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
    files = microdata.files(export, made)
    stem = "microdata_20260710_1200_01234567"
    assert sorted(files) == sorted(
        f"{stem}_{n}" for n in ("status.csv", "k_report.csv", "dictionary.csv", "dictionary.md")
    )
    status = files[f"{stem}_status.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK" in status and "'@SUM(A1)" in status
    dictionary = pd.read_csv(io.BytesIO(files[f"{stem}_dictionary.csv"]), encoding="utf-8-sig")
    assert dictionary["column"].tolist() == list(export.tables["status"].columns)
    assert dictionary["description"].str.len().gt(0).all()
    assert dictionary.set_index("column")["quasi_identifier"].to_dict()["home_cell"] == "yes"
    markdown = files[f"{stem}_dictionary.md"].decode("utf-8")
    assert "避難行動の研究" in markdown and "研究 一郎" in markdown
    assert "| status | 2 | 2 | 1 | 5 | 7 | 6 |" in markdown
    with zipfile.ZipFile(io.BytesIO(microdata.to_zip(export, made))) as archive:
        assert sorted(archive.namelist()) == sorted(files)
