"""The detail panels opened from the map or a table: a rescue request, a shelter.

Each panel shows what the policy lets the viewer see and offers the actions of the viewer's
role. Actions run in button callbacks with the version the staff member *saw* when the panel
was drawn, so a change made meanwhile by someone else is reported as a conflict instead of
being overwritten.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analytics.triage import DEFAULT_WEIGHTS, minutes_waiting
from bosai.jpdate import format_datetime
from bosai.palette import colour
from sql import policy
from sql.actions import ActionRefused, ConflictError
from sql.actions.rescue import allowed_transitions, change_rescue_request
from sql.actions.shelters import close_shelter, open_shelter, record_head_count
from sql.queries.incidents import incident_clock
from sql.queries.rescue import rescue_history, rescue_teams, team_loads
from sql.queries.shelter_board import occupancy_history

from . import gate, time_charts
from .context import PageContext
from .text import plain, say

MESSAGE_KEY = "_bosai_panel_message"
#: The action waiting for its confirmation dialog, per panel (``…:shelter:12`` → ``"close"``).
CONFIRM_KEY = "_bosai_panel_confirm"


def _say(kind: str, text: str, target: str | None = None) -> None:
    st.session_state[_message_key(target)] = (kind, text)


def _message_key(target: str | None) -> str:
    return MESSAGE_KEY if target is None else f"{MESSAGE_KEY}:{target}"


def show_messages(target: str | None = None) -> None:
    """Show (once) the outcome of the last action — a panel's under the panel it was taken in
    (``target``: ``shelter:12``, ``rescue:177``), so it never shows under another name."""
    message = st.session_state.pop(_message_key(target), None)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}[kind](
            text
        )


def _ask(target: str, action: str | None) -> None:
    """Remember (or forget) the action waiting for confirmation in ``target``'s panel."""
    key = f"{CONFIRM_KEY}:{target}"
    if action is None:
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = action


def _asked(target: str) -> str | None:
    return st.session_state.get(f"{CONFIRM_KEY}:{target}")


def _confirm_buttons(ctx: PageContext, target: str, label: str, do: Any) -> None:
    """The confirm / cancel pair of a confirmation dialog: confirm runs ``do`` (in the dialog's
    run, which the gate checked), then the page is redrawn; cancel only closes."""
    left, right = st.columns(2)
    if left.button(label, type="primary", width="stretch", key=f"confirm_yes_{target}"):
        _ask(target, None)
        do()
        st.rerun()
    if right.button(ctx.t("panel.cancel"), width="stretch", key=f"confirm_no_{target}"):
        _ask(target, None)
        st.rerun()


# ------------------------------------------------------------------ rescue request


#: Moves that take a request off the open list: asked in a dialog first.
CLOSING_STATUSES = ("resolved", "cancelled")


def _on_rescue_submit(
    ctx: PageContext, incident_id: int | None, request_id: int, confirmed: bool = False
) -> None:
    state = st.session_state
    seen = state.get(f"rescue_seen_{request_id}")
    to_status = state.get(f"rescue_to_{request_id}")
    target = f"rescue:{request_id}"
    if to_status in CLOSING_STATUSES and not confirmed:
        _ask(target, to_status)
        return
    team = state.get(f"rescue_team_{request_id}") or None
    reason = state.get(f"rescue_reason_{request_id}") or None
    try:
        change_rescue_request(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            request_id,
            int(seen),
            to_status,
            reason=reason,
            team=team,
        )
    except ConflictError as exc:
        state.pop(f"rescue_seen_{request_id}", None)
        current = exc.current
        _say(
            "error",
            ctx.t(
                "rescue.conflict",
                id=request_id,
                by=plain(current.get("by") or "?"),
                status=ctx.t(f"rescue_status.{current.get('status')}")
                if current.get("status")
                else "?",
                team=plain(current.get("assigned_team") or "—"),
            ),
            target,
        )
    except ActionRefused as exc:
        _say("error", say(ctx.t, "panel.refused", reason=exc), target)
    else:
        _say(
            "success",
            ctx.t("rescue.saved", id=request_id, status=ctx.t(f"rescue_status.{to_status}")),
            target,
        )
        state.pop(f"rescue_reason_{request_id}", None)
        state.pop(f"rescue_seen_{request_id}", None)


