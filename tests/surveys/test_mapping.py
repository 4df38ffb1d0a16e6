"""Mapping files: what is wrong is said key by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bosai.errors import InvalidInputError
from surveys.mapping import load_mapping, parse_mapping

SAMPLES = Path(__file__).with_name("samples")
KNOWN = {f"sus{i:02d}" for i in range(1, 11)}


def test_the_sample_mapping_loads():
    mapping = load_mapping(SAMPLES / "sus_short_headers.mapping.yaml", KNOWN, "sus")
    assert mapping.columns["q1"] == "sus01" and mapping.columns["備考"] == "ignore"
    assert mapping.respondent_key == "回答番号" and mapping.timestamp == "回答日時"


def test_errors_name_the_key():
    raw = {
        "colums": {},
        "columns": {"Q1": "sus99"},
        "values": {"nope": {"a": 1}, "sus01": "x"},
        "on_duplicate": "merge",
        "timezone": "Mars/Olympus",
    }
    with pytest.raises(InvalidInputError) as err:
        parse_mapping(raw, "m.yaml", KNOWN)
    problems = err.value.problems
    assert any(p.startswith("m.yaml:colums: unknown key") for p in problems)
    assert "m.yaml:columns.Q1: 'sus99' is not an item of the instrument" in problems
    assert "m.yaml:values.nope: not an item of the instrument" in problems
    assert "m.yaml:values.sus01: expected label: value pairs" in problems
    assert any(p.startswith("m.yaml:on_duplicate") for p in problems)
    assert any("Mars/Olympus" in p for p in problems)


def test_a_mapping_for_another_instrument_is_refused(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("instrument: drill-2022\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not 'sus'"):
        load_mapping(path, KNOWN, "sus")
    path.write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not a readable YAML"):
        load_mapping(path, KNOWN, "sus")
