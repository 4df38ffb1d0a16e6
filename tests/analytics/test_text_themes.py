"""Free-text themes: janome tokenisation, keyword themes and representative quotes."""

from __future__ import annotations

from pathlib import Path

from analytics import text_themes
from surveys.validate import responses_frame, validate_file

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"


def test_tokens_are_base_forms_of_content_words():
    # janome (IPADIC): 見たい → 見る; particles and the auxiliary たい are dropped.
    assert text_themes.tokens("避難所の写真が見たい") == ["避難", "写真", "見る"]
    assert "驚く" in text_themes.tokens("アラームの音に驚いた")


def test_themes_count_comments_and_pick_quotes():
    comments = [
        "音声で案内してほしい",
        "人の声で知らせてほしい。アラームは怖い",
        "地図に目印の写真があると良い",
        "",
        None,
    ]
    res = text_themes.themes(comments, quotes=1)
    assert res["n"] == 3
    by_id = {t["theme"]: t for t in res["themes"]}
    assert by_id["voice_guidance"]["count"] == 2
    assert by_id["voice_guidance"]["share"] == 2 / 3
    assert by_id["voice_guidance"]["quotes"] == ["音声で案内してほしい"]  # shorter first on ties
    assert by_id["map_landmarks"]["count"] == 1
    assert by_id["transit_info"]["count"] == 0
    assert res["themes"][0]["theme"] == "voice_guidance"  # sorted by count


def test_themes_of_the_sample_export():
    frame = responses_frame(validate_file(SAMPLES / "google_forms_drill_2022.csv", "drill-2022"))
    comments = [*frame["comment_map"].dropna(), *frame["comment_free"].dropna()]
    res = text_themes.themes(comments)
    counts = {t["theme"]: t["count"] for t in res["themes"]}
    assert counts["voice_guidance"] >= 1 and counts["route_navigation"] >= 1
    assert all(q in comments for t in res["themes"] for q in t["quotes"])
    assert res["terms"][0]["comments"] >= res["terms"][-1]["comments"]
