"""What an import did (or would do, in a dry run): counts, one line, and the per-item diff."""

from __future__ import annotations

import dataclasses
from typing import Any

from bosai.i18n import t

#: Count fields in the order the one-line summary shows them.
COUNTS = ("added", "changed", "unchanged", "merged", "removed", "skipped", "rejected")


@dataclasses.dataclass
class ImportSummary:
    what: str  # shelters, occupancy, hazards, warnings
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    #: Records that joined an existing shelter from another list (kept both IDs).
    merged: int = 0
    removed: int = 0
    #: Inputs recognised and deliberately not imported (VPWW53, telegrams for other areas, ...).
    skipped: int = 0
    #: Invalid rows left out with ``--skip-invalid``.
    rejected: int = 0
    dry_run: bool = False
    #: One line per added or changed item: ``+ …`` added, ``~ …`` changed, ``- …`` removed.
    diff: list[str] = dataclasses.field(default_factory=list)
    #: Things worth saying in a sentence (e.g. which incident occupancy went to).
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Extra figures (e.g. ``{"observations": 1466}``) for callers and tests.
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)

    def note_added(self, item: object) -> None:
        """Count one added item and say so in the diff (``+ item``)."""
        self.added += 1
        self.diff.append(f"+ {item}")

    def note_changed(self, item: object) -> None:
        """Count one changed item and say so in the diff (``~ item``: what changed)."""
        self.changed += 1
        self.diff.append(f"~ {item}")

    @property
    def wrote_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def line(self, lang: str = "ja") -> str:
        """One line: 「避難所: 追加 234・変更 0・変更なし 0・統合 67」 (zero optional counts left out)."""
        parts = []
        for name in COUNTS:
            value = getattr(self, name)
            if value or name in ("added", "changed", "unchanged"):
                parts.append(t(f"importers.count.{name}", lang, n=value))
        for key, value in self.figures.items():
            if (
                isinstance(value, int)
                and t(f"importers.figure.{key}", lang, n=value) != f"importers.figure.{key}"
            ):
                parts.append(t(f"importers.figure.{key}", lang, n=value))
        separator = "・" if lang == "ja" else ", "
        head = t(f"importers.what.{self.what}", lang)
        text = f"{head}: {separator.join(parts)}"
        if self.dry_run:
            text = f"{t('importers.dry_run_prefix', lang)} {text}"
        return text
