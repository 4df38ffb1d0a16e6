"""The detail panels opened from the map or a table: a rescue request, a shelter.

Each panel shows what the policy lets the viewer see and offers the actions of the viewer's
role. Actions run in button callbacks with the version the staff member *saw* when the panel
was drawn, so a change made meanwhile by someone else is reported as a conflict instead of
being overwritten.
"""

from __future__ import annotations

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
from sql.queries.rescue import rescue_history, rescue_teams
from sql.queries.shelter_board import occupancy_history

from . import gate, time_charts
from .context import PageContext
from .text import plain, say

MESSAGE_KEY = "_bosai_panel_message"


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE_KEY] = (kind, text)


def show_messages() -> None:
    """Show (once) the outcome of the last action."""
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "warning": st.warning}[kind](text)


# ------------------------------------------------------------------ rescue request


def _on_rescue_submit(ctx: PageContext, incident_id: int | None, request_id: int) -> None:
    state = st.session_state
    seen = state.get(f"rescue_seen_{request_id}")
    to_status = state.get(f"rescue_to_{request_id}")
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
        )
    except ActionRefused as exc:
        _say("error", say(ctx.t, "panel.refused", reason=exc))
    else:
        _say(
            "success",
            ctx.t("rescue.saved", id=request_id, status=ctx.t(f"rescue_status.{to_status}")),
        )
        state.pop(f"rescue_reason_{request_id}", None)
        state.pop(f"rescue_seen_{request_id}", None)


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
    facts = {
        ctx.t("rescue.col.status"): ctx.t(f"rescue_status.{row['status']}"),
        ctx.t("rescue.col.priority"): ctx.t(f"priority.{row['priority']}"),
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
    show_messages()  # the outcome of the last save, right where it was made
    if ctx.viewer.role in ("hq", "rescue"):
        choices = [row["status"], *allowed_transitions(row["status"])]
        teams = rescue_teams(ctx.engine)
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
    ctx: PageContext, incident_id: int | None, shelter_id: int, action: str
) -> None:
    viewer = ctx.viewer.for_incident(incident_id)
    reason = st.session_state.get(f"shelter_reason_{shelter_id}") or None
    try:
        if action == "open":
            open_shelter(ctx.engine, viewer, shelter_id, incident_id, reason)
        elif action == "close":
            close_shelter(ctx.engine, viewer, shelter_id, incident_id, reason)
        else:
            count = int(st.session_state.get(f"shelter_count_{shelter_id}") or 0)
            record_head_count(ctx.engine, viewer, shelter_id, incident_id, count)
    except ActionRefused as exc:
        _say("error", say(ctx.t, "panel.refused", reason=exc))
    else:
        _say("success", ctx.t(f"shelter.done_{action}"))


def shelter_panel(
    ctx: PageContext, incident_id: int | None, shelter: pd.Series, expected: int | None = None
) -> None:
    shelter_id = int(shelter["id"])
    st.subheader(plain(shelter["name"]))  # from an import or the city OS: text, not Markdown
    show_messages()
    hazards = [
        ctx.t(f"hazard.{k[7:]}") for k in shelter.index if k.startswith("hazard_") and shelter[k]
    ]
    kinds = [
        ctx.t(f"shelter.kind.{k}")
        for k in ("is_emergency_site", "is_designated_shelter", "is_welfare_shelter")
        if shelter.get(k)
    ]
    capacity = shelter.get("capacity")
    head = shelter.get("head_count")
    facts = {
        ctx.t("shelter.col.address"): shelter.get("address") or "—",
        ctx.t("shelter.col.kind"): "、".join(kinds) or "—",
        ctx.t("shelter.col.open"): ctx.t("common.open")
        if shelter["is_open"]
        else ctx.t("common.closed"),
        ctx.t("shelter.col.head_count"): f"{int(head):,}" if pd.notna(head) else "—",
        ctx.t("shelter.col.capacity"): (
            f"{int(capacity):,}" if pd.notna(capacity) else (shelter.get("capacity_text") or "—")
        ),
        ctx.t("shelter.col.congestion"): ctx.t(f"congestion.{shelter['congestion']}"),
        ctx.t("shelter.col.expected"): f"{expected:,}" if expected is not None else "—",
        ctx.t("shelter.col.hazards"): "、".join(hazards) or "—",
        ctx.t("shelter.col.elevation"): (
            f"{shelter['elevation_m']:.1f} m" if pd.notna(shelter.get("elevation_m")) else "—"
        ),
        ctx.t("shelter.col.suitability"): (
            ctx.t("shelter.suitable")
            if shelter["suitable"]
            else "、".join(_reason_text(ctx, r) for r in shelter["unsuitable_reasons"])
        ),
    }
    st.dataframe(
        pd.DataFrame(
            {ctx.t("panel.item"): list(facts), ctx.t("panel.value"): list(facts.values())}
        ),
        hide_index=True,
        width="stretch",
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
            args=(ctx, incident_id, shelter_id, "open"),
            key=f"shelter_open_{shelter_id}",
        )
        right.button(
            ctx.t("shelter.close"),
            disabled=not bool(shelter["is_open"]),
            on_click=gate.callback(_on_shelter_action),
            args=(ctx, incident_id, shelter_id, "close"),
            key=f"shelter_close_{shelter_id}",
        )
    if role == "hq" or (role == "shelter_staff" and shelter_id in ctx.viewer.shelter_ids):
        with st.form(f"shelter_count_form_{shelter_id}"):
            st.number_input(
                ctx.t("shelter.enter_count"),
                min_value=0,
                max_value=100_000,
                step=1,
                key=f"shelter_count_{shelter_id}",
            )
            st.form_submit_button(
                ctx.t("shelter.save_count"),
                on_click=gate.callback(_on_shelter_action),
                args=(ctx, incident_id, shelter_id, "count"),
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
        if pd.notna(capacity):
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
