"""The CSS that writes Streamlit's own English over in Japanese (``dashboard/widget_texts.py``):
catalog texts only, each a CSS string nothing can end; nothing for the English UI. What it
does in a real browser: ``tests/e2e/test_widget_texts_browser.py``."""

from __future__ import annotations

import doctest
import re

import pytest

from bosai.i18n import has, t
from dashboard import widget_texts

KEYS = [
    key
    for table in (widget_texts.WRITTEN_OVER, widget_texts.TOOLTIPS, widget_texts.PLOTLY)
    for *_, key in table
]


def unescaped(css: str) -> str:
    """A CSS string's text (``"a\\22 b"`` → ``a"b``)."""
    assert css.startswith('"') and css.endswith('"'), css
    return re.sub(r"\\([0-9a-f]+) ", lambda m: chr(int(m.group(1), 16)), css[1:-1])


def test_docstring_examples():
    assert doctest.testmod(widget_texts).failed == 0


def test_every_text_comes_from_the_catalog_and_is_in_the_japanese_css():
    css = widget_texts.css("ja")
    for key in KEYS:
        assert has(f"streamlit_widget.{key}"), key
        assert widget_texts.css_string(t(f"streamlit_widget.{key}")) in css, key
    assert css.startswith("<style>") and css.count("<") == 2  # no other markup in it


def test_the_english_ui_keeps_streamlits_own_texts():
    assert widget_texts.css("en") == ""


@pytest.mark.parametrize(
    "text",
    [
        '"; } body { display: none } x { content: "',
        "</style><img src=x onerror=alert(1)>",
        "行\n改行\\",
        "停止中…（全画面）・CSV",
    ],
)
def test_a_css_string_reads_back_as_its_text_and_nothing_ends_it(text):
    quoted = widget_texts.css_string(text)
    inner = quoted[1:-1]
    assert not set(inner) & set("\"'<>{};\n\r"), quoted
    assert unescaped(quoted) == text
