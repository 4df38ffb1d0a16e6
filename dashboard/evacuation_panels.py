"""The decision board's parts: proposals, what is in force, the issue and lift forms with
their confirmation dialogs, the decisions taken. Callbacks go through :mod:`dashboard.gate`;
outside text (area names, reasons) is shown as text (tables, ``st.text``)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from reports.announcement import announcement_pdf
from reports.cap import FEED_NAME, decision_message, publish_dir
from reports.evacuation_parts import city_counts_text
from sql.actions import ActionRefused
from sql.actions.evacuation import EvacuationRefused, issue, lift
from sql.queries.evacuation import issuance_history

from . import gate
from .basemap import STATIC_DIR, STATIC_URL_PATH
from .context import PageContext
from .evacuation_state import BoardState
from .text import say

MESSAGES_KEY = "evac_messages"
#: Where the board republishes the Atom feed and its CAP files after a decision (served by
#: Streamlit's static serving at ``<app>/app/static/evacuation/feed.atom``); the environment
#: variable moves it (tests, a web server's own folder).
FEED_DIR_ENV = "BOSAI_EVACUATION_FEED_DIR"
LEVELS = (3, 4, 5)
#: Each confirmation's checkbox that asks to push the decision to the citizens in its areas.
_PUSH_CHOICE = {"evac_issue": "evac_push", "evac_lift": "evac_lift_push"}


def show_messages() -> None:
    """Show (once) what the last decision really did."""
    for kind, text in st.session_state.pop(MESSAGES_KEY, []):
        {"success": st.success, "error": st.error, "info": st.info}[kind](text)


def _say(kind: str, text: str) -> None:
    st.session_state.setdefault(MESSAGES_KEY, []).append((kind, text))


def _when(ctx: PageContext, value: Any) -> str:
    return format_datetime(value, ctx.lang) if value is not None and pd.notna(value) else "—"


def level_name(ctx: PageContext, level: int | None) -> str:
    return ctx.t(f"evacuation.level.{level}") if level else ctx.t("evacuation.level.none")


def area_name(ctx: PageContext, row: Any) -> str:
    name_en = row["name_en"] if "name_en" in row else None
    name = name_en if ctx.lang == "en" and isinstance(name_en, str) and name_en else row["name_ja"]
    return f"{name} ({row['code']})"


def area_labels(ctx: PageContext, state: BoardState) -> dict[int, str]:
    return {int(r["id"]): area_name(ctx, r) for _, r in state.areas.iterrows()}


def trigger_text(ctx: PageContext, trigger: dict[str, Any]) -> str:
    kind = trigger.get("kind", "manual")
    if kind == "river_level":
        return ctx.t(
            "evacuation.trigger.river_level",
            station=trigger.get("station_name") or trigger.get("station"),
            river=trigger.get("river") or "—",
            level=f"{trigger.get('level_m', 0):.2f}",
            threshold=ctx.t(f"evacuation.threshold.{trigger.get('threshold', 'danger_m')}"),
            threshold_m=f"{trigger.get('threshold_m', 0):.2f}",
        )
    if kind == "flood_forecast":
        river = trigger.get("river")
        forecast = trigger.get("forecast", "")
        kind = f"{river} {forecast}" if river else forecast
        return ctx.t("evacuation.trigger.flood_forecast", kind=kind)
    return ctx.t(f"evacuation.trigger.{kind}")


def _minutes_since(state: BoardState, at: dt.datetime | None) -> str:
    if at is None:
        return "—"
    return str(max(int((state.now - at).total_seconds() // 60), 0))


def _minutes_between(trigger: Any, issued_at: Any) -> str:
    """Minutes from the trigger being reached to the decision ("—" when decided by hand)."""
    reached = trigger.get("triggered_at") if isinstance(trigger, dict) else None
    if not reached or issued_at is None or pd.isna(issued_at):
        return "—"
    minutes = (issued_at - dt.datetime.fromisoformat(reached)).total_seconds() / 60
    return str(max(int(minutes), 0))


# ------------------------------------------------------------------ proposals


def proposals_table(ctx: PageContext, state: BoardState) -> pd.DataFrame:
    labels = {r["code"]: area_name(ctx, r) for _, r in state.areas.iterrows()}
    return pd.DataFrame(
        {
            ctx.t("evacuation.page.col.area"): [labels[p.area] for p in state.proposals],
            ctx.t("evacuation.page.col.proposed"): [
                level_name(ctx, p.level) for p in state.proposals
            ],
            ctx.t("evacuation.page.col.current"): [
                level_name(ctx, p.current_level) for p in state.proposals
            ],
            ctx.t("evacuation.page.col.reason"): [
                trigger_text(ctx, p.trigger) for p in state.proposals
            ],
            ctx.t("evacuation.page.col.triggered_at"): [
                _when(ctx, p.triggered_at) for p in state.proposals
            ],
            ctx.t("evacuation.page.col.minutes_since"): [
                _minutes_since(state, p.triggered_at) for p in state.proposals
            ],
        }
    )


def on_accept(
    ctx: PageContext, level: int, area_ids: list[int], reason: str, trigger: dict
) -> None:
    """Put a proposal into the issue form (HQ still confirms)."""
    st.session_state["evac_areas"] = area_ids
    st.session_state["evac_level"] = level
    st.session_state["evac_reason"] = reason
    st.session_state["evac_trigger"] = trigger


def accept_buttons(ctx: PageContext, state: BoardState) -> None:
    """One button per proposed level: its areas, the deciding reason, into the form."""
    ids = state.code_to_id
    for level in sorted({p.level for p in state.proposals}, reverse=True):
        chosen = [p for p in state.proposals if p.level == level]
        first = min(chosen, key=lambda p: p.triggered_at or state.now)
        trigger = {
            **first.trigger,
            "triggered_at": first.triggered_at.isoformat() if first.triggered_at else None,
            "rules": sorted({r for p in chosen for r in p.rule_ids}),
        }
        st.button(
            ctx.t("evacuation.page.accept", level=level_name(ctx, level), n=len(chosen)),
            key=f"evac_accept_{level}",
            on_click=gate.callback(on_accept),
            args=(
                ctx,
                level,
                [ids[p.area] for p in chosen],
                trigger_text(ctx, first.trigger),
                trigger,
            ),
        )


# ------------------------------------------------------------------ in force


def in_force_table(ctx: PageContext, state: BoardState) -> pd.DataFrame:
    labels = area_labels(ctx, state)
    items = sorted(state.in_force.values(), key=lambda f: (-f.level, labels.get(f.area_id, "")))
    return pd.DataFrame(
        {
            ctx.t("evacuation.page.col.area"): [labels.get(f.area_id, "") for f in items],
            ctx.t("evacuation.page.col.current"): [level_name(ctx, f.level) for f in items],
            ctx.t("evacuation.page.col.since"): [_when(ctx, f.issued_at) for f in items],
            ctx.t("evacuation.page.col.by"): [f.issued_by for f in items],
            ctx.t("evacuation.page.col.reason"): [f.reason for f in items],
            ctx.t("evacuation.page.col.exercise"): [
                ctx.t("evacuation.page.exercise") if f.is_exercise else "" for f in items
            ],
        }
    )


def _city_columns(ctx: PageContext, state: BoardState, area_ids: pd.Series) -> dict[str, list]:
    """The city's residents, households and their source per area ("—" when not given)."""
    areas = state.areas.set_index("id")

    def cell(column: str, area_id: int) -> str:
        value = areas.at[area_id, column] if column in areas else None
        if value is None or pd.isna(value) or value == "":
            return "—"
        return f"{int(value):,}" if column != "counts_source" else str(value)

    ids = [int(a) for a in area_ids]
    return {
        ctx.t(f"evacuation.counts.{key}"): [cell(column, a) for a in ids]
        for key, column in (
            ("col_residents", "residents"),
            ("col_households", "households"),
            ("col_source", "counts_source"),
        )
    }


