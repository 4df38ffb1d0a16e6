"""市の概況 — City overview: counts by status, last update time, data sources.

Small cells suppressed for the roles that see no individuals (``sql.policy.sees_exact_counts``):
a count of 1–4 reads 「5未満」, its share is hidden and its bar is not drawn."""

import pandas as pd
import plotly.express as px
import streamlit as st

from analytics.small_cells import count_label, hides, is_small
from bosai.jpdate import clock, format_datetime
from bosai.palette import STATUS_COLOURS, STATUS_ORDER
from dashboard import data, evacuation_state, widgets
from dashboard.context import current
from dashboard.text import plain
from sql import policy

ctx = current()
st.title(ctx.t("overview.title"))

incident = data.current_incident(ctx.database_url)
st.caption(
    f"{ctx.t('overview.incident')}: {plain(incident.name(ctx.lang))}"
    if incident
    else ctx.t("overview.no_incident")
)
ov = data.city_overview(ctx.database_url, incident.id if incident else None)

exact = policy.sees_exact_counts(ctx.viewer)


def n(value) -> str:
    return f"{value:,}" if exact else count_label(value, ctx.lang)


safe = sum(ov.by_status[s] for s in ("safe_at_home", "at_shelter", "elsewhere_safe"))
cols = st.columns(5)
cols[0].metric(ctx.t("overview.opted_in"), n(ov.citizens))
cols[1].metric(ctx.t("overview.reported"), n(ov.reported))
widgets.key_figure(
    cols[2],
    ctx.t("overview.confirmed_safe"),
    n(safe),
    f"{safe / ov.citizens:.1%}"
    if ov.citizens and (exact or not hides(safe, ov.citizens))
    else None,
)
cols[3].metric(ctx.t("overview.needs_rescue"), n(ov.by_status["needs_rescue"]))
cols[4].metric(ctx.t("overview.shelters_open"), f"{ov.shelters_open:,} / {ov.shelters:,}")
if incident is not None:
    # Every source merged (app, reception, supporters, family, rescue, calls): aggregates.
    merged = data.safety_summary(ctx.database_url, incident.id)["counts"]
    st.caption(
        ctx.t(
            "safety.overview",
            **widgets.counts_text(merged, "accounted", "unaccounted"),
            rate=f"{merged['accounted'] / max(merged['people'], 1):.1%}",
        )
    )

if incident is not None and incident.active:
    # Evacuation information in force (public: the city announced it), highest level first.
    levels = evacuation_state.in_force_by_level(ctx.aggregates, incident.id, ctx.city, ctx.lang)
    if levels:
        separator = "、" if ctx.lang == "ja" else ", "
        st.warning(
            ctx.t(
                "evacuation.overview.in_force",
                levels=" / ".join(
                    f"{ctx.t(f'evacuation.level.{lv}')}: {separator.join(plain(n) for n in names)}"
                    for lv, names in levels.items()
                ),
            ),
            icon=":material/directions_run:",
        )

st.subheader(ctx.t("overview.by_status"))
table = pd.DataFrame(
    {
        "code": list(STATUS_ORDER),
        ctx.t("overview.status"): [ctx.t(f"status.{s}") for s in STATUS_ORDER],
        ctx.t("overview.count"): [ov.by_status.get(s, 0) for s in STATUS_ORDER],
    }
)
table[ctx.t("overview.share")] = table[ctx.t("overview.count")] / max(ov.citizens, 1)
drawn = table
if not exact:  # small counts: 「5未満」, no share, no bar (its height would tell)
    small = table[ctx.t("overview.count")].map(is_small) | (0 < ov.citizens < 5)
    drawn = table[~small]
    table = table.astype({ctx.t("overview.count"): object, ctx.t("overview.share"): object})
    table[ctx.t("overview.count")] = [n(v) for v in table[ctx.t("overview.count")]]
    table.loc[small, ctx.t("overview.share")] = None
chart = px.bar(
    drawn,
    x=ctx.t("overview.count"),
    y=ctx.t("overview.status"),
    color="code",
    color_discrete_map=STATUS_COLOURS,
    orientation="h",
    text=ctx.t("overview.count"),
)
chart.update_layout(
    showlegend=False,
    yaxis={
        "categoryorder": "array",
        "categoryarray": table[ctx.t("overview.status")].tolist()[::-1],
    },
    height=360,
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
)
left, right = st.columns([3, 2])
left.plotly_chart(chart, width="stretch")
right.dataframe(
    table.drop(columns="code"),
    hide_index=True,
    column_config={ctx.t("overview.share"): st.column_config.NumberColumn(format="percent")},
)

st.subheader(ctx.t("overview.last_update"))
if ov.last_report_at:
    st.write(
        f"{ctx.t('overview.last_report')}: {format_datetime(ov.last_report_at, ctx.lang, era_style=True)}"
    )
    st.caption(ctx.t("app.data_as_of", time=clock(ov.last_received_at or ov.last_report_at)))
else:
    st.write(ctx.t("overview.no_reports"))

st.subheader(ctx.t("overview.sources"))
if ov.demo:
    st.write(
        ctx.t("overview.source_demo", citizens=f"{ov.demo['citizens']:,}", seed=ov.demo["seed"])
    )
for source in ov.sources:
    state = ctx.t("overview.stale") if source["stale"] else ctx.t("overview.fresh")
    st.write(
        f"{plain(source['source'])}: {format_datetime(source['last_success_at'], ctx.lang)} ({state})"
    )
