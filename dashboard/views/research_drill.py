"""訓練の評価 — a drill from its event log: the notification funnel, Kaplan–Meier curves of the
time to each stage per participant group (censored at the drill's end), register people
confirmed safe by T minutes, and the comparison of two drills (log-rank). Aggregates only;
curves of groups with fewer than 5 people are not drawn."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.drill_evaluation import STAGES
from analytics.reporting import p_text
from analytics.small_cells import LABELS, is_small, suppress_tidy
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from dashboard import drill_models_panel
from dashboard.context import current
from dashboard.research_kit import GROUP_COLOURS, Kit
from reports.evacuation_parts import response_display, response_download
from sql.queries import research

ctx = current()
t = ctx.t
st.title(t("research.drill.title"))
st.caption(t("research.common.aggregates_only"))
MINUTES = (10, 30, 60)


@st.cache_data(ttl=600, show_spinner=False)
def drill_aggregates(database_url: str, role: str, subject: str, drill_id: int, other: int | None):
    """Evaluation of one drill (and comparison with another): aggregates only."""
    from compositions.drill import evaluate
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    return evaluate(engine, ctx.viewer, drill_id, MINUTES, compare=other)


kit = Kit(t, ctx.lang)


drills = research.drills(ctx.engine)
if drills.empty:
    st.info(t("research.drill.none"))
    st.stop()
labels = {
    int(row.id): f"{row.name}（{format_datetime(row.started_at, ctx.lang, era_style=True)}）"
    for row in drills.itertuples()
}
left, right = st.columns(2)
drill_id = left.selectbox(
    t("research.drill.select"), list(labels), format_func=labels.get, key="research_drill"
)
options = [None, *[d for d in labels if d != drill_id]]
other = right.selectbox(
    t("research.drill.compare_with"),
    options,
    format_func=lambda d: t("research.drill.no_compare") if d is None else labels[d],
    key="research_drill_compare",
)
if bool(drills.loc[drills["id"] == drill_id, "is_synthetic"].iloc[0]):
    st.caption(t("research.common.synthetic"))
composition = drill_aggregates(
    ctx.database_url, ctx.viewer.role, ctx.viewer.subject, drill_id, other
)
result = composition.details
note = composition.note()
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
kit.downloads(
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
st.plotly_chart(
    kit.km_figure(
        [
            {
                "name": kit.label(group),
                "summary": curve,
                "colour": GROUP_COLOURS.get(group, OKABE_ITO["grey"]),
                "dash": "solid" if group == "all" else "dot",
            }
            for group, curve in curves.items()
        ]
    ),
    width="stretch",
)
curve_table = composition.tables["time_to_event"]
curve_table = curve_table[curve_table["stage"] == stage].drop(columns="stage")
share_cols = [c for c in curve_table if c.startswith("share_by_")]
kit.table(
    kit.readable(
        curve_table.drop(columns=["follow_up_min", "censored"]).assign(
            group=curve_table["group"].map(kit.label)
        ),
        ["n", "events"],
        shares={c: None for c in share_cols},
        estimates={"median_min": 2},
        keep=["group"],
    ),
    {c: t("research.drill.share_by", t=c.removeprefix("share_by_")) for c in share_cols},
)
kit.downloads(
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
register = composition.tables["register"]
kit.table(
    kit.readable(
        register.assign(minutes=register["minutes"].map(lambda m: f"{m:g}")),
        ["n", "count"],
        shares={"share": ("ci_low", "ci_high")},
        keep=["minutes"],
    )
)
kit.downloads(
    suppress_tidy(register, ["n", "count"], ["share", "ci_low", "ci_high"], basis="n"),
    f"drill_{drill_id}_register",
    note,
)

# ---------------------------------------------------------------- evacuation information
st.subheader(t("research.drill.evacuation"))
responses = composition.tables["evacuation"]
if responses.empty:
    st.caption(t("research.drill.evacuation_none"))
else:
    st.caption(t("research.drill.evacuation_note"))
    st.dataframe(response_display(responses, ctx.lang), hide_index=True)
    kit.downloads(response_download(responses), f"drill_{drill_id}_evacuation", note)

# ---------------------------------------------------------------- comparison
if "comparison" in result:
    comparison = result["comparison"]
    st.subheader(t("research.drill.comparison"))
    compared = {drill_id: comparison["a"], other: comparison["b"]}
    st.plotly_chart(
        kit.km_figure(
            [
                {"name": labels[which], "summary": curve, "colour": colour}
                for colour, (which, curve) in zip(
                    (OKABE_ITO["blue"], OKABE_ITO["vermillion"]), compared.items(), strict=True
                )
            ],
            height=380,
        ),
        width="stretch",
    )
    rows = composition.tables["comparison"]
    share_cols = [c for c in rows if c.startswith("share_by_")]
    kit.table(
        kit.readable(
            rows.assign(drill=[labels[int(d)] for d in rows["drill_id"]]).drop(
                columns=["drill_id", "event", "follow_up_min", "censored"], errors="ignore"
            ),
            ["n", "events"],
            shares={c: None for c in share_cols},
            estimates={"median_min": 2},
            keep=["drill"],
        ),
        {c: t("research.drill.share_by", t=c.removeprefix("share_by_")) for c in share_cols},
    )
    log_rank = composition.tables["log_rank"].iloc[0]
    difference = log_rank["effect_value"]
    st.caption(
        t(
            "research.drill.log_rank",
            chi2=f"{log_rank['statistic']:.2f}",
            df=int(log_rank["df"]),
            p=p_text(log_rank["p"]),
        )
        + (
            ""
            if difference is None
            or pd.isna(difference)
            or any(is_small(c["n"]) for c in compared.values())
            else t("research.drill.median_difference", minutes=f"{difference:+.1f}")
        )
    )
    kit.downloads(
        suppress_tidy(rows, ["n", "events"], ["median_min", *share_cols]),
        f"drill_{drill_id}_vs_{other}",
        note,
    )
    kit.downloads(composition.tables["log_rank"], f"drill_{drill_id}_vs_{other}_log_rank", note)
kit.method_notes(composition.notes)

# ---------------------------------------------------------------- time to safe (issue 16, item 5)
drill_models_panel.show(ctx, drill_id)