def coverage_table(ctx: PageContext, state: BoardState) -> pd.DataFrame:
    labels = area_labels(ctx, state)
    cov = state.coverage
    return pd.DataFrame(
        {
            ctx.t("evacuation.page.col.area"): [labels.get(int(a), "") for a in cov["area_id"]],
            ctx.t("evacuation.page.col.kind"): [
                ctx.t(f"evacuation.area_kind.{k}")
                for k in state.areas.set_index("id").loc[cov["area_id"], "kind"]
            ],
            ctx.t("evacuation.page.col.current"): [
                level_name(ctx, state.in_force[int(a)].level if int(a) in state.in_force else None)
                for a in cov["area_id"]
            ],
            **_city_columns(ctx, state, cov["area_id"]),
            ctx.t("evacuation.counts.col_opted_in"): cov["people"].astype(int),
            ctx.t("evacuation.counts.col_opted_in_households"): cov["households"].astype(int),
            ctx.t("evacuation.page.register_people"): cov["register_people"].astype(int),
            ctx.t("evacuation.page.shelters"): cov["shelters"].astype(int),
            ctx.t("evacuation.page.shelters_near"): cov["shelters_near"].astype(int),
        }
    )


# ------------------------------------------------------------------ issue


def _covered_lines(ctx: PageContext, state: BoardState, area_ids: list[int]) -> list[str]:
    labels = area_labels(ctx, state)
    covered = state.covered(area_ids)
    return [
        ctx.t("evacuation.page.confirm_areas", areas="、".join(labels[a] for a in area_ids)),
        city_counts_text(state.city_counts(area_ids), ctx.lang),
        ctx.t("evacuation.counts.confirm_opted_in", **covered),
    ]