def _rescue_dialog_body(
    ctx: PageContext,
    incident_id: int | None,
    request_id: int,
    to_status: str,
    row: pd.Series,
    waiting: int,
) -> None:
    st.text(
        ctx.t(
            "rescue.close_confirm",
            id=request_id,
            district=row["district"] or "—",
            people=int(row["people_count"]),
            waiting=ctx.t("rescue.minutes", n=waiting),
            status=ctx.t(f"rescue_status.{to_status}"),
        )
    )
    st.caption(ctx.t("rescue.close_effect"))
    _confirm_buttons(
        ctx,
        f"rescue:{request_id}",
        ctx.t("rescue.close_yes", status=ctx.t(f"rescue_status.{to_status}")),
        lambda: _on_rescue_submit(ctx, incident_id, request_id, confirmed=True),
    )


def rescue_panel(ctx: PageContext, incident_id: int | None, request_id: int) -> None:
    rows = policy.rescue_requests(
        ctx.engine, ctx.viewer.for_incident(incident_id), incident_id, request_ids=[request_id]
    )
    if rows.empty:
        st.info(ctx.t("rescue.not_found", id=request_id))
        return
    row = rows.iloc[0]
    st.subheader(ctx.t("rescue.panel_title", id=request_id))
    now = incident_clock(ctx.engine, incident_id)
    waiting = int(minutes_waiting(pd.Series([row["requested_at"]]), now).iloc[0])
    from compositions.hq_map_state import score_requests

    from . import data

    scored = score_requests(rows, data.hq_cache(ctx.database_url).zones(ctx.engine).index, now)
    depth = scored["flood_depth_m"].iloc[0]
    facts = {
        ctx.t("rescue.col.status"): ctx.t(f"rescue_status.{row['status']}"),
        ctx.t("rescue.col.priority"): ctx.t(f"priority.{row['priority']}"),
        ctx.t("rescue.col.score"): f"{scored['score'].iloc[0]:.1f}",
        ctx.t("rescue.col.people"): f"{int(row['people_count'])}",
        ctx.t("rescue.col.injured"): f"{int(row['injured_count'])}",
        ctx.t("rescue.col.needs"): row["needs"] or "—",
        ctx.t("rescue.col.register"): ctx.t("common.yes")
        if row["on_register"]
        else ctx.t("common.no"),
        ctx.t("rescue.col.district"): row["district"] or "—",
        ctx.t("rescue.col.name"): row["name"] or ctx.t("rescue.not_shared"),
        ctx.t("rescue.col.phone"): row["phone"] or ctx.t("rescue.not_shared"),
        ctx.t("rescue.col.requested"): format_datetime(row["requested_at"], ctx.lang),
        ctx.t("rescue.col.waiting"): ctx.t("rescue.minutes", n=waiting),
        ctx.t("rescue.col.team"): row["assigned_team"] or "—",
        ctx.t("rescue.col.depth"): ctx.t("rescue.depth_m", m=f"{depth:.1f}")
        if pd.notna(depth)
        else "—",
        ctx.t("rescue.col.address"): row.get("address") or ctx.t("rescue.no_position"),
        ctx.t("rescue.col.position"): (
            f"{row['lat']:.5f}, {row['lon']:.5f}"
            if pd.notna(row["lat"])
            else ctx.t("rescue.no_position")
        ),
    }
    st.dataframe(
        pd.DataFrame(
            {ctx.t("panel.item"): list(facts), ctx.t("panel.value"): list(facts.values())}
        ),
        hide_index=True,
        width="stretch",
    )
    # The version this staff member started from: kept across auto-refreshes until they save,
    # so a change made meanwhile by someone else is reported instead of silently built upon.
    seen = st.session_state.setdefault(f"rescue_seen_{request_id}", int(row["version"]))
    st.caption(ctx.t("rescue.version", version=int(row["version"])))
    if seen != int(row["version"]):
        st.warning(ctx.t("rescue.changed_meanwhile", seen=seen, now=int(row["version"])))
    show_messages(f"rescue:{request_id}")  # the outcome of the last save, where it was made
    if ctx.viewer.role in ("hq", "rescue"):
        choices = [row["status"], *allowed_transitions(row["status"])]
        teams = rescue_teams(ctx.engine)  # natural order: 1, 2 … 10
        loads = team_loads(ctx.engine, incident_id)
        with st.form(f"rescue_form_{request_id}", clear_on_submit=False):
            st.selectbox(
                ctx.t("rescue.to_status"),
                choices,
                index=min(1, len(choices) - 1),
                format_func=lambda s: ctx.t(f"rescue_status.{s}"),
                key=f"rescue_to_{request_id}",
            )
            st.selectbox(
                ctx.t("rescue.team"),
                ["", *teams],
                index=(teams.index(row["assigned_team"]) + 1)
                if row["assigned_team"] in teams
                else 0,
                format_func=lambda team: (
                    ctx.t("rescue.team_none")
                    if not team
                    else ctx.t("rescue.team_load", team=team, n=loads.get(team, 0))
                ),
                key=f"rescue_team_{request_id}",
                accept_new_options=True,
            )
            st.text_input(ctx.t("rescue.reason"), key=f"rescue_reason_{request_id}", max_chars=500)
            st.form_submit_button(
                ctx.t("rescue.save"),
                type="primary",
                on_click=gate.callback(_on_rescue_submit),
                args=(ctx, incident_id, request_id),
            )
        asked = _asked(f"rescue:{request_id}")
        if asked in CLOSING_STATUSES:
            gate.dialog(ctx.t("rescue.close_title"), dismissible=False)(_rescue_dialog_body)(
                ctx, incident_id, request_id, asked, row, waiting
            )
    history = rescue_history(ctx.engine, request_id)
    if not history.empty:
        st.markdown(f"**{ctx.t('rescue.history')}**")
        shown = pd.DataFrame(
            {
                ctx.t("rescue.col.at"): [format_datetime(v, ctx.lang) for v in history["at"]],
                ctx.t("rescue.col.status"): [
                    ctx.t(f"rescue_status.{s}") for s in history["to_status"]
                ],
                ctx.t("rescue.col.team"): history["assigned_team"].fillna("—"),
                ctx.t("rescue.reason"): history["reason"].fillna(""),
                ctx.t("rescue.col.actor"): history["actor"].fillna(""),
            }
        )
        st.dataframe(shown, hide_index=True, width="stretch")


