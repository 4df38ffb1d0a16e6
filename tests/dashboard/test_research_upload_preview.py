"""The upload preview on the research pages shows labels, not codes: a real check of the sample
exports (``sql.imports.research_uploads``) on a real SQLite file, labelled with the real
catalog and instrument."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bosai.i18n import t
from dashboard.research_upload import preview_frame
from sql.imports import research_uploads as uploads
from surveys.instrument import load_instrument

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"


def _t(lang: str):
    return lambda key, **values: t(key, lang, **values)


def _check(sqlite_engine, name: str, instrument: str = "drill-2022"):
    check = uploads.check_survey(sqlite_engine, name, (SAMPLES / name).read_bytes(), instrument)
    assert check.ok and not check.preview.empty
    return check


def test_the_questionnaire_preview_shows_the_catalogs_labels(sqlite_engine):
    """Age band 70plus reads 「70代以上」 (the catalog's label), participant type and sex too,
    a multiple choice its options' labels, answers as whole numbers, the time in 和暦 — and no
    raw code, ``nan`` or ``.0`` anywhere; in English the catalog's English."""
    check = _check(sqlite_engine, "google_forms_drill_2022.csv")
    raw = check.preview.reset_index(drop=True)
    instrument = load_instrument("drill-2022")
    shown = preview_frame(check.preview, _t("ja"), "ja", instrument)
    assert len(shown) == len(raw)
    assert "年代" in shown and "参加区分" in shown and "性別" in shown
    old = raw.index[raw["age_band"] == "70plus"]
    assert len(old) and (shown.loc[old, "年代"] == "70代以上").all()
    assert set(shown["参加区分"]) <= {"住民", "来訪者", "市職員", "高齢者", "中学生", "一般"}
    assert shown.loc[0, "回答日時"].startswith("令和4年3月11日")
    targets = instrument.item("share_targets")
    first = raw.loc[0, "share_targets"].split(";")
    assert shown.loc[0, targets.text("ja")] == "、".join(targets.option(c).ja for c in first)
    codes = {"70plus", "resident", "female", "male", "first_only", "each_time", "nan", "None"}
    for column in shown.columns:
        assert column.isascii() is False, column
        values = set(shown[column])
        assert not values & codes, (column, values & codes)
        assert not any(v.endswith(".0") for v in values), column
    english = preview_frame(check.preview, _t("en"), "en", instrument)
    assert (english.loc[old, "Age band"] == "70 or over").all()
    assert english.loc[0, "Submitted"].endswith("JST")


def test_the_timing_sheet_preview_labels_groups_and_methods(sqlite_engine):
    name = "uiux_timings_2021.csv"
    check = uploads.check_timings(sqlite_engine, name, (SAMPLES / name).read_bytes())
    shown = preview_frame(check.preview, _t("ja"), "ja")
    raw = check.preview.reset_index(drop=True)
    assert set(shown["方法"]) == {"紙" if m == "paper" else "アプリ" for m in raw["method"]}
    assert "elderly" not in set(shown["区分"]) and "高齢者" in set(shown["区分"])
    missing = raw["seconds"].isna()
    assert (shown.loc[missing, "所要時間（秒）"] == "—").all()
    assert set(shown["成功"]) <= {"はい", "いいえ"}
    assert pd.api.types.is_object_dtype(shown["所要時間（秒）"])


def test_the_response_columns_are_labelled_when_the_instrument_asks_no_age_or_sex(
    sqlite_engine, tmp_path
):
    """An instrument without age or sex items (the bench's 40 items) still gives each response
    an age band and a sex column: their headers are the catalog's 年代・性別, never the codes."""
    from benchmarks.bench_research_upload import instrument_yaml, write_export
    from surveys.instrument import parse_instrument

    export = tmp_path / "export.csv"
    write_export(export, 30)
    own = ("bench-40.yaml", instrument_yaml().encode())
    check = uploads.check_survey(
        sqlite_engine, export.name, export.read_bytes(), instrument_yaml=own
    )
    assert check.ok
    import yaml

    instrument = parse_instrument(yaml.safe_load(instrument_yaml()))
    for lang, age, sex in (("ja", "年代", "性別"), ("en", "Age band", "Sex")):
        shown = preview_frame(check.preview, _t(lang), lang, instrument)
        assert age in shown and sex in shown
        assert not {"age_band", "sex", "participant_type"} & set(shown.columns)
