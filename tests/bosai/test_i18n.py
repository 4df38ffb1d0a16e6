"""One catalog: every key used in code exists, in Japanese and in English."""

from __future__ import annotations

import re
from pathlib import Path

from bosai.i18n import catalog, t

ROOT = Path(__file__).resolve().parents[2]
#: t("a.b"), ctx.t("a.b"), t("a.b", lang) ... with a literal key.
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")


def test_labels_are_japanese_first_with_english():
    assert t("status.needs_rescue") == "要救助"
    assert t("status.needs_rescue", "en") == "Needs rescue"
    assert t("app.data_as_of", "en", time="10:00:00") == "Data as of 10:00:00"
    assert t("no.such.key") == "no.such.key"


def test_every_entry_has_both_languages():
    missing = [
        key for key, entry in catalog().items() if not entry.get("ja") or not entry.get("en")
    ]
    assert missing == []


def test_every_literal_key_used_in_code_is_in_the_catalog():
    used: dict[str, str] = {}
    for folder in (
        "dashboard",
        "analytics",
        "surveys",
        "drills",
        "sql",
        "bosai",
        "importers",
        "reports",
        "cityos",
    ):
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(key, str(path.relative_to(ROOT)))
    missing = {key: where for key, where in used.items() if key not in catalog()}
    assert used, "the scan found no labels at all"
    assert missing == {}
