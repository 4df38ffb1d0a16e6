"""UI/UXテストの所要時間 — task times per task × method × group as box charts drawn from the
quartiles (no individual times leave the server), success and error counts, and the paired
comparison of paper and app (Wilcoxon signed-rank, Hodges–Lehmann shift with R's exact
interval). Small cells suppressed; tidy downloads with a method note."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.small_cells import THRESHOLD, suppress_tidy
from bosai.palette import OKABE_ITO
from dashboard import research_upload, safety_panels
from dashboard.context import current
from dashboard.research_kit import GROUP_COLOURS, Kit
from dashboard.text import chart_text
from sql.queries import research

ctx = current()
t = ctx.t
st.title(t("research.uiux.title"))
st.caption(t("research.common.aggregates_only"))


@st.cache_data(ttl=300, show_spinner=False)
def timing_analysis(database_url: str, session: str):
    from compositions.uiux import from_database
    from dashboard.data import engine_for

    return from_database(engine_for(database_url, "aggregate"), [session])


kit = Kit(t, ctx.lang)


safety_panels.show_messages()
sessions = research.uiux_sessions(ctx.engine)
research_upload.timings_upload(ctx, expanded=sessions.empty)
if sessions.empty:
    st.info(t("research.uiux.none"))
    st.stop()
names = dict(zip(sessions["external_id"], sessions["name"], strict=True))
session = st.selectbox(
    t("research.uiux.session"), list(names), format_func=names.get, key="uiux_session"
)
composition = timing_analysis(ctx.database_url, session)
result, note = composition.details, composition.note()
st.metric(t("research.uiux.participants"), f"{result['n_participants']:,}")

summary = pd.DataFrame(result["summary"])
st.subheader(t("research.uiux.distribution"))
for task, part in summary.groupby("task", sort=False):
    fig = go.Figure()
    for group, rows in part.groupby("group", sort=True):
        rows = rows[rows["n"] >= THRESHOLD]
        if rows.empty:
            continue
        iqr = rows["q3_s"] - rows["q1_s"]
        fig.add_trace(
            go.Box(
                name=kit.label(group),
                x=[t(f"research.method.{m}") for m in rows["method"]],
                q1=rows["q1_s"],
                median=rows["median_s"],
                q3=rows["q3_s"],
                mean=rows["mean_s"],
                lowerfence=np.maximum(rows["q1_s"] - 1.5 * iqr, rows["min_s"]),
                upperfence=np.minimum(rows["q3_s"] + 1.5 * iqr, rows["max_s"]),
                marker_color=GROUP_COLOURS.get(group, OKABE_ITO["grey"]),
                boxpoints=False,
            )
        )
    fig.update_layout(
        title=chart_text(task),
        boxmode="group",
        height=360,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        yaxis={"title": t("research.uiux.seconds"), "rangemode": "tozero"},
    )
    st.plotly_chart(fig, width="stretch")

st.subheader(t("research.uiux.summary"))
counts = ["n", "attempts", "successes", "failures", "outliers"]
dependent = ["median_s", "mean_s", "sd_s", "q1_s", "q3_s", "min_s", "max_s", "errors"]
display = summary.assign(
    group=summary["group"].map(kit.label),
    method=summary["method"].map(lambda m: t(f"research.method.{m}")),
)
kit.table(
    kit.readable(
        display,
        counts,
        estimates={c: 0 if c == "errors" else 1 for c in dependent},
        keep=["task", "method", "group"],
    )
)
kit.downloads(suppress_tidy(summary, counts, dependent), f"uiux_{session}_summary", note)

paired = pd.DataFrame(result["paired"])
if not paired.empty:
    st.subheader(t("research.uiux.paired"))
    cols = [
        "task",
        "group",
        "first",
        "second",
        "n",
        "statistic",
        "p",
        "hl_shift_s",
        "ci_low",
        "ci_high",
    ]
    paired = paired[[c for c in cols if c in paired]]
    shown = paired.assign(
        group=paired["group"].map(kit.label),
        pair=[
            f"{t(f'research.method.{a}')} − {t(f'research.method.{b}')}"
            for a, b in zip(paired["first"], paired["second"], strict=True)
        ],
    ).drop(columns=["first", "second"])
    kit.table(
        kit.readable(
            shown,
            ["n"],
            estimates={"statistic": 1, "hl_shift_s": ("ci_low", "ci_high", 0)},
            keep=["task", "group", "pair"],
        ),
        {"pair": t("research.uiux.pair")},
    )
    kit.downloads(
        suppress_tidy(paired, ["n"], ["statistic", "p", "hl_shift_s", "ci_low", "ci_high"]),
        f"uiux_{session}_paired",
        note,
    )
unpaired = pd.DataFrame(result["unpaired"])
if not unpaired.empty:
    st.subheader(t("research.uiux.unpaired"))
    shown = unpaired.assign(
        pair=[
            f"{t(f'research.method.{a}')} − {t(f'research.method.{b}')}"
            for a, b in zip(unpaired["first"], unpaired["second"], strict=True)
        ],
    )[["task", "pair", "n_first", "n_second", "statistic", "p", "hl_shift_s", "ci_low", "ci_high"]]
    kit.table(
        kit.readable(
            shown,
            ["n_first", "n_second"],
            estimates={"statistic": 1, "hl_shift_s": ("ci_low", "ci_high", 0)},
            keep=["task", "pair"],
        ),
        {
            "pair": t("research.uiux.pair"),
            "n_first": t("research.uiux.n_first"),
            "n_second": t("research.uiux.n_second"),
        },
    )
kit.method_notes(composition.notes)
