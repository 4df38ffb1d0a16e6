"""警報・ハザード — warnings and hazards: the JMA warnings in force and their history as a
timeline, and how many people live in each hazard-zone rank, by their latest status.

Not personal: warnings are public; people are counted from home points and latest statuses on
the server (``analytics.zone_exposure``), small cells suppressed for the roles that see no
individuals (``sql.policy.sees_exact_counts``). The point-in-polygon step is kept per database
while homes and zones are unchanged.
"""

import dataclasses

import pandas as pd
import plotly.express as px
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analytics.small_cells import suppress
from analytics.warning_periods import timeline_frame, warning_periods
from analytics.zone_exposure import STATUS_COLUMNS, ZoneMembership
from bosai.jpdate import format_datetime, jst
from bosai.palette import OKABE_ITO, STATUS_COLOURS
from dashboard import data, gate, widgets
from dashboard.context import current
from dashboard.text import chart_text, plain
from sql import policy
from sql.queries import hazards, status_snapshot

ctx = current()
st.title(ctx.t("warnings.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
exact = policy.sees_exact_counts(ctx.viewer)
area_codes = tuple(code for _, code in ctx.city.jma_area_codes)
LEVEL_COLOURS = {
    "advisory": OKABE_ITO["yellow"],
    "warning": OKABE_ITO["vermillion"],
    "emergency": OKABE_ITO["reddish_purple"],
}


@st.cache_resource(max_entries=4, show_spinner=False)
def zone_membership(database_url: str, homes_key: tuple, zones_key: tuple) -> ZoneMembership:
    """Which zone rank each home lies in — rebuilt only when homes or zones change."""
    engine = data.engine_for(database_url, "aggregate")
    points = status_snapshot.home_points(engine)
    return ZoneMembership(points.ids, points.lat, points.lon, hazards.hazard_zones(engine))


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def zone_counts(
    database_url: str, incident_id: int | None, homes_key: tuple, zones_key: tuple, feed_key: tuple
) -> pd.DataFrame:
    """People per zone rank and status (an aggregate), recomputed when reports arrive."""
    membership = zone_membership(database_url, homes_key, zones_key)
    states = status_snapshot.latest_states(data.engine_for(database_url, "aggregate"), incident_id)
    return membership.counts(states.citizen_ids, states.states)


def in_force_section(history: pd.DataFrame, in_force: pd.DataFrame) -> None:
    st.subheader(ctx.t("warnings.in_force"))
    if history.empty:
        st.info(ctx.t("warnings.no_history"))
        return
    newest = history.iloc[0]
    st.caption(
        ctx.t(
            "warnings.latest_telegram",
            time=format_datetime(newest["report_time"], ctx.lang),
            headline=plain(newest["headline"]),  # a telegram's text: never Markdown
        )
    )
    if in_force.empty:
        st.success(ctx.t("warnings.none_in_force"), icon=":material/check_circle:")
        return
    periods = warning_periods(history, hazards.ENDED_STATUSES)
    since = {(p.area_code, p.kind_code): p.start for p in periods.itertuples() if pd.isna(p.end)}
    widgets.text_table(
        pd.DataFrame(
            {
                ctx.t("warnings.col.kind"): in_force["kind_name"],
                ctx.t("warnings.col.status"): in_force["status"],
                ctx.t("warnings.col.area"): in_force["area_name"].fillna(in_force["area_code"]),
                ctx.t("warnings.col.start"): [
                    format_datetime(since.get((a, k)), ctx.lang)
                    for a, k in zip(in_force["area_code"], in_force["kind_code"], strict=True)
                ],
                ctx.t("warnings.col.time"): [
                    format_datetime(t, ctx.lang) for t in in_force["report_time"]
                ],
            }
        ),
        key="warnings_in_force",
    )


def history_section(history: pd.DataFrame, until) -> None:
    st.subheader(ctx.t("warnings.history"))
    if history.empty:
        return
    periods = timeline_frame(warning_periods(history, hazards.ENDED_STATUSES), until)
    chart = periods.assign(
        kind_name=[chart_text(k) for k in periods["kind_name"]],
        last_status=[chart_text(s) for s in periods["last_status"]],
        start=[jst(t) for t in periods["start"]],
        end_shown=[jst(t) for t in periods["end_shown"]],
        level_label=[ctx.t(f"warnings.level.{lv}") for lv in periods["level"]],
        state=[
            ctx.t("warnings.in_force_now") if f else ctx.t("warnings.ended")
            for f in periods["in_force"]
        ],
    )
    figure = px.timeline(
        chart,
        x_start="start",
        x_end="end_shown",
        y="kind_name",
        color="level_label",
        color_discrete_map={ctx.t(f"warnings.level.{k}"): c for k, c in LEVEL_COLOURS.items()},
        hover_data={"state": True, "last_status": True, "telegrams": True},
        labels={
            "kind_name": ctx.t("warnings.col.kind"),
            "level_label": ctx.t("warnings.col.level"),
            "state": ctx.t("warnings.col.status"),
            "last_status": ctx.t("warnings.col.status"),
            "telegrams": ctx.t("warnings.col.telegrams"),
        },
        title=ctx.t("warnings.timeline"),
    )
    figure.update_traces(marker_line_color=OKABE_ITO["black"], marker_line_width=1)
    figure.update_layout(height=120 + 40 * chart["kind_name"].nunique(), margin={"t": 40})
    st.plotly_chart(figure, width="stretch", key="warnings_timeline")
    widgets.text_table(
        pd.DataFrame(
            {
                ctx.t("warnings.col.time"): [
                    format_datetime(t, ctx.lang) for t in history["report_time"]
                ],
                ctx.t("warnings.col.kind"): history["kind_name"],
                ctx.t("warnings.col.status"): history["status"],
                ctx.t("warnings.col.area"): history["area_name"].fillna(history["area_code"]),
                ctx.t("warnings.col.headline"): history["headline"].fillna(""),
            }
        ),
        key="warnings_history",
    )


def zones_section(ranks: pd.DataFrame, table: pd.DataFrame) -> None:
    st.subheader(ctx.t("warnings.people_in_zones"))
    st.caption(ctx.t("warnings.zones_rule"))
    if ranks.empty:
        st.info(ctx.t("warnings.no_zones"))
        return
    counts = [*STATUS_COLUMNS, "total"]
    shown = table if exact else suppress(table, counts=counts, lang=ctx.lang)
    labels = {c: ctx.t(f"status.{c}") for c in STATUS_COLUMNS} | {
        "total": ctx.t("warnings.col_zone.total")
    }
    widgets.text_table(
        pd.DataFrame(
            {
                ctx.t("warnings.col_zone.kind"): [ctx.t(f"hazard.{k}") for k in table["kind"]],
                ctx.t("warnings.col_zone.rank"): table["rank_label"].fillna(table["rank_code"]),
                ctx.t("warnings.col_zone.depth"): table["depth_range"],
                **{labels[c]: shown[c] for c in counts},
            }
        ),
        key="warnings_zone_counts",
    )
    if exact:
        long = table.melt(
            id_vars=["kind", "rank_label", "rank_code"],
            value_vars=list(STATUS_COLUMNS),
            var_name="status",
            value_name="people",
        )
        long["zone"] = [
            f"{ctx.t(f'hazard.{k}')} {r if isinstance(r, str) else c}"
            for k, r, c in zip(long["kind"], long["rank_label"], long["rank_code"], strict=True)
        ]
        long["status_label"] = [ctx.t(f"status.{s}") for s in long["status"]]
        figure = px.bar(
            long,
            x="people",
            y="zone",
            color="status_label",
            orientation="h",
            color_discrete_map={ctx.t(f"status.{s}"): STATUS_COLOURS[s] for s in STATUS_COLUMNS},
            category_orders={"status_label": [ctx.t(f"status.{s}") for s in STATUS_COLUMNS]},
            labels={
                "people": ctx.t("warnings.col_zone.count"),
                "zone": ctx.t("warnings.col_zone.rank"),
                "status_label": ctx.t("warnings.col.status"),
            },
            title=ctx.t("warnings.chart_title"),
        )
        figure.update_layout(
            yaxis={"autorange": "reversed"}, height=140 + 36 * len(table), margin={"t": 40}
        )
        st.plotly_chart(figure, width="stretch", key="warnings_zone_chart")
    st.markdown(f"**{ctx.t('warnings.ranks')}**")
    widgets.text_table(
        pd.DataFrame(
            {
                ctx.t("warnings.col_zone.kind"): [ctx.t(f"hazard.{k}") for k in ranks["kind"]],
                ctx.t("warnings.col_zone.code"): ranks["rank_code"].fillna(""),
                ctx.t("warnings.col_zone.rank"): ranks["rank_label"].fillna(""),
                ctx.t("warnings.col_zone.depth"): ranks["depth_range"],
                ctx.t("warnings.col_zone.zones"): ranks["zones"].astype(int),
            }
        ),
        key="warnings_ranks",
    )


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def live() -> None:
    try:
        history = hazards.warning_history(ctx.engine, area_codes)
        in_force = hazards.warnings_in_force(ctx.engine, area_codes, synthetic=bool(incident))
        homes_key = dataclasses.astuple(
            status_snapshot.citizens_fingerprint(ctx.engine, thorough=True)
        )
        zones_key = dataclasses.astuple(hazards.zones_fingerprint(ctx.engine))
        feed = status_snapshot.feed_position(ctx.engine, incident_id)
        ranks = zone_membership(ctx.database_url, homes_key, zones_key).ranks
        table = zone_counts(
            ctx.database_url,
            incident_id,
            homes_key,
            zones_key,
            (feed.top_report_id, feed.latest_rows),
        )
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    newest = feed.newest_received_at
    synthetic = bool(incident and incident.is_synthetic)
    until = newest if synthetic and newest is not None else pd.Timestamp.now(tz="UTC")
    if len(history):
        until = max(pd.Timestamp(until), pd.Timestamp(history["report_time"].max()))
    in_force_section(history, in_force)
    zones_section(ranks, table)
    history_section(history, until)


live()
