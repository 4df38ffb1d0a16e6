"""事案 — incidents: declare or end a real incident or a drill (which switches the emergency
mode), and read the activity log of what staff did."""

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from dashboard import gate, panels
from dashboard.activity_words import details_text, target_text
from dashboard.context import current
from dashboard.text import plain, say
from sql.actions import ActionRefused
from sql.actions.incidents import declare_incident, set_emergency_mode
from sql.queries.incidents import activity_log, list_incidents

ctx = current()
st.title(ctx.t("incidents.title"))
may_act = ctx.viewer.role in ("hq", "admin")


def _run(action, *args, done: str, **kwargs) -> None:
    try:
        action(ctx.engine, ctx.viewer, *args, **kwargs)
    except ActionRefused as exc:
        st.session_state[panels.MESSAGE_KEY] = ("error", say(ctx.t, "panel.refused", reason=exc))
    else:
        st.session_state[panels.MESSAGE_KEY] = ("success", done)
        panels.forget_incident_state()


def _declare_as_entered() -> None:
    """Declare the incident as entered in the declaration form."""
    state = st.session_state
    _run(
        declare_incident,
        state["new_kind"],
        state.get("new_name_ja") or "",
        state.get("new_name_en") or None,
        state.get("new_hazard"),
        bool(state.get("new_mode")),
        ctx.city.municipality_code,
        done=ctx.t("incidents.declared_done"),
    )


panels.show_messages()
incidents = list_incidents(ctx.engine)
active = [i for i in incidents if i.active]
if active:
    for incident in active:
        kind = ctx.t(f"incident_kind.{incident.kind}")
        box = st.container(border=True)
        box.markdown(ctx.t("incidents.name_kind", name=plain(incident.name(ctx.lang)), kind=kind))
        box.write(
            ctx.t(
                "incidents.declared",
                at=format_datetime(incident.declared_at, ctx.lang, era_style=True),
                mode=ctx.t("shell.emergency_on")
                if incident.emergency_mode
                else ctx.t("shell.normal"),
            )
        )
        if may_act:
            left, right = box.columns(2)
            left.button(
                ctx.t("incidents.mode_off")
                if incident.emergency_mode
                else ctx.t("incidents.mode_on"),
                key=f"mode_{incident.id}",
                on_click=gate.callback(_run),
                args=(set_emergency_mode, incident.id, not incident.emergency_mode),
                kwargs={"done": ctx.t("incidents.mode_changed")},
            )
            right.button(
                ctx.t("incidents.end"),
                key=f"end_{incident.id}",
                on_click=gate.callback(panels.ask_to_end),
                args=(incident.id,),
            )
            panels.end_incident_dialog(ctx, incident)
else:
    st.info(ctx.t("incidents.none_active"))

if may_act and not active:
    st.subheader(ctx.t("incidents.declare"))
    with st.form("declare_incident"):
        kind = st.radio(
            ctx.t("incidents.kind"),
            ["real", "drill"],
            format_func=lambda k: ctx.t(f"incident_kind.{k}"),
            horizontal=True,
            key="new_kind",
        )
        st.text_input(ctx.t("incidents.name_ja"), key="new_name_ja", max_chars=200)
        st.text_input(ctx.t("incidents.name_en"), key="new_name_en", max_chars=200)
        st.selectbox(
            ctx.t("incidents.hazard"),
            ["flood", "landslide", "earthquake", "storm_surge", "tsunami", "large_fire", "volcano"],
            format_func=lambda h: ctx.t(f"hazard.{h}"),
            key="new_hazard",
        )
        st.checkbox(ctx.t("incidents.emergency_mode"), value=True, key="new_mode")
        st.form_submit_button(
            ctx.t("incidents.declare_button"),
            type="primary",
            on_click=gate.callback(_declare_as_entered),
        )
    st.caption(ctx.t("incidents.drill_note"))

st.subheader(ctx.t("incidents.history"))
if incidents:
    table = pd.DataFrame(
        {
            ctx.t("incidents.col.name"): [i.name(ctx.lang) for i in incidents],
            ctx.t("incidents.kind"): [ctx.t(f"incident_kind.{i.kind}") for i in incidents],
            ctx.t("incidents.col.declared"): [
                format_datetime(i.declared_at, ctx.lang) for i in incidents
            ],
            ctx.t("incidents.col.ended"): [
                format_datetime(i.ended_at, ctx.lang) if i.ended_at else "—" for i in incidents
            ],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.selectbox(
        ctx.t("incidents.log_for"),
        incidents,
        format_func=lambda i: i.name(ctx.lang),
        key="log_incident",
    )
    log = activity_log(ctx.engine, chosen.id)
    st.dataframe(
        pd.DataFrame(
            {
                ctx.t("rescue.col.at"): [format_datetime(v, ctx.lang) for v in log["at"]],
                ctx.t("rescue.col.actor"): log["actor"].fillna(""),
                ctx.t("incidents.col.action"): [ctx.t(f"activity.{a}") for a in log["action"]],
                ctx.t("incidents.col.target"): [
                    target_text(ctx, k, i)
                    for k, i in zip(log["target_type"], log["target_id"], strict=True)
                ],
                ctx.t("incidents.col.details"): [details_text(ctx, d) for d in log["details"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )
