"""訓練の評価 — a drill from its event log: the notification funnel, Kaplan–Meier curves of the
time to each stage per participant group (censored at the drill's end), register people
confirmed safe by T minutes, and the comparison of two drills (log-rank). Aggregates only;
curves of groups with fewer than 5 people are not drawn."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.drill_evaluation import STAGES, compare_drills, evaluate_drill
from analytics.small_cells import LABELS, is_small, suppress, suppress_tidy
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from dashboard import widgets
from dashboard.context import current
from sql.queries import research, safety_picture

ctx = current()
t = ctx.t
st.title(t("research.drill.title"))
st.caption(t("research.common.aggregates_only"))
MINUTES = (10, 30, 60)
GROUP_COLOURS = {
    "all": OKABE_ITO["black"],
    "resident": OKABE_ITO["blue"],
    "elderly": OKABE_ITO["vermillion"],
    "staff": OKABE_ITO["bluish_green"],
    "visitor": OKABE_ITO["orange"],
}


@st.cache_data(ttl=600, show_spinner=False)
def drill_aggregates(database_url: str, role: str, subject: str, drill_id: int, other: int | None):
    """Evaluation of one drill (and comparison with another): aggregates only."""
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    viewer = ctx.viewer
    drill = research.drill(engine, drill_id)
    events = research.drill_events(engine, viewer, drill_id)
    register = research.register_citizen_ids(engine, viewer)
    result = evaluate_drill(
        events,
        drill["started_at"],
        drill["ended_at"],
        register,
        MINUTES,
        planned_ids=safety_picture.plans(engine)["citizen_id"],
    )
    if other is not None:
        second = research.drill(engine, other)
        result["comparison"] = compare_drills(
            (events, drill["started_at"], drill["ended_at"]),
            (
                research.drill_events(engine, viewer, other),
                second["started_at"],
                second["ended_at"],
            ),
            minutes=MINUTES,
        )
    return result


HEADERS = {
    "n": "research.common.n",
    "count": "research.common.count",
    "share": "research.common.share",
    "ci_low": "research.common.ci_low",
    "ci_high": "research.common.ci_high",
    "mean": "research.common.mean",
    "sd": "research.common.sd",
    "median": "research.common.median",
    "p": "research.common.p",
    "statistic": "research.common.statistic",
    "group": "research.common.group",
    "events": "research.drill.events",
    "median_min": "research.drill.median",
    "minutes": "research.drill.within",
}


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The display table with its column names in the session's language."""
    return frame.rename(columns={k: t(v) for k, v in HEADERS.items() if k in frame.columns})


def table(frame: pd.DataFrame) -> None:
    st.dataframe(headers(frame), hide_index=True)


def downloads(frame: pd.DataFrame, stem: str, note: str) -> None:
    widgets.tidy_downloads(t, frame, stem, note)


def group_label(code: str) -> str:
    key = f"research.group.{code}"
    label = t(key)
    return code if label == key else label


drills = research.drills(ctx.engine)
if drills.empty:
    st.info(t("research.drill.none"))
    st.stop()
labels = {
    int(row.id): f"{row.name}（{format_datetime(row.started_at, ctx.lang, era_style=True)}）"
    for row in drills.itertuples()
}
left, right = st.columns(2)
drill_id = left.selectbox(t("research.drill.select"), list(labels), format_func=labels.get)
options = [None, *[d for d in labels if d != drill_id]]
other = right.selectbox(
    t("research.drill.compare_with"),
    options,
    format_func=lambda d: t("research.drill.no_compare") if d is None else labels[d],
)
if bool(drills.loc[drills["id"] == drill_id, "is_synthetic"].iloc[0]):
    st.caption(t("research.common.synthetic"))
result = drill_aggregates(ctx.database_url, ctx.viewer.role, ctx.viewer.subject, drill_id, other)
note = "\n".join(f"{k}: {v}" for k, v in result["method"].items())
participants = result["participants"]
st.metric(
    t("research.drill.participants"),
    LABELS[ctx.lang] if is_small(participants) else f"{participants:,}",
)

# ---------------------------------------------------------------- funnel
st.subheader(t("research.drill.funnel"))
funnel = pd.DataFrame(result["funnel"])
funnel["label"] = [t(f"research.drill.stages.{s}") for s in funnel["stage"]]
visible = funnel[~funnel["count"].map(is_small)]
fig = go.Figure(
    go.Funnel(
        y=visible["label"],
        x=visible["count"],
        marker={"color": OKABE_ITO["sky_blue"]},
        textinfo="value+percent initial",
    )
)
fig.update_layout(height=360, margin={"l": 0, "r": 0, "t": 10, "b": 0})
st.plotly_chart(fig, width="stretch")
downloads(
    suppress_tidy(funnel.drop(columns="label"), ["count"], ["share_of_sent", "share_of_previous"]),
    f"drill_{drill_id}_funnel",
    note,
)

# ---------------------------------------------------------------- time to event
st.subheader(t("research.drill.curve"))
stage = st.selectbox(
    t("research.drill.event"),
    list(STAGES[1:]),
    index=1,
    format_func=lambda s: t(f"research.drill.stages.{s}"),
)
entry = result["time_to_event"][stage]
curves = {"all": entry["all"], **entry["groups"]}
fig = go.Figure()
rows = []
for group, curve in curves.items():
    rows.append(
        {
            "stage": stage,
            "group": group,
            "n": curve["n"],
            "events": curve["events"],
            "median_min": curve["median_min"],
            **{f"share_by_{k}": v for k, v in curve["share_by"].items()},
        }
    )
    if is_small(curve["n"]) or not curve["curve"]:
        continue
    km = pd.DataFrame(curve["curve"])
    # The curve stays flat after its last event until the end of follow-up (censoring).
    end = max(curve.get("follow_up_min") or 0.0, float(km["time"].max()))
    times = [0.0, *km["time"], end]
    reached = [0.0, *(1 - km["survival"]), float(1 - km["survival"].iloc[-1])]
    fig.add_trace(
        go.Scatter(
            x=times,
            y=reached,
            mode="lines",
            line={
                "shape": "hv",
                "color": GROUP_COLOURS.get(group, OKABE_ITO["grey"]),
                "dash": "solid" if group == "all" else "dot",
            },
            name=f"{group_label(group)}（n={curve['n']}）",
        )
    )
fig.update_layout(
    height=420,
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    xaxis={"title": t("research.drill.minutes"), "rangemode": "tozero"},
    yaxis={"title": t("research.drill.reached"), "range": [0, 1], "tickformat": ".0%"},
)
st.plotly_chart(fig, width="stretch")
curve_table = pd.DataFrame(rows)
share_cols = [c for c in curve_table if c.startswith("share_by_")]
shown = curve_table.assign(group=curve_table["group"].map(group_label)).rename(
    columns={
        "group": t("research.common.group"),
        "median_min": t("research.drill.median"),
        **{c: t("research.drill.share_by", t=int(float(c[9:]))) for c in share_cols},
    }
)
table(
    suppress(
        shown.drop(columns="stage"),
        ["n", "events"],
        [
            t("research.drill.median"),
            *[t("research.drill.share_by", t=int(float(c[9:]))) for c in share_cols],
        ],
        lang=ctx.lang,
    )
)
downloads(
    suppress_tidy(curve_table, ["n", "events"], ["median_min", *share_cols]),
    f"drill_{drill_id}_{stage}",
    note,
)

# ---------------------------------------------------------------- register
st.subheader(t("research.drill.register"))
coverage = result.get("plan_coverage")
if coverage:
    st.metric(
        t("safety.plans.coverage"),
        "—"
        if is_small(coverage["with_plan"]) or coverage["share"] is None
        else f"{coverage['share']:.1%}",
        t(
            "safety.plans.coverage_value",
            with_plan=LABELS[ctx.lang]
            if is_small(coverage["with_plan"])
            else f"{coverage['with_plan']:,}",
            register=LABELS[ctx.lang]
            if is_small(coverage["register"])
            else f"{coverage['register']:,}",
        ),
        delta_color="off",
        delta_arrow="off",
    )
    st.caption(t("safety.drill.arrivals_note"))
register = pd.DataFrame(result["register_confirmed"])
table(suppress(register, ["n", "count"], ["share", "ci_low", "ci_high"], lang=ctx.lang, basis="n"))
downloads(
    suppress_tidy(register, ["n", "count"], ["share", "ci_low", "ci_high"], basis="n"),
    f"drill_{drill_id}_register",
    note,
)

# ---------------------------------------------------------------- comparison
if "comparison" in result:
    comparison = result["comparison"]
    st.subheader(t("research.drill.comparison"))
    table = pd.DataFrame(
        [
            {
                "drill": labels[drill_id],
                "n": comparison["a"]["n"],
                "median_min": comparison["a"]["median_min"],
            },
            {
                "drill": labels[other],
                "n": comparison["b"]["n"],
                "median_min": comparison["b"]["median_min"],
            },
        ]
    )
    table(suppress(table, ["n"], ["median_min"], lang=ctx.lang))
    st.write(
        f"χ² = {comparison['log_rank']['chi2']:.3f}, {t('research.common.p')} = "
        f"{comparison['log_rank']['p']:.4f}"
    )
with st.expander(t("research.common.method")):
    for key, value in result["method"].items():
        st.text(f"{key}: {value}")
