"""通知 — push notifications: choose who (everyone, a hazard zone, a circle, a shelter's
catchment, the register, households), preview how many it reaches with consent respected,
confirm, send through the city OS; the history with its delivery and open funnel."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from analytics.notification_targets import in_circle
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from compositions.hq_map_state import build_hq_state
from dashboard import data, gate, panels, widgets
from dashboard.context import current
from dashboard.notify_words import CONFIRM_ABOVE, target_name
from dashboard.text import say
from sql import policy
from sql.queries.households import members_of
from sql.queries.notifications import notification_history

ctx = current()
st.title(ctx.t("notify.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
panels.show_messages()
cache = data.hq_cache(ctx.database_url)
grid = cache.grid(ctx.engine)

if ctx.viewer.role in policy.NOTIFY_ROLES:
    st.subheader(ctx.t("notify.compose"))
    kind = st.radio(
        ctx.t("notify.target"),
        ["everyone", "hazard_zone", "circle", "shelter_catchment", "register", "households"],
        format_func=lambda k: ctx.t(f"notify.kind.{k}"),
        horizontal=True,
        key="notify_kind",
    )
    candidates: np.ndarray | None = None
    basis = "home_location"
    spec: dict = {"kind": kind}
    target_label: str | None = None  # the target as chosen, kept in the history
    if kind == "everyone":
        basis = "everyone"
    elif kind == "register":
        basis = "register"
    elif kind == "hazard_zone":
        zones = cache.zones(ctx.engine)
        frame = zones.frame
        labels = {
            int(z.id): ctx.t(
                "common.label_value",
                label=ctx.t(f"hazard.{z.kind}"),
                value=z.rank_label or z.name or z.id,
            )
            for z in frame.itertuples(index=False)
        }
        chosen = widgets.choose_several(
            st, ctx, ctx.t("notify.zones"), list(labels), "notify_zones", format_func=labels.get
        )
        spec["zone_ids"] = chosen
        target_label = ctx.t("common.list_sep").join(labels[z] for z in chosen) or None
        candidates = (
            grid.ids[zones.index.within_any(grid.lat, grid.lon, chosen)] if chosen else grid.ids[:0]
        )
    elif kind == "circle":
        state = build_hq_state(ctx.engine, cache, ctx.viewer, incident_id, ctx.city)
        centres = {"city": (ctx.city.center_lat, ctx.city.center_lon)}
        names = {"city": ctx.t("notify.city_centre")}
        for row in state.shelters[state.shelters["is_open"]].itertuples(index=False):
            centres[f"s{row.id}"] = (row.lat, row.lon)
            names[f"s{row.id}"] = row.name
        centre_key = st.selectbox(
            ctx.t("notify.centre"), list(centres), format_func=names.get, key="notify_centre"
        )
        lat0, lon0 = centres[centre_key]
        cols = st.columns(3)
        lat0 = cols[0].number_input(
            ctx.t("notify.lat"), value=float(lat0), format="%.5f", key=f"notify_lat_{centre_key}"
        )
        lon0 = cols[1].number_input(
            ctx.t("notify.lon"), value=float(lon0), format="%.5f", key=f"notify_lon_{centre_key}"
        )
        radius = cols[2].slider(
            ctx.t("notify.radius"), 100, 5_000, 1_000, step=100, key="notify_radius"
        )
        spec.update(lat=lat0, lon=lon0, radius_m=radius)
        target_label = ctx.t("notify.circle_label", centre=names[centre_key], radius=f"{radius:,}")
        candidates = grid.ids[in_circle(grid.lat, grid.lon, lat0, lon0, radius)]
    elif kind == "shelter_catchment":
        state = build_hq_state(ctx.engine, cache, ctx.viewer, incident_id, ctx.city)
        open_shelters = state.shelters[state.shelters["is_open"]]
        names = dict(zip(open_shelters["id"].astype(int), open_shelters["name"], strict=True))
        shelter_id = st.selectbox(
            ctx.t("notify.shelter"), list(names), format_func=names.get, key="notify_shelter"
        )
        codes = tuple(state.warnings["kind_code"].tolist()) if len(state.warnings) else ()
        nearest = cache.nearest_shelters(ctx.engine, state.shelters, codes)
        spec["shelter_id"] = shelter_id
        target_label = names.get(shelter_id)
        candidates = grid.ids[(nearest["shelter_id"] == shelter_id).fillna(False).to_numpy(bool)]
    elif kind == "households":
        text = st.text_area(ctx.t("notify.households"), key="notify_households", height=100)
        wanted = [
            w.strip() for w in text.replace("、", ",").replace("\n", ",").split(",") if w.strip()
        ]
        spec["households"] = wanted
        target_label = ctx.t("common.list_sep").join(wanted[:5]) + ("…" if len(wanted) > 5 else "")
        candidates = members_of(ctx.engine, wanted)
    try:
        recipients = policy.notification_recipients(
            ctx.engine, ctx.viewer, incident_id, None if candidates is None else candidates, basis
        )
    except policy.PolicyDenied:
        recipients = pd.DataFrame(columns=["citizen_id", "subject"])
    selected = len(grid.ids) if candidates is None else len(candidates)
    widgets.key_figure(
        st,
        ctx.t("notify.recipients"),
        f"{len(recipients):,}",
        ctx.t("notify.excluded", n=f"{max(selected - len(recipients), 0):,}")
        if basis != "everyone"
        else None,
    )
    st.caption(ctx.t(f"notify.basis.{basis}"))
    title = st.text_input(ctx.t("notify.title_field"), max_chars=60, key="notify_title")
    body = st.text_area(ctx.t("notify.body"), max_chars=500, key="notify_body")
    if st.session_state.pop("_notify_done", False):
        st.session_state["notify_confirm"] = False
    confirmed = st.checkbox(ctx.t("notify.confirm", n=f"{len(recipients):,}"), key="notify_confirm")

    chosen_target = {"kind": kind, "label": target_label}

    def send() -> None:
        from cityos import payloads
        from cityos.client import CityOSClient
        from cityos.config import load_config
        from cityos.errors import CityOSError, ConnectorConfigError
        from cityos.push import send_push

        subjects = recipients["subject"].astype(str).tolist()
        target = (
            payloads.PushTarget(kind="everyone")
            if basis == "everyone"
            else payloads.PushTarget(kind="citizens", subjects=subjects)
        )
        try:
            client = CityOSClient(load_config())
        except ConnectorConfigError:
            st.session_state[panels.MESSAGE_KEY] = ("error", ctx.t("notify.not_configured"))
            return
        try:
            outcome = send_push(
                ctx.engine,
                client,
                target,
                st.session_state["notify_title"].strip(),
                st.session_state["notify_body"].strip(),
                requested_by=ctx.viewer.subject,
                incident_id=incident_id,
                chosen=chosen_target,
            )
        except (CityOSError, ConnectorConfigError) as exc:
            st.session_state[panels.MESSAGE_KEY] = ("error", say(ctx.t, "notify.failed", error=exc))
        else:
            st.session_state[panels.MESSAGE_KEY] = panels.push_result(ctx, outcome, len(recipients))
        st.session_state["_notify_done"] = True  # untick the confirmation on the next run

    many = len(recipients) > CONFIRM_ABOVE
    st.button(
        ctx.t("notify.send"),
        type="primary",
        disabled=not (confirmed and title.strip() and body.strip() and len(recipients)),
        on_click=gate.callback(panels.ask if many else send),
        args=("notify",) if many else (),
        key="notify_send",
    )
    panels.confirm_if_asked(
        ctx,
        "notify",
        ctx.t("notify.dialog_title"),
        ctx.t(
            "notify.dialog_text",
            n=f"{len(recipients):,}",
            target=target_label or ctx.t(f"notify.kind.{kind}"),
            title=title.strip(),
        ),
        ctx.t("notify.dialog_effect"),
        ctx.t("notify.dialog_yes", n=f"{len(recipients):,}"),
        send,
    )
else:
    st.info(ctx.t("notify.aggregate_only"))

st.subheader(ctx.t("notify.history"))
history = notification_history(ctx.engine, incident_id)
if history.empty:
    st.write(ctx.t("notify.no_history"))
else:
    table = pd.DataFrame(
        {
            ctx.t("rescue.col.at"): [format_datetime(v, ctx.lang) for v in history["created_at"]],
            ctx.t("notify.title_field"): history["title"],
            ctx.t("notify.target"): [
                target_name(ctx, k, spec)
                for k, spec in zip(history["target_kind"], history["target_spec"], strict=True)
            ],
            ctx.t("notify.status"): [ctx.t(f"notify.state.{s}") for s in history["status"]],
            ctx.t("notify.recipients"): history["recipient_count"].astype(int),
            ctx.t("notify.delivered"): history["delivered"].astype(int),
            ctx.t("notify.opened"): history["opened"].astype(int),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.selectbox(
        ctx.t("notify.funnel_for"),
        history["id"].tolist(),
        format_func=lambda i: str(history.loc[history["id"] == i, "title"].iloc[0]),
        key="notify_funnel",
    )
    row = history[history["id"] == chosen].iloc[0]
    funnel = pd.DataFrame(
        {
            "stage": [ctx.t("notify.requested"), ctx.t("notify.delivered"), ctx.t("notify.opened")],
            "n": [int(row["recipient_count"]), int(row["delivered"]), int(row["opened"])],
        }
    )
    chart = px.funnel(funnel, x="n", y="stage", color_discrete_sequence=[OKABE_ITO["blue"]])
    chart.update_layout(height=260, margin={"l": 0, "r": 0, "t": 10, "b": 0}, yaxis_title=None)
    st.plotly_chart(chart, width="stretch")
