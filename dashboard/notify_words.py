"""How the notifications page names what it did: the target as staff chose it (a zone's name,
not "listed citizens"), and when a send asks for confirmation first."""

from __future__ import annotations

from typing import Any

from .context import PageContext

#: Sending to more people than this asks in a dialog first (issue 14).
CONFIRM_ABOVE = 100


def target_name(ctx: PageContext, kind: str, spec: Any) -> str:
    """The history's target: the label chosen when it was sent, else the kind's name (for a
    table cell: text, never markup)."""
    chosen = spec.get("chosen") if isinstance(spec, dict) else None
    if chosen:
        kind_name = ctx.t(f"notify.kind.{chosen.get('kind', kind)}")
        label = chosen.get("label")
        if not label:
            return kind_name
        return f"{kind_name}：{label}" if ctx.lang == "ja" else f"{kind_name}: {label}"
    return ctx.t(f"notify.kind.{kind}")
