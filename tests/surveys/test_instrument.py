"""Instruments as data files: the shipped ones load, broken ones are refused with the item named."""

from __future__ import annotations

import pytest

from bosai.errors import InvalidInputError
from surveys.instrument import available, load_instrument, parse_instrument, scale_label


def test_shipped_instruments():
    assert {"drill-2022", "sus"} <= set(available())
    drill = load_instrument("drill-2022")
    assert set(drill.subscales) == {
        "optin",
        "personalised",
        "notification",
        "evacuation",
        "uiux",
        "acceptance",
    }
    types = {i.type for i in drill.items}
    assert types == {"single", "multiple", "likert5", "duration", "text"}
    assert [o.code for o in drill.item("share_targets").options] == [
        "family",
        "friends",
        "workplace",
        "neighbourhood",
        "medical_care",
    ]
    assert [o.code for o in drill.item("consent_timing").options] == ["first_only", "each_time"]
    assert {i.id for i in drill.items if i.reverse} == {
        "optin_resistance",
        "notif_alarm_anxious",
        "ui_route_walking_hard",
    }
    sus = load_instrument("sus")
    assert sus.scoring == "sus" and [i.reverse for i in sus.items] == [False, True] * 5
    assert all(i.text_ja and i.text_en for inst in (drill, sus) for i in inst.items)
    assert scale_label(sus.item("sus01"), 5) == "とてもそう思う"


def test_unknown_instrument_names_the_shipped_ones():
    with pytest.raises(InvalidInputError, match="drill-2022, sus"):
        load_instrument("nope")


def test_a_broken_instrument_is_refused_item_by_item():
    raw = {
        "id": "x",
        "version": "1",
        "title": {"ja": "テスト"},
        "subscales": {"a": {"ja": "A"}},
        "items": [
            {"id": "q1", "type": "likert5", "text": {"ja": "質問1"}, "subscale": "b"},
            {"id": "q1", "type": "likert9", "text": {"ja": "質問2"}},
            {"id": "q3", "type": "single", "text": {"ja": "質問3"}},
            {"id": "q4", "type": "text", "text": {"ja": "質問4"}, "reverse": True},
            {"id": "q5", "type": "number", "text": {}},
        ],
    }
    with pytest.raises(InvalidInputError) as err:
        parse_instrument(raw, "x.yaml")
    problems = "\n".join(err.value.problems)
    assert "x.yaml:items[1] q1: subscale 'b' is not declared" in problems
    assert "items[2] q1: item id used twice" in problems
    assert "items[2] q1: type must be one of" in problems
    assert "items[3] q3: a choice item needs options" in problems
    assert "items[4] q4: only Likert items can be reverse-coded" in problems
    assert "items[5] q5: text.ja is required" in problems


def test_sus_scoring_needs_ten_five_point_items():
    raw = {
        "id": "s",
        "version": "1",
        "title": "S",
        "scoring": "sus",
        "items": [{"id": "a", "type": "likert5", "text": {"ja": "a"}}],
    }
    with pytest.raises(InvalidInputError) as err:
        parse_instrument(raw, "s.yaml")
    assert any("ten 5-point items" in p for p in err.value.problems)


def test_an_instrument_from_a_file(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(
        "id: mini\nversion: '1'\ntitle: ミニ\nitems:\n"
        "  - {id: q, type: likert7, text: {ja: 質問, en: Question}}\n",
        encoding="utf-8",
    )
    inst = load_instrument(path)
    assert inst.id == "mini" and inst.item("q").points == 7