def triage_formula(ctx: PageContext) -> None:
    st.caption(ctx.t("rescue.formula_label") + " " + DEFAULT_WEIGHTS.formula(ctx.lang))


# ------------------------------------------------------------------ shelter


def _on_shelter_action(
    ctx: PageContext,
    incident_id: int | None,
    shelter_id: int,
    action: str,
    name: str = "",
    capacity: float | None = None,
) -> None:
    viewer = ctx.viewer.for_incident(incident_id)
    target = f"shelter:{shelter_id}"
    reason = st.session_state.get(f"shelter_reason_{shelter_id}") or None
    count = int(st.session_state.get(f"shelter_count_{shelter_id}") or 0)
    try:
        if action == "open":
            open_shelter(ctx.engine, viewer, shelter_id, incident_id, reason)
        elif action == "close":
            close_shelter(ctx.engine, viewer, shelter_id, incident_id, reason)
        else:
            record_head_count(ctx.engine, viewer, shelter_id, incident_id, count)
    except ActionRefused as exc:
        _say("error", say(ctx.t, "panel.refused", reason=exc), target)
        return
    shown = plain(name)
    if action == "count" and capacity is not None and pd.notna(capacity) and count > capacity:
        _say(
            "warning",
            ctx.t(
                "shelter.done_count_over",
                name=shown,
                n=f"{count:,}",
                capacity=f"{int(capacity):,}",
                over=f"{count - int(capacity):,}",
                share=f"{count / float(capacity):.1%}",
            ),
            target,
        )
    else:
        _say("success", ctx.t(f"shelter.done_{action}", name=shown, n=f"{count:,}"), target)


