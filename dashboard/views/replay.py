"""Replay — step through an incident or a drill: the map and the KPIs as they were at any
moment (status reports, rescue requests, shelters and head counts, warnings)."""

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.occupancy_curve import total_curve
from analytics.replay_steps import replay_moments
from analytics.small_cells import count_label, is_small
from bosai.jpdate import format_datetime, moment_label
from bosai.palette import colour
from compositions.hq_map_state import build_hq_state
from compositions.safety_state import build_safety_state, district_points
from dashboard import (
    data,
    evacuation_state,
    map_accounted,
    map_deck,
    map_evacuation,
    map_view,
    time_charts,
    widgets,
)
from dashboard.context import current
from dashboard.text import plain
from sql import policy
from sql.queries.incidents import incident_timeline, list_incidents
from sql.queries.report_figures import occupancy_observations, open_periods

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
at = (
    st.select_slider(
        ctx.t("replay.moment"),
        options=moments,
        value=moments[-1],
        format_func=lambda m: moment_label(m, ctx.lang),
        key=f"replay_moment_{incident.id}",
    )
    if len(moments) > 1
    else moments[0]
)
st.markdown(f"### {format_datetime(at, ctx.lang)}")
st.caption(
    ctx.t(
        "replay.range",
        start=format_datetime(timeline["start"], ctx.lang),
        end=format_datetime(timeline["end"], ctx.lang),
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
exact = policy.sees_exact_counts(ctx.viewer)
safety = build_safety_state(
    ctx.engine,
    data.safety_cache(ctx.database_url),
    incident.id,
    ctx.city,
    as_of=at if isinstance(at, dt.datetime) else None,
)
st.caption(
    ctx.t(
        "safety.replay.accounted",
        **{
            k: f"{int(v):,}" if exact else count_label(int(v), ctx.lang)
            for k, v in safety.counts.items()
        },
    )
)
# Each shelter's latest count carried forward, summed over the shelters open at each moment.
curve = total_curve(
    occupancy_observations(ctx.engine, incident.id), open_periods(ctx.engine, incident.id)
)
if not exact:  # a moment with 1–4 people in all shelters is not drawn (small cells)
    curve = curve[~curve["head_count"].map(is_small)]
if not curve.empty:
    heads_now = int(state.shelters.loc[state.shelters["is_open"], "head_count"].fillna(0).sum())
    st.metric(
        ctx.t("replay.head_count"), f"{heads_now:,}" if exact else count_label(heads_now, ctx.lang)
    )
    figure = time_charts.time_line(
        curve,
        "at",
        "head_count",
        lang=ctx.lang,
        labels={"at": ctx.t("shelter.col.time"), "head_count": ctx.t("replay.head_count")},
        colour=colour("chart.head_count"),
        height=220,
    )
    time_charts.mark_moment(figure, at, colour("chart.moment"))
    st.plotly_chart(figure, width="stretch", key="replay_curve")
if len(state.warnings):
    st.warning(
        ctx.t(
            "replay.warnings",
            warnings=plain("、".join(state.warnings["kind_name"].tolist())),
        ),
        icon=":material/thunderstorm:",
    )
centre = (ctx.city.center_lat, ctx.city.center_lon)
zoom = ctx.city.default_zoom
elsewhere = bool(
    incident.municipality_code and incident.municipality_code != ctx.city.municipality_code
)
if elsewhere:
    centre = timeline["centre"] or centre
    zoom = 11.0
# The city's own base map (no tiles needed); not for an incident in another city.
drawn = map_view.choose_base(ctx, "none" if elsewhere else "local")
with map_view.frame("replay"):
    evac_areas, evac_levels = evacuation_state.areas_in_force(
        ctx.engine, incident.id, ctx.city, at if isinstance(at, dt.datetime) else None
    )
    extra = {
        map_evacuation.LEGEND_KEY: map_evacuation.evacuation_layers(
            evac_areas, evac_levels, ctx.t, ctx.lang
        ),
        map_accounted.LEGEND_KEY: map_accounted.accounted_layers(
            district_points(safety), ctx.t, exact
        ),
    }
    shown = map_view.legend(
        ctx, "replay", drawn, state.shows_register, state.shows_positions, tuple(extra)
    )
    deck = map_deck.build_deck(
        state,
        ctx.t,
        center=centre,
        zoom=zoom,
        exact_counts=exact,
        layers=shown,
        local_base=drawn.local,
        extra=extra,
    )
    st.pydeck_chart(deck, key="replay_deck", height=560)
st.caption(map_view.attribution(ctx, drawn, state.zone_sources, shown))
open_shelters = state.shelters[state.shelters["is_open"]]
st.subheader(ctx.t("replay.shelters", n=len(open_shelters)))
open_shelters = open_shelters.sort_values("head_count", ascending=False)
if not exact:
    open_shelters = open_shelters.assign(
        head_count=[
            count_label(h, ctx.lang) if pd.notna(h) else "" for h in open_shelters["head_count"]
        ]
    )
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
    ),
    hide_index=True,
    width="stretch",
)
