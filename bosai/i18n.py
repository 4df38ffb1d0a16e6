"""The one label catalog: Japanese first, English second.

Every label people see comes from ``messages.yaml`` through :func:`t`. Keys are dotted
(``overview.title``, ``status.needs_rescue``); a missing English text falls back to Japanese, a
missing key shows the key itself (and a test checks no key used in code is missing).

>>> t("status.needs_rescue")
'要救助'
>>> t("status.needs_rescue", "en")
'Needs rescue'
>>> t("overview.citizens_count", "en", n=3)
'3 opted-in citizens'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
CATALOG_PATH = Path(__file__).with_name("messages.yaml")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """The flattened catalog: ``{"a.b": {"ja": ..., "en": ...}}``."""
    raw = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: Any) -> None:
        if (
            isinstance(node, dict)
            and "ja" in node
            and all(isinstance(v, str) for v in node.values())
        ):
            flat[prefix] = node
            return
        if not isinstance(node, dict):
            raise ValueError(f"{CATALOG_PATH}: {prefix}: expected ja/en texts or a section")
        for key, child in node.items():
            walk(f"{prefix}.{key}" if prefix else str(key), child)

    walk("", raw)
    return flat


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: Any) -> str:
    """The label for ``key`` in ``lang`` (``ja`` or ``en``), formatted with ``values``."""
    entry = catalog().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["ja"]
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in catalog()
