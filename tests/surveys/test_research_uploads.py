"""Uploads from the research pages (``sql.imports.research_uploads``) on a real SQLite file and
a real PostgreSQL: the same checks and report as ``bosai survey import``, limits, nothing
written for a bad file, all or nothing, idempotent, audited, researchers and admins only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from bosai.cli import main
from bosai.errors import InvalidInputError
from sql.content_hash import table_hashes
from sql.imports import research_uploads as uploads
from sql.viewer import SYSTEM
from tests.surveys.test_importer import SAMPLES, TABLES, counts

RESEARCHER = dataclasses.replace(SYSTEM, role="researcher", subject="r-1", purpose="research")


def data(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def imports_audited(engine) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT target, details FROM audit_log WHERE action = 'import' ORDER BY id")
        ).all()
    return [(t, d if isinstance(d, dict) else __import__("json").loads(d)) for t, d in rows]


def test_a_bad_export_is_reported_as_the_cli_reports_it_and_nothing_is_written(engine, capsys):
    name = "bad_google_forms_drill_2022.csv"
    before = table_hashes(engine, TABLES)
    check = uploads.check_survey(engine, name, data(name), "drill-2022")
    assert not check.ok and check.counts is None
    assert list(check.report.columns) == list(uploads.REPORT_COLUMNS)
    # The same problems as the command line's refusal (FILE:ROW:COLUMN: reason lines).
    url = engine.url.render_as_string(hide_password=False)
    args = ["survey", "import", str(SAMPLES / name), "--instrument", "drill-2022", "--dry-run"]
    assert main(["--database-url", url, *args]) != 0
    cli = capsys.readouterr().err
    errors = check.report[check.report["level"] == "error"]
    assert len(errors) >= 3
    for row in errors.itertuples():
        assert f"{row.file}:{row.row}:{row.column}: {row.reason}" in cli
    out_of_range = errors[errors["reason"].str.contains("out of range")].iloc[0]
    assert out_of_range["value"] == "6"
    with pytest.raises(InvalidInputError):
        uploads.import_survey_upload(engine, RESEARCHER, name, data(name), "drill-2022")
    assert table_hashes(engine, TABLES) == before
    assert imports_audited(engine) == []


def test_a_good_export_checks_imports_once_and_is_audited(engine):
    name = "google_forms_drill_2022.csv"
    check = uploads.check_survey(engine, name, data(name), "drill-2022")
    assert check.ok and check.report.empty and check.rows == 24
    assert check.counts == {"inserted": 24, "updated": 0, "unchanged": 0, "dry_run": True}
    assert len(check.preview) == uploads.PREVIEW_ROWS
    assert "respondent_key" not in check.preview
    assert counts(engine)["survey_responses"] == 0  # the check wrote nothing
    done = uploads.import_survey_upload(engine, RESEARCHER, name, data(name), "drill-2022")
    assert done["inserted"] == 24 and counts(engine)["survey_responses"] == 24
    before = table_hashes(engine, TABLES)
    again = uploads.import_survey_upload(engine, RESEARCHER, name, data(name), "drill-2022")
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 24)
    assert table_hashes(engine, TABLES) == before
    audited = imports_audited(engine)
    assert [t for t, _ in audited] == ["research.survey_upload:drill-2022"] * 2
    assert audited[0][1]["file"] == name and audited[0][1]["inserted"] == 24
    assert len(audited[0][1]["sha256"]) == 64


def test_an_uploaded_instrument_and_mapping(engine):
    """The instrument as a YAML upload, and the mapping of short column headers."""
    from surveys.instrument import INSTRUMENTS_DIR

    instrument = ("sus.yaml", (INSTRUMENTS_DIR / "sus.yaml").read_bytes())
    mapping = ("sus.mapping.yaml", data("sus_short_headers.mapping.yaml"))
    name = "sus_short_headers_bom.csv"
    check = uploads.check_survey(
        engine, name, data(name), instrument_yaml=instrument, mapping_yaml=mapping
    )
    assert check.ok, check.report.to_dict("records")
    assert check.what == "sus"
    without = uploads.check_survey(engine, name, data(name), instrument_yaml=instrument)
    assert not without.ok  # the short headers need the mapping


def test_limits_refuse_before_parsing(engine, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES", 1000)
    name = "google_forms_drill_2022.csv"
    check = uploads.check_survey(engine, name, data(name), "drill-2022")
    assert not check.ok and "MB" in check.report["reason"].iloc[0]
    monkeypatch.setattr(uploads, "MAX_BYTES", 20 * 1024 * 1024)
    monkeypatch.setattr(uploads, "MAX_ROWS", 10)
    check = uploads.check_survey(engine, name, data(name), "drill-2022")
    assert not check.ok and "more than 10" in check.report["reason"].iloc[0]
    assert uploads.check_survey(engine, "empty.csv", b"", "drill-2022").ok is False


def test_timing_sheets_and_roles(engine):
    name = "uiux_timings_2021.csv"
    check = uploads.check_timings(engine, name, data(name))
    assert check.ok and check.counts["inserted"] == 72
    bad = uploads.check_timings(engine, "bad_uiux_timings.csv", data("bad_uiux_timings.csv"))
    assert not bad.ok and (bad.report["level"] == "error").any()
    hq = dataclasses.replace(RESEARCHER, role="hq")
    with pytest.raises(PermissionError):
        uploads.import_timings_upload(engine, hq, name, data(name))
    assert counts(engine)["uiux_task_timings"] == 0
    done = uploads.import_timings_upload(engine, RESEARCHER, name, data(name), session_name="秋")
    assert done["inserted"] == 72 and counts(engine)["uiux_task_timings"] == 72


def test_upload_names_lose_their_folders():
    assert uploads.safe_name("../../etc/passwd") == "passwd"
    assert uploads.safe_name("C:\\Users\\a\\b.csv") == "b.csv"
    assert Path(uploads.safe_name("")).name == "upload"


def test_the_import_stores_the_pages_check_of_the_same_inputs_and_checks_other_inputs(
    engine, monkeypatch
):
    """The confirmation dialog passes the page's check: the same file (SHA-256), instrument,
    mapping and drill are stored as checked; anything else is checked again."""
    import hashlib

    name, bad = "google_forms_drill_2022.csv", "bad_google_forms_drill_2022.csv"
    check = uploads.check_survey(engine, name, data(name), "drill-2022")
    assert check.ok and len(check.inputs_sha256) == 64
    for args in (
        (bad, data(bad), "drill-2022"),  # another file
        (name, data(bad), "drill-2022"),  # the file changed under the same name
        (name, data(name), "sus"),  # another instrument
    ):
        with pytest.raises(InvalidInputError):
            uploads.import_survey_upload(engine, RESEARCHER, *args, check=check)
    with pytest.raises(InvalidInputError):  # another drill (none 99: refused when checked)
        uploads.import_survey_upload(
            engine, RESEARCHER, name, data(name), "drill-2022", drill=99, check=check
        )
    assert counts(engine)["survey_responses"] == 0 and imports_audited(engine) == []
    # The same inputs: the checked file is stored as it is, not read and checked again (a
    # limit lowered after the check does not apply to it) — all or nothing, audited.
    monkeypatch.setattr(uploads, "MAX_BYTES", 10)
    done = uploads.import_survey_upload(
        engine, RESEARCHER, name, data(name), "drill-2022", check=check
    )
    assert done["inserted"] == 24 and counts(engine)["survey_responses"] == 24
    with pytest.raises(InvalidInputError):  # without the check it is checked again
        uploads.import_survey_upload(engine, RESEARCHER, name, data(name), "drill-2022")
    monkeypatch.setattr(uploads, "MAX_BYTES", 20 * 1024 * 1024)
    before = table_hashes(engine, TABLES)
    again = uploads.import_survey_upload(
        engine, RESEARCHER, name, data(name), "drill-2022", check=check
    )
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 24)
    assert table_hashes(engine, TABLES) == before
    audited = imports_audited(engine)
    assert [d["sha256"] for _, d in audited] == [hashlib.sha256(data(name)).hexdigest()] * 2