def issue_form(ctx: PageContext, incident_id: int, state: BoardState) -> None:
    labels = area_labels(ctx, state)
    st.multiselect(
        ctx.t("evacuation.page.areas"),
        options=list(labels),
        format_func=lambda a: labels.get(a, str(a)),
        key="evac_areas",
        placeholder=ctx.t("evacuation.page.choose_areas"),
    )
    st.radio(
        ctx.t("evacuation.page.level"),
        options=list(LEVELS),
        format_func=lambda lv: level_name(ctx, lv),
        key="evac_level",
        horizontal=True,
    )
    st.text_area(ctx.t("evacuation.page.reason"), key="evac_reason", max_chars=2000)
    st.checkbox(ctx.t("evacuation.page.push"), value=True, key="evac_push")
    chosen = list(st.session_state.get("evac_areas") or [])
    if _open_button("evac_issue", ctx.t("evacuation.page.issue"), chosen, type="primary"):
        gate.dialog(
            ctx.t("evacuation.page.confirm_issue_title"),
            on_dismiss=gate.callback(_close_issue),
        )(_issue_body)(ctx, incident_id, state, chosen)


def _open_button(name: str, label: str, chosen: list[int], **style: Any) -> bool:
    """The button that opens the confirmation ``name`` (usable once areas are chosen); True
    while that confirmation is open."""
    st.button(
        label,
        disabled=not chosen,
        key=f"{name}_open",
        on_click=gate.callback(_open),
        args=(name,),
        **style,
    )
    return bool(st.session_state.get(f"{name}_key") and chosen)


def _confirm_or_cancel(
    ctx: PageContext, name: str, label: str, decide: Callable, args: tuple, cancel: Callable
) -> None:
    """The confirmation's two buttons: ``label`` takes the decision (``decide(*args)``), the
    other closes the confirmation (``cancel``)."""
    left, right = st.columns(2)
    left.button(
        label,
        type="primary",
        width="stretch",
        key=f"{name}_confirm",
        on_click=gate.callback(decide),
        args=args,
    )
    right.button(
        ctx.t("evacuation.page.cancel"),
        width="stretch",
        key=f"{name}_cancel",
        on_click=gate.callback(cancel),
    )


