"""避難情報 — the decision board: what the city's rules propose (with the reason and the time
since the trigger), what is in force, and HQ's decision — areas and a level, confirmed in a
dialog that states the people, households, register people and shelters covered — or a lift.
Nothing is issued automatically. Aggregates only (``sql.policy.evacuation_coverage``)."""

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import data, evacuation_panels, widgets
from dashboard.context import current
from dashboard.evacuation_state import build_board

ctx = current()
st.title(ctx.t("evacuation.page.title"))
st.caption(ctx.t("evacuation.page.intro"))
incident = data.current_incident(ctx.database_url)
active = bool(incident and incident.active)
incident_id = incident.id if active else None
if not active:
    st.info(ctx.t("evacuation.refused.no_incident"))
elif incident.kind == "drill":
    st.warning(ctx.t("evacuation.page.exercise_note"))

try:
    board = build_board(ctx.engine, ctx.viewer, incident_id, ctx.city)
except SQLAlchemyError as exc:
    widgets.unreachable_banner(ctx, "database", exc)
    st.stop()
for problem in board.rules_problems:
    st.warning(ctx.t("evacuation.page.rules_problem", problem=problem))
evacuation_panels.show_messages()

if board.areas.empty:
    st.info(ctx.t("evacuation.page.no_areas"))
    st.stop()

st.subheader(ctx.t("evacuation.page.proposals"))
if board.proposals:
    widgets.text_table(evacuation_panels.proposals_table(ctx, board), width="stretch")
    if active:
        evacuation_panels.accept_buttons(ctx, board)
else:
    st.caption(ctx.t("evacuation.page.no_proposals"))

st.subheader(ctx.t("evacuation.page.in_force"))
if board.in_force:
    widgets.text_table(evacuation_panels.in_force_table(ctx, board), width="stretch")
else:
    st.caption(ctx.t("evacuation.page.nothing_in_force"))

if active:
    st.subheader(ctx.t("evacuation.page.issue_tab"))
    evacuation_panels.issue_form(ctx, incident_id, board)
    st.subheader(ctx.t("evacuation.page.lift_tab"))
    evacuation_panels.lift_form(ctx, incident_id, board)

st.subheader(ctx.t("evacuation.page.areas_title"))
widgets.text_table(evacuation_panels.coverage_table(ctx, board), width="stretch")

if active:
    st.subheader(ctx.t("evacuation.page.history"))
    history = evacuation_panels.history_table(ctx, incident_id)
    if history.empty:
        st.caption(ctx.t("evacuation.page.no_history"))
    else:
        widgets.text_table(history, width="stretch")
        evacuation_panels.cap_download(ctx, incident_id)