def _on_close_clicked(
    ctx: PageContext, incident_id: int | None, shelter_id: int, name: str, head: int
) -> None:
    """Closing an empty shelter is done at once; an occupied one asks first (a dialog)."""
    if head > 0:
        _ask(f"shelter:{shelter_id}", "close")
    else:
        _on_shelter_action(ctx, incident_id, shelter_id, "close", name)


def _close_dialog_body(
    ctx: PageContext, incident_id: int | None, shelter_id: int, name: str, head: int
) -> None:
    st.text(ctx.t("shelter.close_confirm", name=name, n=f"{head:,}"))  # st.text: no markup
    st.caption(ctx.t("shelter.close_effect"))
    _confirm_buttons(
        ctx,
        f"shelter:{shelter_id}",
        ctx.t("shelter.close_yes"),
        lambda: _on_shelter_action(ctx, incident_id, shelter_id, "close", name),
    )


def _reception_count(ctx: PageContext, head: int) -> None:
    """A shelter using reception counts its check-ins: no manual count to enter (it would be
    recorded and never used), the count and where it comes from instead."""
    st.metric(ctx.t("shelter.reception_count"), f"{head:,}")
    st.caption(ctx.t("shelter.reception_count_note"))


def shelter_panel(
    ctx: PageContext, incident_id: int | None, shelter: pd.Series, expected: int | None = None
) -> None:
    shelter_id = int(shelter["id"])
    name = str(shelter["name"])
    st.subheader(plain(name))  # from an import or the city OS: text, not Markdown
    show_messages(f"shelter:{shelter_id}")
    hazards = [
        ctx.t(f"hazard.{k[7:]}") for k in shelter.index if k.startswith("hazard_") and shelter[k]
    ]
    kinds = [
        ctx.t(f"shelter.kind.{k}")
        for k in ("is_emergency_site", "is_designated_shelter", "is_welfare_shelter")
        if shelter.get(k)
    ]
    capacity = shelter.get("capacity")
    capacity = float(capacity) if capacity is not None and pd.notna(capacity) else None
    head = shelter.get("head_count")
    head_now = int(head) if head is not None and pd.notna(head) else 0
    occupancy = head_now / capacity if capacity else None
    facts = {
        ctx.t("shelter.col.address"): shelter.get("address") or "—",
        ctx.t("shelter.col.kind"): ctx.t("common.list_sep").join(kinds) or "—",
        ctx.t("shelter.col.open"): ctx.t("common.open")
        if shelter["is_open"]
        else ctx.t("common.closed"),
        ctx.t("shelter.col.head_count"): f"{head_now:,}"
        if head is not None and pd.notna(head)
        else "—",
        ctx.t("shelter.col.capacity"): (
            f"{int(capacity):,}" if capacity is not None else (shelter.get("capacity_text") or "—")
        ),
        ctx.t("shelter.col.occupancy"): f"{occupancy:.1%}" if occupancy is not None else "—",
        ctx.t("shelter.col.congestion"): ctx.t("congestion.over")
        if occupancy is not None and occupancy > 1.0
        else ctx.t(f"congestion.{shelter['congestion']}"),
        ctx.t("shelter.col.expected"): f"{expected:,}" if expected is not None else "—",
        ctx.t("shelter.col.hazards"): ctx.t("common.list_sep").join(hazards) or "—",
        ctx.t("shelter.col.elevation"): (
            f"{shelter['elevation_m']:.1f} m" if pd.notna(shelter.get("elevation_m")) else "—"
        ),
        ctx.t("shelter.col.suitability"): (
            ctx.t("shelter.suitable")
            if shelter["suitable"]
            else ctx.t("common.list_sep").join(
                _reason_text(ctx, r) for r in shelter["unsuitable_reasons"]
            )
        ),
    }
    st.dataframe(
        pd.DataFrame(
            {ctx.t("panel.item"): list(facts), ctx.t("panel.value"): list(facts.values())}
        ),
        hide_index=True,
        width="stretch",
    )
    if capacity is not None and head_now > capacity:
        st.warning(
            ctx.t(
                "shelter.over_capacity",
                n=f"{head_now:,}",
                capacity=f"{int(capacity):,}",
                over=f"{head_now - int(capacity):,}",
            ),
            icon=":material/group_add:",
        )
    if not shelter["suitable"]:
        st.warning(ctx.t("shelter.unsuitable_warning"), icon=":material/warning:")
    role = ctx.viewer.role
    if role == "hq":
        st.text_input(ctx.t("shelter.reason"), key=f"shelter_reason_{shelter_id}", max_chars=300)
        left, right = st.columns(2)
        left.button(
            ctx.t("shelter.open"),
            disabled=bool(shelter["is_open"]),
            on_click=gate.callback(_on_shelter_action),
            args=(ctx, incident_id, shelter_id, "open", name),
            key=f"shelter_open_{shelter_id}",
        )
        right.button(
            ctx.t("shelter.close"),
            disabled=not bool(shelter["is_open"]),
            on_click=gate.callback(_on_close_clicked),
            args=(ctx, incident_id, shelter_id, name, head_now),
            key=f"shelter_close_{shelter_id}",
        )
        if _asked(f"shelter:{shelter_id}") == "close" and shelter["is_open"]:
            gate.dialog(ctx.t("shelter.close_title"), dismissible=False)(_close_dialog_body)(
                ctx, incident_id, shelter_id, name, head_now
            )
    if shelter.get("head_count_source") == "reception":
        _reception_count(ctx, head_now)
    elif role == "hq" or (role == "shelter_staff" and shelter_id in ctx.viewer.shelter_ids):
        with st.form(f"shelter_count_form_{shelter_id}"):
            st.number_input(
                ctx.t("shelter.enter_count"),
                min_value=0,
                max_value=100_000,
                value=head_now,  # starts at the current count: one change, not a retype
                step=1,
                key=f"shelter_count_{shelter_id}",
            )
            st.form_submit_button(
                ctx.t("shelter.save_count"),
                on_click=gate.callback(_on_shelter_action),
                args=(ctx, incident_id, shelter_id, "count", name, capacity),
            )
    history = occupancy_history(ctx.engine, shelter_id, incident_id)
    if not history.empty:
        chart = time_charts.time_line(
            history,
            "observed_at",
            "head_count",
            lang=ctx.lang,
            labels={
                "observed_at": ctx.t("shelter.col.time"),
                "head_count": ctx.t("shelter.col.head_count"),
            },
            colour=colour("chart.head_count"),
            markers=True,
            height=260,
        )
        if capacity is not None:
            chart.add_hline(
                y=float(capacity), line_dash="dash", annotation_text=ctx.t("shelter.col.capacity")
            )
        st.plotly_chart(chart, width="stretch", key=f"occupancy_chart_{shelter_id}")