def _open(name: str) -> None:
    """Open a confirmation: the decision's idempotency key is made now, so a double click on
    its confirm button records the decision once."""
    st.session_state[f"{name}_key"] = uuid.uuid4().hex


def _close(name: str) -> None:
    st.session_state.pop(f"{name}_key", None)


def _close_issue() -> None:
    _close("evac_issue")


def _close_lift() -> None:
    _close("evac_lift")


def _issue_body(ctx: PageContext, incident_id: int, state: BoardState, area_ids: list[int]) -> None:
    if not st.session_state.get("evac_issue_key"):  # decided or cancelled: show the page
        st.rerun()
    level = int(st.session_state.get("evac_level") or 3)
    reason = st.session_state.get("evac_reason") or ""
    st.text(ctx.t("evacuation.page.confirm_issue", level=level_name(ctx, level)))
    for line in _covered_lines(ctx, state, area_ids):
        st.text(line)
    st.text(ctx.t("evacuation.page.confirm_reason", reason=reason or "—"))
    if st.session_state.get("evac_push", True):
        st.text(ctx.t("evacuation.page.confirm_push"))
    _confirm_or_cancel(
        ctx,
        "evac_issue",
        ctx.t("evacuation.page.confirm_issue_button", level=level_name(ctx, level)),
        _do_issue,
        (ctx, incident_id, area_ids, level, reason),
        _close_issue,
    )


def _refusal(ctx: PageContext, exc: ActionRefused) -> str:
    if isinstance(exc, EvacuationRefused):
        return ctx.t(exc.key, **exc.values)
    return ctx.t("panel.refused", reason=str(exc))


def _report(ctx: PageContext, decision) -> None:
    written, unchanged = decision.written, decision.unchanged
    if decision.repeated:
        _say("info", ctx.t("evacuation.page.repeated"))
    if written:
        key = "evacuation.page.issued" if decision.action == "issue" else "evacuation.page.lifted"
        _say(
            "success",
            ctx.t(
                key,
                level=level_name(ctx, decision.level),
                n=len(written),
                areas="、".join(c.area_code for c in written),
                at=_when(ctx, decision.at),
            ),
        )
    if unchanged:
        _say(
            "info",
            ctx.t(
                "evacuation.page.unchanged",
                n=len(unchanged),
                areas="、".join(c.area_code for c in unchanged),
            ),
        )
    if decision.is_exercise:
        _say("info", ctx.t("evacuation.page.exercise_note"))


def _do_issue(
    ctx: PageContext, incident_id: int, area_ids: list[int], level: int, reason: str
) -> None:
    state = st.session_state
    trigger = state.get("evac_trigger") or {"kind": "manual"}
    if not _decide(ctx, "evac_issue", issue, incident_id, area_ids, level, reason, trigger=trigger):
        return
    state.pop("evac_trigger", None)
    state["evac_areas"] = []
    state["evac_reason"] = ""


def _decide(
    ctx: PageContext, name: str, action: Callable, incident_id: int, *args, **kwargs
) -> bool:
    """Take the decision ``action`` (issue or lift) confirmed in ``name``, once however often
    it is clicked (its idempotency key), and say what it did (:func:`_announce`). The
    confirmation closes either way; False if the decision was refused."""
    state = st.session_state
    try:
        decision = action(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            *args,
            idempotency_key=state.get(f"{name}_key") or uuid.uuid4().hex,
            **kwargs,
        )
    except ActionRefused as exc:
        _say("error", _refusal(ctx, exc))
        state.pop(f"{name}_key", None)
        return False
    _announce(ctx, incident_id, decision, push=state.get(_PUSH_CHOICE[name], True))
    state.pop(f"{name}_key", None)
    return True


