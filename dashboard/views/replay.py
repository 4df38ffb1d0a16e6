"""Replay — step through an incident or a drill: the map and the KPIs as they were at any
moment (status reports, rescue requests, shelters and head counts, warnings)."""

import datetime as dt

import plotly.express as px
import streamlit as st

from analytics.replay_steps import replay_moments
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from dashboard import data, map_accounted, map_deck, widgets
from dashboard.context import current
from dashboard.hq_map_state import build_hq_state
from dashboard.safety_state import build_safety_state, district_points
from sql.queries.incidents import incident_timeline, list_incidents
from sql.queries.shelter_board import occupancy_totals

ctx = current()
st.title(ctx.t("replay.title"))
incidents = list_incidents(ctx.engine)
if not incidents:
    st.info(ctx.t("replay.none"))
    st.stop()
incident = st.selectbox(
    ctx.t("replay.incident"),
    incidents,
    format_func=lambda i: f"{i.name(ctx.lang)}（{ctx.t(f'incident_kind.{i.kind}')}）",
    key="replay_incident",
)
timeline = incident_timeline(ctx.engine, incident.id)
moments = replay_moments(timeline["start"], timeline["end"], timeline["observations"])
step = st.slider(
    ctx.t("replay.moment"),
    min_value=0,
    max_value=max(len(moments) - 1, 1),
    value=len(moments) - 1,
    key=f"replay_at_{incident.id}",
    disabled=len(moments) < 2,
)
at = moments[min(step, len(moments) - 1)]
st.markdown(f"### {format_datetime(at, ctx.lang, era_style=True)}")
st.caption(
    ctx.t(
        "replay.range",
        start=format_datetime(timeline["start"], ctx.lang, era_style=True),
        end=format_datetime(timeline["end"], ctx.lang, era_style=True),
        n=len(moments),
    )
)
state = build_hq_state(
    ctx.engine,
    data.hq_cache(ctx.database_url),
    ctx.viewer,
    incident.id,
    ctx.city,
    as_of=at,
    now=at if isinstance(at, dt.datetime) else None,
)
widgets.kpi_header(ctx, state.kpis)
safety = build_safety_state(
    ctx.engine,
    data.safety_cache(ctx.database_url),
    incident.id,
    ctx.city,
    as_of=at if isinstance(at, dt.datetime) else None,
)
st.caption(ctx.t("safety.replay.accounted", **safety.counts))
totals = occupancy_totals(ctx.engine, incident.id)
if not totals.empty:
    heads_now = int(state.shelters.loc[state.shelters["is_open"], "head_count"].fillna(0).sum())
    st.metric(ctx.t("replay.head_count"), f"{heads_now:,}")
    curve = px.line(
        totals,
        x="observed_at",
        y="head_count",
        labels={"observed_at": ctx.t("shelter.col.time"), "head_count": ctx.t("replay.head_count")},
        color_discrete_sequence=[OKABE_ITO["blue"]],
    )
    curve.add_vline(x=at, line_dash="dash", line_color=OKABE_ITO["vermillion"])
    curve.update_layout(height=220, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    st.plotly_chart(curve, width="stretch", key="replay_curve")
if len(state.warnings):
    st.warning(
        ctx.t(
            "replay.warnings",
            warnings="、".join(state.warnings["kind_name"].tolist()),
        ),
        icon=":material/thunderstorm:",
    )
centre = (ctx.city.center_lat, ctx.city.center_lon)
zoom = ctx.city.default_zoom
if incident.municipality_code and incident.municipality_code != ctx.city.municipality_code:
    centre = timeline["centre"] or centre
    zoom = 11.0
deck = map_deck.build_deck(
    state,
    ctx.t,
    center=centre,
    zoom=zoom,
    exact_counts=ctx.viewer.role in map_deck.OPERATIONAL_ROLES,
)
deck.layers.extend(
    map_accounted.accounted_layers(
        district_points(safety), ctx.t, ctx.viewer.role in map_deck.OPERATIONAL_ROLES
    )
)
st.pydeck_chart(deck, key="replay_deck", height=560)
st.caption(ctx.t("hqmap.legend"))
open_shelters = state.shelters[state.shelters["is_open"]]
st.subheader(ctx.t("replay.shelters", n=len(open_shelters)))
st.dataframe(
    open_shelters[["name", "head_count", "capacity", "congestion"]]
    .rename(
        columns={
            "name": ctx.t("shelter.col.name"),
            "head_count": ctx.t("shelter.col.head_count"),
            "capacity": ctx.t("shelter.col.capacity"),
            "congestion": ctx.t("shelter.col.congestion"),
        }
    )
    .assign(
        **{
            ctx.t("shelter.col.congestion"): [
                ctx.t(f"congestion.{c}") for c in open_shelters["congestion"]
            ]
        }
    )
    .sort_values(ctx.t("shelter.col.head_count"), ascending=False),
    hide_index=True,
    width="stretch",
)