def _reason_text(ctx: PageContext, reason: str) -> str:
    kind, _, value = reason.partition(":")
    if kind == "no_flag":
        return ctx.t("shelter.reason_no_flag", hazard=ctx.t(f"hazard.{value}"))
    if kind == "in_zone":
        return ctx.t("shelter.reason_in_zone", hazard=ctx.t(f"hazard.{value}"))
    return ctx.t("shelter.reason_low")


# ------------------------------------------------------------------ ending an incident


def ask_to_end(incident_id: int) -> None:
    """The end button's callback: ending is asked in a dialog first."""
    _ask(f"incident:{incident_id}", "end")


def end_incident_dialog(ctx: PageContext, incident: Any) -> None:
    """When asked: the dialog stating what ending the incident leaves open (its numbers)."""
    if _asked(f"incident:{incident.id}") == "end":
        gate.dialog(ctx.t("incidents.end_title"), dismissible=False)(_end_body)(ctx, incident)


def _end_body(ctx: PageContext, incident: Any) -> None:
    from sql.actions.incidents import end_incident
    from sql.queries.incidents import open_work

    left_open = open_work(ctx.engine, incident.id)
    st.text(
        ctx.t(
            "incidents.end_confirm_text",
            name=incident.name(ctx.lang),
            kind=ctx.t(f"incident_kind.{incident.kind}"),
        )
    )
    if left_open["open_requests"] or left_open["open_shelters"]:
        st.warning(
            ctx.t(
                "incidents.end_left_open",
                requests=f"{left_open['open_requests']:,}",
                shelters=f"{left_open['open_shelters']:,}",
            ),
            icon=":material/warning:",
        )
    st.caption(ctx.t("incidents.end_effect"))
    st.text_input(ctx.t("incidents.end_reason"), key=f"end_reason_{incident.id}")

    def end() -> None:
        reason = st.session_state.get(f"end_reason_{incident.id}") or None
        try:
            end_incident(ctx.engine, ctx.viewer, incident.id, reason=reason)
        except ActionRefused as exc:
            _say("error", say(ctx.t, "panel.refused", reason=exc))
        else:
            _say("success", ctx.t("incidents.ended"))
            forget_incident_state()

    _confirm_buttons(ctx, f"incident:{incident.id}", ctx.t("incidents.end_confirm"), end)


