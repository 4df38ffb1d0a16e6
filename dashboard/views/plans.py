"""個別避難計画 — individual evacuation plans of register people: coverage, the plans, and in an
incident the tracking (supporter's confirmation, arrival at the planned destination, overdue
plans escalated on the unaccounted-for list). Administrators edit plans and import them from
CSV, and delete them (confirmed in a dialog; the deletion is audited and, in an incident, in its
activity log); headquarters record a supporter's confirmation.

Plans with names for ``admin`` (administration of plans) and for ``hq``/``rescue`` within the
register's scope for the mode (``sql.policy.evacuation_plans``)."""

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from compositions.safety_state import DEFAULT_ESCALATE_MINUTES, build_safety_state
from dashboard import data, plan_panels, widgets
from dashboard.context import current
from sql import policy

ctx = current()
st.title(ctx.t("safety.plans.title"))
st.caption(ctx.t("safety.plans.intro"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
active = bool(incident and incident.active)
minutes = ctx.city.setting("plan_escalate_minutes", DEFAULT_ESCALATE_MINUTES)
st.caption(ctx.t("safety.plans.escalate_after", minutes=minutes))

try:
    state = build_safety_state(
        ctx.engine, data.safety_cache(ctx.database_url), incident_id, ctx.city
    )
    plans = policy.evacuation_plans(ctx.engine, ctx.viewer, incident_id)
except SQLAlchemyError as exc:
    widgets.unreachable_banner(ctx, "database", exc)
    st.stop()
top = st.columns(4)
coverage = state.coverage
widgets.key_figure(
    top[0],
    ctx.t("safety.plans.coverage"),
    ctx.t("safety.plans.coverage_value", **coverage),
    ctx.t("safety.plans.coverage_share", rate=f"{coverage['share']:.1%}"),
)
if active:
    counts = state.plans["status"].value_counts()
    for slot, status in zip(top[1:], ("escalated", "confirmed", "arrived"), strict=True):
        slot.metric(ctx.t(f"safety.plans.status.{status}"), f"{int(counts.get(status, 0)):,}")
plan_panels.show_messages()

tabs = [ctx.t("safety.plans.tracking")] if active else []
tabs.append(ctx.t("safety.plans.title"))
if ctx.viewer.role == "admin":
    tabs += [ctx.t("safety.plans.edit"), ctx.t("safety.plans.import")]
shown = widgets.rerun_tabs("plan_tabs", tabs)
position = 0
if active:
    with shown[position]:
        tracking = ["citizen_id", "status", "confirmed_at", "confirmation", "arrived_at"]
        tracked = state.plans[[*tracking, "arrived_elsewhere"]].merge(plans, on="citizen_id")
        widgets.text_table(plan_panels.tracking_table(ctx, tracked), width="stretch", height=420)
        if ctx.viewer.role == "hq" and len(tracked):
            plan_panels.supporter_form(ctx, incident_id, tracked)
    position += 1
with shown[position]:
    if plans.empty:
        st.info(ctx.t("safety.plans.none"))
    else:
        widgets.text_table(plan_panels.plans_table(ctx, plans), width="stretch", height=480)
if ctx.viewer.role == "admin":
    with shown[position + 1]:
        plan_panels.edit_form(ctx, plans, incident_id if active else None)
    with shown[position + 2]:
        plan_panels.import_form(ctx)
else:
    st.caption(ctx.t("safety.plans.admin_only"))
