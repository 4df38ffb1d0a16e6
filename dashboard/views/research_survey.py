"""アンケート分析 — questionnaires: subscale scores with α and ω, item means, choice answers,
comparisons between participant groups, free-text themes. Aggregates only; small cells
suppressed; tidy downloads with a method note."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.group_comparison import compare_groups
from analytics.small_cells import LABELS, THRESHOLD, is_small, suppress, suppress_tidy
from analytics.text_themes import themes
from bosai.palette import OKABE_ITO
from dashboard import widgets
from dashboard.context import current
from dashboard.text import chart_text
from sql.queries import research
from surveys.instrument import parse_instrument
from surveys.scoring import subscale_scores, summarise

ctx = current()
t = ctx.t
st.title(t("research.survey.title"))
st.caption(t("research.common.aggregates_only"))


@st.cache_data(ttl=300, show_spinner=False)
def survey_analysis(database_url: str, instrument_id: str, by: str) -> dict:
    """Aggregates only (the responses themselves are not cached)."""
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    instrument = parse_instrument(research.instrument_definition(engine, instrument_id))
    frame = research.survey_responses(engine, instrument_id)
    result = summarise(frame, instrument, n_boot=1000, omega_boot=100)
    result["max_points"] = max((i.points for i in instrument.likert_items), default=5)
    scores = subscale_scores(frame, instrument)
    if by in frame:
        scores = scores.join(frame[[by]])
        result["comparisons"] = {
            name: compare_groups(scores, name, by, n_boot=500, min_group=THRESHOLD)
            for name in instrument.subscales
            if name in scores
        }
    texts = [i.id for i in instrument.items if i.type == "text" and i.id in frame]
    result["themes"] = themes([c for i in texts for c in frame[i].dropna().astype(str)])
    return result


def group_label(code: str) -> str:
    key = f"research.group.{code}"
    label = t(key)
    return code if label == key else label


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
    "alpha": "research.survey.alpha",
    "omega": "research.survey.omega",
    "alpha_ci_low": "research.survey.alpha_ci_low",
    "alpha_ci_high": "research.survey.alpha_ci_high",
    "omega_ci_low": "research.survey.omega_ci_low",
    "omega_ci_high": "research.survey.omega_ci_high",
    "test": "research.survey.test",
    "effect": "research.survey.effect",
    "effect_value": "research.survey.effect_value",
}


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The display table with its column names in the session's language."""
    return frame.rename(columns={k: t(v) for k, v in HEADERS.items() if k in frame.columns})


def table(frame: pd.DataFrame) -> None:
    st.dataframe(headers(frame), hide_index=True)


def downloads(frame: pd.DataFrame, stem: str, note: str) -> None:
    widgets.tidy_downloads(t, frame, stem, note)


catalogue = research.instruments(ctx.engine)
if not catalogue:
    st.info(t("research.survey.none"))
    st.stop()
labels = {
    i["id"]: f"{i['title_ja'] if ctx.lang == 'ja' else i['title_en'] or i['title_ja']}"
    for i in catalogue
}
left, right = st.columns(2)
instrument_id = left.selectbox(
    t("research.survey.instrument"), list(labels), format_func=labels.get, key="research_instrument"
)
by = right.selectbox(
    t("research.survey.compare_by"),
    ["participant_type", "age_band", "sex"],
    format_func=lambda a: t(f"research.survey.attribute.{a}"),
    key="research_compare_by",
)
result = survey_analysis(ctx.database_url, instrument_id, by)
note = "\n".join(f"{k}: {v}" for k, v in result["method"].items())
st.metric(
    t("research.survey.responses"),
    LABELS[ctx.lang] if is_small(result["n"]) else f"{result['n']:,}",
)

# ---------------------------------------------------------------- subscales
st.subheader(t("research.survey.subscales"))
rows = []
for name, sub in result["subscales"].items():
    rows.append(
        {
            "subscale": name,
            t("research.survey.subscale"): sub["label"] if ctx.lang == "ja" else sub["label_en"],
            "n": sub["n"],
            "mean": sub["mean"],
            "sd": sub["sd"],
            "alpha": sub["alpha"],
            "alpha_ci_low": (sub["alpha_ci"] or [None, None])[0],
            "alpha_ci_high": (sub["alpha_ci"] or [None, None])[1],
            "omega": sub["omega"],
            "omega_ci_low": (sub["omega_ci"] or [None, None])[0],
            "omega_ci_high": (sub["omega_ci"] or [None, None])[1],
        }
    )
subscales = pd.DataFrame(rows)
numeric = [
    "mean",
    "sd",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "omega",
    "omega_ci_low",
    "omega_ci_high",
]
shown = suppress(subscales, counts=["n"], dependent=numeric, lang=ctx.lang).rename(
    columns={
        "n": t("research.common.n"),
        "mean": t("research.common.mean"),
        "sd": t("research.common.sd"),
        "alpha": t("research.survey.alpha"),
        "omega": t("research.survey.omega"),
    }
)
table(shown.drop(columns="subscale"))
visible = subscales[subscales["n"] >= THRESHOLD].dropna(subset=["mean"])
if not visible.empty:
    chart = go.Figure(
        go.Bar(
            x=visible["mean"],
            y=visible[t("research.survey.subscale")],
            orientation="h",
            marker_color=OKABE_ITO["blue"],
            error_x={"type": "data", "array": visible["sd"].fillna(0)},
            text=[f"{m:.2f}" for m in visible["mean"]],
        )
    )
    chart.update_layout(
        height=60 + 45 * len(visible),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"range": [1, result["max_points"]], "title": t("research.common.mean")},
    )
    st.plotly_chart(chart, width="stretch")