def _announce(ctx: PageContext, incident_id: int, decision, push: bool) -> None:
    """Say what was decided; a decision that changed areas (not a repeated click) is published
    in the feed again and, when ``push``, pushed to the citizens in its areas."""
    _report(ctx, decision)
    if decision.written and not decision.repeated:
        _republish(ctx, incident_id)
        if push:
            _push(ctx, decision.decision_key)


def feed_dir() -> Path:
    """The folder of the published feed (``dashboard/static/evacuation`` unless configured)."""
    configured = os.environ.get(FEED_DIR_ENV)
    return Path(configured) if configured else STATIC_DIR / "evacuation"


def _republish(ctx: PageContext, incident_id: int) -> None:
    """Write the feed and the CAP messages it links again, as ``bosai evacuation feed --dir``
    does (:func:`reports.cap.publish_dir`), with links under this app's address."""
    origin = "/".join((st.context.url or "").split("/", 3)[:3])
    base_url = f"{origin}/{STATIC_URL_PATH}/evacuation"
    try:
        written = publish_dir(ctx.engine, incident_id, base_url, feed_dir())
    except OSError as exc:
        _say("error", say(ctx.t, "evacuation.page.feed_failed", error=exc))
        return
    n = sum(1 for p in written if p.name != FEED_NAME)
    _say("info", ctx.t("evacuation.page.feed_published", n=n))


def _push(ctx: PageContext, decision_key: str) -> None:
    """Push the decision to the consenting citizens in its areas; say what really happened
    (sent vs accepted vs failed, and how many the city could reach)."""
    from cityos.client import CityOSClient
    from cityos.config import load_config
    from cityos.errors import CityOSError, ConnectorConfigError
    from cityos.evacuation_push import push_decision

    try:
        client = CityOSClient(load_config())
    except ConnectorConfigError as exc:
        _say("error", say(ctx.t, "evacuation.page.push_not_configured", error=exc))
        return
    try:
        pushed = push_decision(ctx.engine, client, ctx.viewer, decision_key)
    except CityOSError as exc:
        _say("error", say(ctx.t, "evacuation.page.push_failed", error=exc))
        return
    finally:
        client.close()
    if pushed.outcome is None:
        _say("info", ctx.t("evacuation.page.push_nobody", candidates=pushed.candidates))
        return
    out = pushed.outcome
    _say(
        "success" if out.status in ("sent", "accepted") else "error",
        ctx.t(
            "evacuation.page.pushed",
            candidates=f"{pushed.candidates:,}",
            recipients=f"{pushed.recipients:,}",
            status=ctx.t(f"evacuation.page.push_status.{out.status}")
            if out.status in ("sent", "accepted", "failed")
            else out.status,
            accepted=f"{out.recipient_count:,}",
            delivered=f"{out.delivered:,}",
            failed=f"{out.failed:,}",
        ),
    )


# ------------------------------------------------------------------ lift


def lift_form(ctx: PageContext, incident_id: int, state: BoardState) -> None:
    labels = area_labels(ctx, state)
    in_force = [a for a in labels if a in state.in_force]
    if not in_force:
        st.caption(ctx.t("evacuation.page.nothing_in_force"))
        return
    st.multiselect(
        ctx.t("evacuation.page.lift_areas"),
        options=in_force,
        format_func=lambda a: f"{labels.get(a, a)} — {level_name(ctx, state.in_force[a].level)}",
        key="evac_lift_areas",
        placeholder=ctx.t("evacuation.page.choose_areas"),
    )
    st.text_area(ctx.t("evacuation.page.lift_reason"), key="evac_lift_reason", max_chars=2000)
    st.checkbox(ctx.t("evacuation.page.push"), value=True, key="evac_lift_push")
    chosen = [a for a in (st.session_state.get("evac_lift_areas") or []) if a in state.in_force]
    if _open_button("evac_lift", ctx.t("evacuation.page.lift"), chosen):
        gate.dialog(
            ctx.t("evacuation.page.confirm_lift_title"),
            on_dismiss=gate.callback(_close_lift),
        )(_lift_body)(ctx, incident_id, state, chosen)


