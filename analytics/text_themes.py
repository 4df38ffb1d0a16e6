"""Themes in free-text answers: Japanese tokenisation (janome), keyword themes, top terms and
representative quotes.

Each comment is tokenised with janome (pure Python, IPADIC); content words are the base forms
of nouns, verbs and adjectives that are not stop words or single kana. A comment belongs to a
theme of ``text_themes.yaml`` when one of its content words is a theme keyword or the
(NFKC-normalised) text contains a keyword of two or more characters. A theme's representative
quotes are its comments with the most distinct keyword hits (ties: shorter first, then the
original order), at most ``quotes`` of them.

>>> res = themes(["音声で案内してほしい", "アラームの音が怖かった", "地図に目印の写真があると良い"])
>>> [(t["theme"], t["count"]) for t in res["themes"][:3]]
[('alarm_sound', 1), ('map_landmarks', 1), ('voice_guidance', 1)]
>>> tokens("避難所の写真が見たい")
['避難', '写真', '見る']
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

THEMES_FILE = Path(__file__).with_name("text_themes.yaml")
CONTENT_POS = ("名詞", "動詞", "形容詞")
SKIP_POS2 = ("非自立", "代名詞", "数", "接尾", "副詞可能")
STOP_WORDS = frozenset(
    "する いる ある なる れる られる こと もの ため よう それ これ あれ ところ とき 思う 感じる できる "
    "ない ほしい 良い よい いい 方 的 さん".split()
)


@cache
def _tokenizer():
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@cache
def theme_definitions() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(THEMES_FILE.read_text(encoding="utf-8"))


def tokens(text: str) -> list[str]:
    """Content words (base forms) of one comment."""
    text = unicodedata.normalize("NFKC", str(text))
    out = []
    for token in _tokenizer().tokenize(text):
        pos = token.part_of_speech.split(",")
        if pos[0] not in CONTENT_POS or pos[1] in SKIP_POS2:
            continue
        base = token.base_form if token.base_form != "*" else token.surface
        if base in STOP_WORDS or re.fullmatch(r"[ぁ-んー]|[\W_]+", base):
            continue
        out.append(base)
    return out


def themes(
    comments: Sequence[str],
    quotes: int = 2,
    top_terms: int = 20,
    definitions: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``{"n", "themes": [{theme, label, label_en, count, share, quotes}], "terms": [...]}``.

    Themes are sorted by count (descending) then id; empty comments are ignored."""
    definitions = definitions or theme_definitions()
    originals = [str(c).strip() for c in comments if c is not None and str(c).strip()]
    texts = [unicodedata.normalize("NFKC", c) for c in originals]  # matched; quotes stay as written
    token_lists = [tokens(t) for t in texts]
    result = []
    for theme_id, spec in definitions.items():
        keywords = [unicodedata.normalize("NFKC", k) for k in spec["keywords"]]
        hits = []
        for order, (text, toks) in enumerate(zip(texts, token_lists, strict=True)):
            matched = {k for k in keywords if k in toks or (len(k) >= 2 and k in text)}
            if matched:
                hits.append((len(matched), len(text), order, originals[order]))
        hits.sort(key=lambda h: (-h[0], h[1], h[2]))
        result.append(
            {
                "theme": theme_id,
                "label": spec["label"]["ja"],
                "label_en": spec["label"].get("en", ""),
                "count": len(hits),
                "share": len(hits) / len(texts) if texts else float("nan"),
                "quotes": [h[3] for h in hits[:quotes]],
            }
        )
    result.sort(key=lambda r: (-r["count"], r["theme"]))
    counts = Counter(t for toks in token_lists for t in set(toks))
    terms = [
        {"term": term, "comments": n}
        for term, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_terms]
    ]
    return {"n": len(texts), "themes": result, "terms": terms}
