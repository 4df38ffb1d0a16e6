r"""Outside text is text: one place that makes a string from outside safe to show.

Outside text is anything we did not write ourselves: JMA telegram headlines and kind names,
shelter and person names from imports or the city OS, survey comments, what staff type in,
an e-mail address from a token. Streamlit renders Markdown (links, images, bold, its own
``:material/…:`` and ``:red[…]`` directives, ``$…$`` maths) in titles, headers, captions,
``st.markdown``/``st.write``, alerts, metric labels and widget labels. A remote image in a
headline would be fetched by every browser that shows it.

- :func:`plain` — for any element that renders Markdown: every ASCII punctuation mark is
  backslash-escaped (CommonMark's escape), so the reader sees exactly the characters that came
  in, never markup, links or images. Streamlit's Markdown also turns bare addresses
  (``http://…``, ``www.…``, ``name@host``) and ``:shortcodes:`` into links and emoji *after*
  escapes are resolved, so an invisible WORD JOINER (U+2060) goes before each ``:`` and ``@``
  and after ``www``: the text reads the same and nothing in it is linked.
- :func:`say` — a catalog label whose *values* come from outside (``t(key, **plain(values))``);
  the catalog's own text keeps its formatting.
- :func:`chart_text` — for plotly labels and hover texts, which interpret a few HTML tags
  (``<a href>``, ``<b>``, ``<br>``, ``<span style>``): ``& < >`` become entities.

Tables (``st.dataframe``), ``st.text``, ``st.code`` and deck.gl text tooltips never interpret
markup and need nothing. ``unsafe_allow_html=True`` is allowed only with a module-level constant
string (``tests/dashboard/test_gate.py`` checks the source).

>>> plain("**Bold** [a](x) :red[!]")
'\\*\\*Bold\\*\\* \\[a\\]\\(x\\) \u2060\\:red\\[\\!\\]'
>>> plain("http://x.jp").replace(WORD_JOINER, "|")
'http|\\:\\/\\/x\\.jp'
>>> chart_text("<a href='x'>大雨</a>")
"&lt;a href='x'&gt;大雨&lt;/a&gt;"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

#: Every ASCII punctuation character (CommonMark allows a backslash before each of them).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Invisible, unbreakable: splits what GFM's autolinks and emoji shortcodes look for.
WORD_JOINER = "\u2060"
_AUTOLINK_TRIGGER = re.compile(r"(?i)(?<=www)(?=\.)|(?=[:@])")


def plain(value: Any) -> str:
    """``value`` as text for an element that renders Markdown (``None``/NaN → ``""``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    unlinked = _AUTOLINK_TRIGGER.sub(WORD_JOINER, str(value))
    return _PUNCTUATION.sub(r"\\\1", unlinked)


def say(t: Callable[..., str], key: str, **values: Any) -> str:
    """The catalog label ``key`` with every value shown as plain text (see :func:`plain`)."""
    return t(key, **{name: plain(value) for name, value in values.items()})


def plain_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The values of a label, each made plain (for ``t(key, lang, **plain_values(v))``)."""
    return {name: plain(value) for name, value in values.items()}


def chart_text(value: Any) -> str:
    """``value`` as text for a plotly label, tick or hover text (no HTML interpreted)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def warning_names(t: Callable[..., str], lang: str, codes: Any, names: Any) -> list[str]:
    """Names of JMA warnings for the page's language: in Japanese the telegram's own name (as
    text, see :func:`plain`); in English the catalog's name for its kind code (the telegram
    has only Japanese), or "JMA warning (code NN)" for a code the catalog lacks."""
    if lang == "ja":
        return [plain(n) for n in names]
    from bosai.i18n import has

    shown = []
    for code in codes:
        key = f"jma_kind.{str(code).zfill(2)}"
        shown.append(t(key) if has(key) else t("jma_kind.other", code=plain(code)))
    return shown
