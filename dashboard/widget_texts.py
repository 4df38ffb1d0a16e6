"""Streamlit's own English, written over in Japanese on the Japanese UI (CSS, catalog texts).

Streamlit draws some texts of its own that no parameter reaches: the file uploader's button,
its size-and-type line and the "Drag and drop a file here" shown while a file is dragged over
it; the Stop button beside the running man in the top bar (shown to viewers too); the
tooltips of the tables' and charts' toolbar buttons (show/hide columns, download as CSV,
search, fullscreen) and of plotly's chart buttons. On the Japanese UI, :func:`apply` writes
over them with the catalog's ``streamlit_widget.*`` texts: one CSS block hides each English
node and shows the Japanese text in a ``::after`` pseudo-element, keyed on Streamlit's
``data-testid`` attributes (and on the button's ``aria-label`` for the tooltips, which
Streamlit puts in a floating layer of its own, shown while the button is hovered).

What CSS cannot do, and is left:

- The uploader's size line names Streamlit's server limit (200 MB), not the page's own (the
  research uploads take 20 MB); the Japanese UI shows the drop hint there instead, and the
  pages' captions give the real limit and types.
- The date picker's calendar takes its month and weekday names from the browser's language
  (``navigator.language``), not from the app: a Japanese browser shows 11月 and 日 月 火, an
  English one November and S M T, whatever the UI language. Its range quick-select ("Date
  range: Past Month", options in a list of their own) is hidden on the Japanese UI; the dates
  are typed or picked as before.
- The style goes with each run of a page; in the first moments of a switch to another page,
  before the new page's run has sent it, a Stop button already showing can read "Stop".
- Accessible names (``aria-label`` such as "Running...", "Download as CSV"), the tables'
  column menus (sort, format, pin; many items of one kind), and Streamlit's error dialogs
  ("Page not found", "Connection error") stay in English.

The English UI keeps Streamlit's own texts. The CSS carries catalog texts only, each written as
a CSS string with every character that could end it (or the ``<style>`` element) escaped; no
data goes in (see :func:`css_string`).
"""

from __future__ import annotations

from functools import cache

import streamlit as st

from bosai.i18n import t

_DROPZONE = '[data-testid="stFileUploaderDropzone"]'
_TOOLTIP = '[data-testid="stTooltipContent"] [data-testid="stMarkdownContainer"]'

#: Streamlit's text elements: (selector, catalog key). Each element's own text shrinks to
#: nothing and the catalog's takes its place, in the element's colour and weight, at Streamlit's
#: size for these texts (0.875rem, which grows with 大きな文字 as theirs do).
WRITTEN_OVER = (
    # The button ("Upload").
    (
        f'{_DROPZONE} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p',
        "uploader_button",
    ),
    # The size-and-type line beside it (Streamlit's 200 MB; see the module's note).
    ('[data-testid="stFileUploaderDropzoneInstructions"] span', "uploader_hint"),
    # While a file is dragged over the uploader.
    (f"{_DROPZONE} > div:not([data-testid]) > span", "uploader_drop"),
    # The Stop button beside the running man; Stopping... while it is disabled.
    ('[data-testid="stStatusWidget"] button:not(:disabled)', "status_stop"),
    ('[data-testid="stStatusWidget"] button:disabled', "status_stopping"),
)
SIZE = "0.875rem"

#: Toolbar buttons over tables and charts, by the English label Streamlit gives them (their
#: ``aria-label`` is the label, or "label: the element's name"): the tooltip shown while one
#: is hovered.
TOOLTIPS = (
    ("Show/hide columns", "table_columns"),
    ("Download as CSV", "table_download"),
    ("Search", "table_search"),
    ("Fullscreen", "fullscreen"),
    ("Close fullscreen", "fullscreen_close"),
    ("Clear selection", "table_clear_selection"),
)

#: The buttons over plotly charts, by their ``data-title`` (plotly's own CSS shows it as the
#: tooltip).
PLOTLY = (
    ("Download plot as a PNG", "chart_download"),
    ("Zoom", "chart_zoom"),
    ("Pan", "chart_pan"),
    ("Zoom in", "chart_zoom_in"),
    ("Zoom out", "chart_zoom_out"),
    ("Autoscale", "chart_autoscale"),
    ("Reset axes", "chart_reset"),
    ("Fullscreen", "fullscreen"),
)

#: Streamlit's parts that have nothing to write over and are hidden on the Japanese UI.
HIDDEN = ('[data-testid="stDateInputQuickSelect"]',)


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: letters, digits, spaces and non-ASCII characters as
    they are, every other character as a CSS escape (so nothing ends the string, the rule or
    the ``<style>`` element).

    >>> css_string('ファイルを選ぶ')
    '"ファイルを選ぶ"'
    >>> css_string('a"</style>')
    '"a\\\\22 \\\\3c \\\\2f style\\\\3e "'
    """
    return '"' + "".join(c if _plain(c) else f"\\{ord(c):x} " for c in text) + '"'


def _plain(c: str) -> bool:
    """Nothing in CSS ends or escapes at ``c``: an ASCII letter, digit or space, or a printable
    character beyond ASCII and its control characters."""
    return c == " " or (c.isascii() and c.isalnum()) or (ord(c) > 0x9F and c.isprintable())


def _hovered(english: str) -> str:
    """The page while the toolbar button labelled ``english`` is hovered."""
    button = '[data-testid="stElementToolbarButton"] button'
    return f'body:has({button}[aria-label="{english}"]:hover, {button}[aria-label^="{english}: "]:hover)'


@cache
def css(lang: str) -> str:
    """The ``<style>`` block for ``lang`` (empty for English: Streamlit's own texts stay)."""
    if lang == "en":
        return ""

    def text(key: str) -> str:
        return css_string(t(f"streamlit_widget.{key}", lang))

    written_over = [
        *WRITTEN_OVER,
        *((f"{_hovered(english)} {_TOOLTIP} > p", key) for english, key in TOOLTIPS),
    ]
    rules = []
    for selector, key in written_over:
        rules.append(f"{selector} {{ font-size: 0 !important; }}")
        rules.append(f"{selector}::after {{ content: {text(key)}; font-size: {SIZE}; }}")
    for english, key in PLOTLY:
        button = f'.js-plotly-plot .plotly .modebar-btn[data-title="{english}"]:hover::after'
        rules.append(f"{button} {{ content: {text(key)} !important; }}")
    rules.extend(f"{selector} {{ display: none !important; }}" for selector in HIDDEN)
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def apply(lang: str) -> None:
    """Write over Streamlit's own English texts on the ``lang`` UI (nothing for English).

    Style only: ``st.html`` puts it in the page's event container, where it takes no space."""
    block = css(lang)
    if block:
        st.html(block)