def _lift_body(ctx: PageContext, incident_id: int, state: BoardState, area_ids: list[int]) -> None:
    if not st.session_state.get("evac_lift_key"):  # decided or cancelled: show the page
        st.rerun()
    reason = st.session_state.get("evac_lift_reason") or ""
    labels = area_labels(ctx, state)
    st.text(ctx.t("evacuation.page.confirm_lift"))
    for a in area_ids:
        st.text(f"・{labels[a]}: {level_name(ctx, state.in_force[a].level)}")
    for line in _covered_lines(ctx, state, area_ids)[1:]:
        st.text(line)
    st.text(ctx.t("evacuation.page.confirm_reason", reason=reason or "—"))
    _confirm_or_cancel(
        ctx,
        "evac_lift",
        ctx.t("evacuation.page.confirm_lift_button"),
        _do_lift,
        (ctx, incident_id, area_ids, reason),
        _close_lift,
    )


def _do_lift(ctx: PageContext, incident_id: int, area_ids: list[int], reason: str) -> None:
    if not _decide(ctx, "evac_lift", lift, incident_id, area_ids, reason):
        return
    st.session_state["evac_lift_areas"] = []
    st.session_state["evac_lift_reason"] = ""


# ------------------------------------------------------------------ decisions taken


def history_table(ctx: PageContext, incident_id: int) -> pd.DataFrame:
    history = issuance_history(ctx.engine, incident_id)
    if history.empty:
        return history
    names = history["area_name_en"] if ctx.lang == "en" else history["area_name_ja"]
    return pd.DataFrame(
        {
            ctx.t("evacuation.page.col.at"): [_when(ctx, v) for v in history["issued_at"]],
            ctx.t("evacuation.page.col.area"): [
                f"{n if isinstance(n, str) and n else j} ({c})"
                for n, j, c in zip(
                    names, history["area_name_ja"], history["area_code"], strict=True
                )
            ],
            ctx.t("evacuation.page.col.action"): [
                level_name(ctx, lv) if a == "issue" else ctx.t("evacuation.lifted")
                for a, lv in zip(history["action"], history["level"], strict=True)
            ],
            ctx.t("evacuation.page.col.previous"): [
                level_name(ctx, int(p)) if pd.notna(p) else level_name(ctx, None)
                for p in history["previous_level"]
            ],
            ctx.t("evacuation.page.col.by"): history["issued_by"].astype(str),
            ctx.t("evacuation.page.col.from_trigger"): [
                _minutes_between(t, at)
                for t, at in zip(history["trigger"], history["issued_at"], strict=True)
            ],
            ctx.t("evacuation.page.col.reason"): history["reason"].astype(str),
            ctx.t("evacuation.page.col.exercise"): [
                ctx.t("evacuation.page.exercise") if x else "" for x in history["is_exercise"]
            ],
        }
    )


def cap_download(ctx: PageContext, incident_id: int) -> None:
    """The newest decision's CAP message (produced when requested, after the gate)."""
    history = issuance_history(ctx.engine, incident_id)
    if history.empty:
        return
    newest = history.iloc[-1]
    key = str(newest["decision_key"])
    # Each file: what it is (its label, name and widget key), how it is made, its type.
    files = (
        ("cap", decision_message, "xml", "application/cap+xml"),
        ("announcement", announcement_pdf, "pdf", "application/pdf"),
    )
    for slot, (what, make, extension, mime) in zip(st.columns(2), files, strict=True):
        gate.download_button(
            ctx.t(f"evacuation.page.{what}_download"),
            functools.partial(make, ctx.engine, key),
            container=slot,
            file_name=f"{what}-{newest['id']}.{extension}",
            mime=mime,
            key=f"evac_{what}",
        )
