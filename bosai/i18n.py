"""The one label catalog: Japanese first, English second.

Every label people see comes from the catalog through :func:`t`. The catalog is the YAML files
in ``bosai/messages/`` (one per area of the product, merged; a key defined twice is an error).
Keys are dotted (``overview.title``, ``status.needs_rescue``); a missing English text falls back
to Japanese, a missing key shows the key itself (and a test checks that every key used in code
exists).

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
CATALOG_DIR = Path(__file__).with_name("messages")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """The flattened catalog: ``{"a.b": {"ja": ..., "en": ...}}``."""
    flat: dict[str, dict[str, str]] = {}

    def walk(path: Path, prefix: str, node: Any) -> None:
        is_entry = isinstance(node, dict) and "ja" in node
        if is_entry and all(isinstance(v, str) for v in node.values()):
            if prefix in flat:
                raise ValueError(f"{path.name}: {prefix}: defined twice in the catalog")
            flat[prefix] = node
            return
        if not isinstance(node, dict):
            raise ValueError(f"{path.name}: {prefix}: expected ja/en texts or a section")
        for key, child in node.items():
            walk(path, f"{prefix}.{key}" if prefix else str(key), child)

    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        walk(path, "", yaml.safe_load(path.read_text(encoding="utf-8")) or {})
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
