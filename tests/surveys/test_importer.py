"""The survey and timing imports on a real SQLite file and a real PostgreSQL: atomic, idempotent,
nothing written for a bad file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from bosai.errors import InvalidInputError
from sql.content_hash import table_hashes
from sql.imports.surveys import import_survey, timing_records
from sql.queries import research
from sql.research_store import store_uiux
from surveys.timing_sheet import read_timing_sheet
from surveys.validate import responses_frame, validate_file

SAMPLES = Path(__file__).with_name("samples")
TABLES = (
    "survey_instruments",
    "survey_responses",
    "uiux_sessions",
    "uiux_task_timings",
)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
            for t in TABLES
        }


def test_import_then_reimport_changes_nothing(engine):
    first = import_survey(engine, SAMPLES / "google_forms_drill_2022.csv", "drill-2022")
    assert (first.counts.inserted, first.counts.unchanged) == (24, 0)
    after = counts(engine)
    assert after["survey_responses"] == 24 and after["survey_instruments"] == 1
    before = table_hashes(engine, TABLES)
    again = import_survey(engine, SAMPLES / "google_forms_drill_2022.csv", "drill-2022")
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 24)
    assert counts(engine) == after
    assert table_hashes(engine, TABLES) == before  # every value, timestamps included


def test_stored_responses_equal_the_parsed_file(engine):
    import_survey(engine, SAMPLES / "kobo_drill_2022.csv", "drill-2022")
    stored = research.survey_responses(engine, "drill-2022").set_index("respondent_key")
    parsed = responses_frame(validate_file(SAMPLES / "kobo_drill_2022.csv", "drill-2022"))
    parsed = parsed.set_index("respondent_key")
    assert sorted(stored.index) == sorted(parsed.index)
    for col in (
        "ui_easy",
        "optin_resistance",
        "evac_duration",
        "share_targets",
        "participant_type",
    ):
        assert stored.loc[parsed.index, col].tolist() == parsed[col].tolist(), col
    assert stored["submitted_at"].notna().all()


def test_stored_responses_read_back_column_by_column_with_the_parsed_types(engine):
    """Every item of every format reads back as parsed: scale, number and duration items as
    floats, choices and text as text, a missing answer as missing; one row per response."""
    import pandas as pd

    for name in ("google_forms_drill_2022.csv", "kobo_drill_2022.csv"):
        import_survey(engine, SAMPLES / name, "drill-2022")
    stored = research.survey_responses(engine, "drill-2022").set_index("respondent_key")
    parsed = pd.concat(
        responses_frame(validate_file(SAMPLES / name, "drill-2022"))
        for name in ("google_forms_drill_2022.csv", "kobo_drill_2022.csv")
    ).set_index("respondent_key")
    assert stored.index.is_unique and sorted(stored.index) == sorted(parsed.index)
    items = [c for c in stored.columns if c not in ("response_id", "submitted_at", "drill_id")]
    items = [c for c in items if c not in ("participant_type", "age_band", "sex")]
    assert items == sorted(items) and "ui_easy" in items and "share_targets" in items
    for col in items:
        mine, theirs = stored.loc[parsed.index, col], parsed[col]
        assert mine.dtype == theirs.dtype, col
        assert mine.isna().tolist() == theirs.isna().tolist(), col
        assert mine.dropna().tolist() == theirs.dropna().tolist(), col
    assert stored["ui_easy"].dtype == float and stored["share_targets"].dtype == object


def test_a_bad_file_writes_nothing(engine):
    import_survey(engine, SAMPLES / "google_forms_drill_2022.csv", "drill-2022")
    before = counts(engine)
    hashes = table_hashes(engine, TABLES)
    with pytest.raises(InvalidInputError) as err:
        import_survey(engine, SAMPLES / "bad_google_forms_drill_2022.csv", "drill-2022")
    assert err.value.exit_code == 2
    assert len(err.value.problems) == 5
    assert all(p.startswith("bad_google_forms_drill_2022.csv:") for p in err.value.problems)
    assert counts(engine) == before
    assert table_hashes(engine, TABLES) == hashes


def test_an_unknown_drill_writes_nothing(engine):
    with pytest.raises(InvalidInputError, match="no drill 'nope'"):
        import_survey(engine, SAMPLES / "kobo_drill_2022.csv", "drill-2022", drill="nope")
    assert counts(engine)["survey_responses"] == 0


def test_dry_run_counts_and_writes_nothing(engine):
    res = import_survey(
        engine,
        SAMPLES / "sus_short_headers_bom.csv",
        "sus",
        SAMPLES / "sus_short_headers.mapping.yaml",
        dry_run=True,
    )
    assert res.counts.inserted == 8 and res.counts.dry_run
    assert counts(engine)["survey_responses"] == 0


def test_a_corrected_export_updates_in_place(engine, tmp_path):
    mapping = SAMPLES / "sus_short_headers.mapping.yaml"
    import_survey(engine, SAMPLES / "sus_short_headers_bom.csv", "sus", mapping)
    text = (SAMPLES / "sus_short_headers_bom.csv").read_text(encoding="utf-8-sig")
    corrected = tmp_path / "sus_short_headers_bom.csv"
    corrected.write_text(
        text.replace("R001,2021/11/02 10:00:00,4,1", "R001,2021/11/02 10:00:00,2,1")
    )
    res = import_survey(engine, corrected, "sus", mapping)
    assert (res.counts.inserted, res.counts.updated, res.counts.unchanged) == (0, 1, 7)
    stored = research.survey_responses(engine, "sus").set_index("respondent_key")
    assert stored.loc["row:R001", "sus01"] == 2.0
    assert counts(engine)["survey_responses"] == 8


def test_timings_store_is_idempotent(engine):
    records = timing_records(read_timing_sheet(SAMPLES / "uiux_timings_2021.csv"))
    kwargs = dict(
        session_key="uiux-2021",
        name="UI/UX 2021",
        held_on=None,
        location=None,
        source_file="uiux_timings_2021.csv",
    )
    assert store_uiux(engine, records=records, **kwargs).inserted == 72
    before = table_hashes(engine, TABLES)
    assert store_uiux(engine, records=records, **kwargs).unchanged == 72
    assert table_hashes(engine, TABLES) == before
    changed = [records[0].__class__(**{**records[0].__dict__, "seconds": 900.0}), *records[1:]]
    res = store_uiux(engine, records=changed, **kwargs)
    assert (res.updated, res.unchanged) == (1, 71)
    stored = research.uiux_timings(engine, ["uiux-2021"])
    assert len(stored) == 72 and stored["seconds"].max() == 1025.0
    assert (
        stored.loc[stored["participant"].eq("E01") & stored["method"].eq("paper"), "seconds"].item()
        == 900.0
    )


def test_responses_can_be_linked_to_a_drill(engine):
    from sql.models import Drill

    with engine.begin() as conn:
        conn.execute(
            sa.insert(Drill.__table__).values(
                id=7,
                external_id="aizu-2022-03-11",
                name="防災訓練（令和4年3月11日）",
                scenario="flood",
                started_at=dt.datetime(2022, 3, 11, 0, 30, tzinfo=dt.UTC),
                is_synthetic=False,
            )
        )
    res = import_survey(
        engine, SAMPLES / "kobo_drill_2022.csv", "drill-2022", drill="aizu-2022-03-11"
    )
    assert res.counts.inserted == 8
    linked = research.survey_responses(engine, "drill-2022", drill_id=7)
    assert len(linked) == 8 and set(linked["drill_id"]) == {7}
