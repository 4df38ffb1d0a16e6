"""Outside text is text (issue 13, finding 9): a JMA telegram, a shelter name, an incident name
reach the screen as the characters they are — never as Markdown or HTML (``dashboard.text``).

AppTest gives each element's Markdown *source*: the test checks that every mark of the
hostile text is escaped there, so it is drawn literally; tests/e2e/test_outside_text_browser.py
reads the drawn page in chromium and watches the beacon's server."""

from __future__ import annotations

import re

from bosai.cli import main
from dashboard.text import plain
from tests.conftest import hostile_headline, sql
from tests.dashboard.conftest import open_page, read

BEACON = "http://127.0.0.1:9"


def markdown_sources(at) -> list[str]:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def test_a_hostile_telegram_headline_is_shown_as_text(app, demo_copy, hostile_telegram):
    file = hostile_telegram(BEACON)
    assert main(["--database-url", demo_copy, "import", "warnings", str(file)]) == 0
    stored = sql(demo_copy, "SELECT headline FROM jma_telegrams ORDER BY report_time DESC LIMIT 1")
    assert stored[0][0] == hostile_headline(BEACON), "the importer keeps the text as sent"
    at = open_page(app, demo_copy, "warnings")
    caption = next(c for c in markdown_sources(at) if "至急" in c)
    assert plain(hostile_headline(BEACON)) in caption, "every mark escaped"
    assert hostile_headline(BEACON) in read(caption), "the reader sees the literal text"
    for source in markdown_sources(at):  # nothing unescaped anywhere on the page
        for mark in ("**至急**", "![x](", "](http", ":red[", ":material/warning:", "x^2$"):
            assert mark not in source, (mark, source)
        assert not re.search(r"(?<!\\)<(img|a )", source), source
    # The tables show it as text (dataframe cells are never rendered as Markdown).
    history = next(f.value for f in at.dataframe if "見出し" in f.value.columns)
    assert hostile_headline(BEACON) in set(history["見出し"])


def test_shelter_and_incident_names_are_shown_as_text(app, demo_copy):
    sid = sql(
        demo_copy,
        "SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 AND closed_at IS NULL "
        "ORDER BY shelter_id LIMIT 1",
    )[0][0]
    name = f"**避難所** ![x]({BEACON}/shelter) [link]({BEACON}/a)"
    sql(demo_copy, "UPDATE shelters SET name = :n WHERE id = :i", n=name, i=sid)
    incident = f"_大雨_ ![i]({BEACON}/incident) :red[訓練]"
    sql(demo_copy, "UPDATE incidents SET name_ja = :n WHERE id = 1", n=incident)
    at = open_page(app, demo_copy, "shelters")
    at.selectbox(key="shelters_pick").set_value(sid).run()
    headers = [h.value for h in at.subheader]
    assert plain(name) in headers and name in [read(h) for h in headers]
    banner = " ".join(w.value for w in at.warning)
    assert plain(incident) in banner and incident in read(banner)
    for source in markdown_sources(at):
        assert "![" not in source.replace("\\!\\[", "") and "**避難所**" not in source, source