def forget_incident_state() -> None:
    """After an incident or drill is declared or ended every page shows the state as it is
    now: the cached incident, overview and safety figures are dropped at once (not after their
    few seconds' life), and so is the HQ map's memory of the incident that was."""
    from . import data

    for cached in (data.current_incident, data.city_overview, data.safety_summary):
        cached.clear()
    data.hq_cache.clear()
    data.safety_cache.clear()


# ------------------------------------------------------------------ confirmations, by name


def ask(target: str, action: str = "confirm") -> None:
    """A button's callback: ``action`` in ``target`` waits for its confirmation dialog."""
    _ask(target, action)


def confirm_if_asked(
    ctx: PageContext,
    target: str,
    title: str,
    statement: str,
    effect: str,
    yes_label: str,
    do: Any,
    *,
    warning: str | None = None,
) -> None:
    """When ``target`` was asked: the dialog stating the consequence; confirm runs ``do``."""
    if _asked(target) is None:
        return

    def body() -> None:
        st.text(statement)
        if warning:
            st.warning(warning, icon=":material/warning:")
        st.caption(effect)
        _confirm_buttons(ctx, target, yes_label, do)

    gate.dialog(title, dismissible=False)(body)()


def push_result(ctx: PageContext, outcome: Any, confirmed: int) -> tuple[str, str]:
    """What a push really did, as (kind, text): confirmed / sent / accepted / failed, and a
    warning when the city OS accepted fewer than were sent or the request failed."""
    sent = outcome.sent if outcome.sent is not None else confirmed
    text = ctx.t(
        "notify.result",
        confirmed=f"{confirmed:,}",
        sent=f"{sent:,}",
        accepted=f"{outcome.recipient_count:,}",
        failed=f"{outcome.failed:,}",
    )
    if outcome.status == "failed":
        return "error", ctx.t("notify.result_failed") + " " + text
    if outcome.recipient_count < sent or outcome.failed:
        short = max(sent - outcome.recipient_count, 0)
        return "warning", ctx.t("notify.result_short", short=f"{short:,}") + " " + text
    return "success", ctx.t("notify.result_ok") + " " + text