downloads(suppress_tidy(subscales, ["n"], numeric), f"{instrument_id}_subscales", note)

if "sus" in result and result["sus"].get("n"):
    sus = result["sus"]
    if sus["n"] >= THRESHOLD:
        cols = st.columns(3)
        cols[0].metric(t("research.survey.sus"), f"{sus['mean']:.1f}")
        cols[1].metric(t("research.common.ci_low"), f"{sus['ci_low']:.1f}")
        cols[2].metric(t("research.survey.grade"), sus["grade"])

# ---------------------------------------------------------------- items
st.subheader(t("research.survey.items"))
items = pd.DataFrame(
    [
        {
            "item": k,
            t("research.survey.item"): v["text"],
            "n": v["n"],
            "mean": v["mean"],
            "sd": v["sd"],
            "median": v["median"],
        }
        for k, v in result["items"].items()
    ]
)
if not items.empty:
    table(suppress(items, ["n"], ["mean", "sd", "median"], lang=ctx.lang).drop(columns="item"))
    downloads(suppress_tidy(items, ["n"], ["mean", "sd", "median"]), f"{instrument_id}_items", note)

# ---------------------------------------------------------------- choices
choice_rows = [
    {
        "item": item_id,
        "option": code,
        t("research.survey.option"): opt["label"] if ctx.lang == "ja" else opt["label_en"],
        "n": opt["n"],
        "count": opt["count"],
        "share": opt["share"],
        "ci_low": opt["ci_low"],
        "ci_high": opt["ci_high"],
    }
    for item_id, entry in result["choices"].items()
    if item_id not in ("participant_type", "age_band", "sex")
    for code, opt in entry["options"].items()
]
if choice_rows:
    st.subheader(t("research.survey.choices"))
    choices = pd.DataFrame(choice_rows)
    for item_id, part in choices.groupby("item", sort=False):
        ok = part[(part["n"] >= THRESHOLD) & ((part["count"] >= THRESHOLD) | (part["count"] == 0))]
        if ok.empty:
            continue
        fig = go.Figure(
            go.Bar(
                x=ok["share"],
                y=ok[t("research.survey.option")],
                orientation="h",
                marker_color=OKABE_ITO["bluish_green"],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": ok["ci_high"] - ok["share"],
                    "arrayminus": ok["share"] - ok["ci_low"],
                },
                text=[f"{s:.1%}" for s in ok["share"]],
            )
        )
        entry = result["choices"][item_id]
        fig.update_layout(
            title=chart_text(
                entry["text"] if ctx.lang == "ja" else entry["text_en"] or entry["text"]
            ),
            height=80 + 40 * len(ok),
            margin={"l": 0, "r": 0, "t": 30, "b": 0},
            xaxis={"range": [0, 1], "tickformat": ".0%"},
        )
        st.plotly_chart(fig, width="stretch")
    table(
        suppress(
            choices, ["n", "count"], ["share", "ci_low", "ci_high"], lang=ctx.lang, basis="count"
        ).drop(columns=["option"])
    )
    downloads(
        suppress_tidy(choices, ["n", "count"], ["share", "ci_low", "ci_high"], basis="count"),
        f"{instrument_id}_choices",
        note + "\nshares: Wilson 95% intervals",
    )

# ---------------------------------------------------------------- comparisons
if result.get("comparisons"):
    st.subheader(t("research.survey.compare"))
    comp_rows = []
    for name, comp in result["comparisons"].items():
        for g in comp["groups"]:
            comp_rows.append(
                {
                    "subscale": name,
                    t("research.survey.subscale"): result["subscales"][name][
                        "label" if ctx.lang == "ja" else "label_en"
                    ],
                    "group": g["group"],
                    t("research.common.group"): group_label(g["group"]),
                    "n": g["n"],
                    "mean": g["mean"],
                    "median": g["median"],
                    "test": comp.get("test"),
                    "statistic": comp.get("statistic"),
                    "p": comp.get("p"),
                    "effect": (comp.get("effect") or {}).get("name"),
                    "effect_value": (comp.get("effect") or {}).get("value"),
                }
            )
    if comp_rows:
        comparisons = pd.DataFrame(comp_rows)
        dependent = ["mean", "median"]
        table(
            suppress(comparisons, ["n"], dependent, lang=ctx.lang).drop(
                columns=["group", "subscale"]
            )
        )
        downloads(
            suppress_tidy(comparisons, ["n"], dependent),
            f"{instrument_id}_by_{by}",
            note + f"\ngroups: groups of fewer than {THRESHOLD} left out of the tests; "
            "Mann-Whitney U (2 groups) or Kruskal-Wallis H (more), rank-biserial r / epsilon squared",
        )

# ---------------------------------------------------------------- free text
theme_table = pd.DataFrame(result["themes"]["themes"])
if result["themes"]["n"] and not theme_table.empty:
    st.subheader(t("research.survey.themes"))
    theme_table["n"] = result["themes"]["n"]
    theme_table[t("research.survey.theme")] = (
        theme_table["label"] if ctx.lang == "ja" else theme_table["label_en"]
    )
    table(
        suppress(
            theme_table[[t("research.survey.theme"), "n", "count", "share"]],
            ["count"],
            ["share"],
            lang=ctx.lang,
        )
    )
    quoted = theme_table[theme_table["count"] >= THRESHOLD]
    if not quoted.empty:
        with st.expander(t("research.survey.quotes")):
            for theme in quoted.to_dict("records"):
                st.markdown(f"**{theme[t('research.survey.theme')]}**")
                for quote in theme["quotes"]:
                    st.text(quote)  # as text: never markdown or HTML
