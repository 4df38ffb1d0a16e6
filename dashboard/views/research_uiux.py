"""UI/UXテストの所要時間 — task times per task × method × group as box charts drawn from the
quartiles (no individual times leave the server), success and error counts, and the paired
comparison of paper and app (Wilcoxon signed-rank, Hodges–Lehmann shift with R's exact
interval). Small cells suppressed; tidy downloads with a method note."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.small_cells import THRESHOLD, suppress, suppress_tidy
from bosai.palette import OKABE_ITO
from dashboard import widgets
from dashboard.context import current
from dashboard.text import chart_text
from sql.queries import research

ctx = current()
t = ctx.t
st.title(t("research.uiux.title"))
st.caption(t("research.common.aggregates_only"))
GROUP_COLOURS = {
    "elderly": OKABE_ITO["vermillion"],
    "general": OKABE_ITO["blue"],
    "student": OKABE_ITO["bluish_green"],
}


@st.cache_data(ttl=300, show_spinner=False)
def timing_analysis(database_url: str, session: str):
    from compositions.uiux import from_database
    from dashboard.data import engine_for

    return from_database(engine_for(database_url, "aggregate"), [session])


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
    "task": "research.uiux.task",
    "method": "research.uiux.method",
    "group": "research.common.group",
    "attempts": "research.uiux.attempts",
    "median_s": "research.common.median",
    "mean_s": "research.common.mean",
    "sd_s": "research.common.sd",
    "q1_s": "research.uiux.q1",
    "q3_s": "research.uiux.q3",
    "min_s": "research.uiux.min",
    "max_s": "research.uiux.max",
    "successes": "research.uiux.successes",
    "failures": "research.uiux.failures",
    "errors": "research.uiux.errors",
    "outliers": "research.uiux.outliers",
    "pair": "research.uiux.pair",
    "hl_shift_s": "research.uiux.shift",
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


sessions = research.uiux_sessions(ctx.engine)
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
                name=group_label(group),
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
    group=summary["group"].map(group_label),
    method=summary["method"].map(lambda m: t(f"research.method.{m}")),
)
table(
    suppress(display, counts, dependent, lang=ctx.lang).rename(
        columns={
            "task": t("research.uiux.task"),
            "method": t("research.uiux.method"),
            "group": t("research.common.group"),
            "median_s": t("research.common.median"),
            "mean_s": t("research.common.mean"),
        }
    )
)
downloads(suppress_tidy(summary, counts, dependent), f"uiux_{session}_summary", note)

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
        group=paired["group"].map(group_label),
        pair=[
            f"{t(f'research.method.{a}')} − {t(f'research.method.{b}')}"
            for a, b in zip(paired["first"], paired["second"], strict=True)
        ],
    ).drop(columns=["first", "second"])
    table(
        suppress(
            shown, ["n"], ["statistic", "p", "hl_shift_s", "ci_low", "ci_high"], lang=ctx.lang
        ).rename(columns={"hl_shift_s": t("research.uiux.shift"), "p": t("research.common.p")})
    )
    downloads(
        suppress_tidy(paired, ["n"], ["statistic", "p", "hl_shift_s", "ci_low", "ci_high"]),
        f"uiux_{session}_paired",
        note,
    )
unpaired = pd.DataFrame(result["unpaired"])
if not unpaired.empty:
    st.subheader(t("research.uiux.unpaired"))
    table(
        suppress(
            unpaired,
            ["n_first", "n_second"],
            ["statistic", "p", "hl_shift_s", "ci_low", "ci_high"],
            lang=ctx.lang,
        )
    )
with st.expander(t("research.common.method")):
    for key, value in result["method"].items():
        st.text(f"{key}: {value}")
