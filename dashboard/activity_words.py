"""The activity log in words: what an action touched ("避難所 7", not ``shelter 7``) and its
details ("理由：出動", "状態：隊割当済 → 出動中", not ``reason=出動``); codes the catalog does
not know are shown as they are rather than hidden."""

from __future__ import annotations

from typing import Any

from bosai.i18n import has

from .context import PageContext

#: Detail values that are codes of a catalog section, by detail key.
CODED = {"from": "rescue_status", "to": "rescue_status", "status": "rescue_status"}


def target_text(ctx: PageContext, kind: Any, target_id: Any) -> str:
    kind = "" if kind is None else str(kind)
    key = f"activity.target.{kind}"
    name = ctx.t(key) if has(key) else kind
    return f"{name} {'' if target_id is None else target_id}".strip()


def details_text(ctx: PageContext, details: dict[str, Any] | None) -> str:
    if not details:
        return ""
    parts = []
    for key, value in details.items():
        if value is None:
            continue
        label_key = f"activity.detail.{key}"
        label = ctx.t(label_key) if has(label_key) else key
        coded = f"{CODED[key]}.{value}" if key in CODED else None
        if isinstance(value, bool):
            shown = ctx.t("common.yes") if value else ctx.t("common.no")
        else:
            shown = ctx.t(coded) if coded and has(coded) else str(value)
        parts.append(ctx.t("common.label_value", label=label, value=shown))
    return ctx.t("common.list_sep").join(parts)
