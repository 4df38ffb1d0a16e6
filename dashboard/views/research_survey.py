"""アンケート分析 — questionnaires: subscale scores with α and ω, item means, choice answers,
comparisons between participant groups, free-text themes. Aggregates only; small cells
suppressed; tidy downloads with a method note."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.small_cells import LABELS, THRESHOLD, is_small, suppress_tidy
from bosai.palette import OKABE_ITO
from compositions.survey import SUBSCALES
from dashboard import research_upload, safety_panels
from dashboard.context import current
from dashboard.research_kit import Kit, share_bars
from dashboard.text import chart_text
from sql.queries import research

ctx = current()
t = ctx.t
st.title(t("research.survey.title"))
st.caption(t("research.common.aggregates_only"))


@st.cache_data(ttl=300, show_spinner=False)
def survey_analysis(database_url: str, instrument_id: str, by: str):
    """Aggregates only (the responses themselves are not cached)."""
    from compositions.survey import from_database
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    return from_database(
        engine, instrument_id, (by,), n_boot=1000, omega_boot=100, min_group=THRESHOLD
    )


kit = Kit(t, ctx.lang)


safety_panels.show_messages()
catalogue = research.instruments(ctx.engine)
research_upload.survey_upload(ctx, expanded=not catalogue)
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
composition = survey_analysis(ctx.database_url, instrument_id, by)
result, note = composition.details, composition.note()
st.metric(
    t("research.survey.responses"),
    LABELS[ctx.lang] if is_small(result["n"]) else f"{result['n']:,}",
)

# ---------------------------------------------------------------- subscales
st.subheader(t("research.survey.subscales"))
subscales = composition.tables["subscales"].copy()
subscales.insert(
    1,
    t("research.survey.subscale"),
    [sub["label"] if ctx.lang == "ja" else sub["label_en"] for sub in result["subscales"].values()],
)
numeric = [column for column in SUBSCALES if column not in ("subscale", "n")]
kit.table(
    kit.readable(
        subscales.drop(columns="subscale"),
        ["n"],
        estimates={
            "mean": 2,
            "sd": 2,
            "alpha": ("alpha_ci_low", "alpha_ci_high", 3),
            "omega": ("omega_ci_low", "omega_ci_high", 3),
        },
        keep=[t("research.survey.subscale")],
    )
)
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
kit.downloads(suppress_tidy(subscales, ["n"], numeric), f"{instrument_id}_subscales", note)

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
    kit.table(
        kit.readable(
            items.drop(columns="item"),
            ["n"],
            estimates={"mean": 2, "sd": 2, "median": 1},
            keep=[t("research.survey.item")],
        )
    )
    kit.downloads(
        suppress_tidy(items, ["n"], ["mean", "sd", "median"]), f"{instrument_id}_items", note
    )

# ---------------------------------------------------------------- choices
choice_rows = [
    {
        "item": item_id,
        "option": code,
        t("research.survey.item"): entry["text"]
        if ctx.lang == "ja"
        else (entry["text_en"] or entry["text"]),
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
        fig = go.Figure(share_bars(ok, t("research.survey.option"), OKABE_ITO["bluish_green"]))
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
    kit.table(
        kit.readable(
            choices.drop(columns=["item", "option"]),
            ["n", "count"],
            basis="count",
            shares={"share": ("ci_low", "ci_high")},
            keep=[t("research.survey.item"), t("research.survey.option")],
        )
    )
    kit.downloads(
        suppress_tidy(choices, ["n", "count"], ["share", "ci_low", "ci_high"], basis="count"),
        f"{instrument_id}_choices",
        note + "\nshares: Wilson 95% intervals",
    )

# ---------------------------------------------------------------- comparisons
if result.get("comparisons", {}).get(by):
    st.subheader(t("research.survey.compare"))
    comp_rows = []
    for name, comp in result["comparisons"][by].items():
        effect = comp.get("effect") or {}
        for g in comp["groups"]:
            comp_rows.append(
                {
                    "subscale": name,
                    t("research.survey.subscale"): result["subscales"][name][
                        "label" if ctx.lang == "ja" else "label_en"
                    ],
                    "group": g["group"],
                    t("research.common.group"): kit.label(g["group"]),
                    "n": g["n"],
                    "mean": g["mean"],
                    "median": g["median"],
                    "test": kit.label(comp["test"], "research.survey.tests")
                    if comp.get("test")
                    else "—",
                    "statistic": comp.get("statistic"),
                    "p": comp.get("p"),
                    "effect": kit.label(effect["name"], "research.survey.effects")
                    if effect.get("name")
                    else "—",
                    "effect_value": effect.get("value"),
                    "effect_ci_low": effect.get("ci_low"),
                    "effect_ci_high": effect.get("ci_high"),
                }
            )
    if comp_rows:
        comparisons = pd.DataFrame(comp_rows)
        dependent = ["mean", "median"]
        shown = kit.readable(
            comparisons.drop(columns=["group", "subscale"]),
            ["n"],
            estimates={
                "mean": 2,
                "median": 2,
                "effect_value": ("effect_ci_low", "effect_ci_high", 3),
            },
            keep=[t("research.survey.subscale"), t("research.common.group"), "test", "effect"],
        )
        # The test and its effect size belong to the whole comparison: shown even when one
        # group is small (that group is left out of the test).
        for col in ("statistic", "p", "effect_value_ci"):
            shown[col] = kit.readable(
                comparisons[["statistic", "p", "effect_value", "effect_ci_low", "effect_ci_high"]],
                (),
                estimates={"effect_value": ("effect_ci_low", "effect_ci_high", 3)},
            )[col]
        kit.table(shown)
        kit.downloads(
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
    kit.table(
        kit.readable(
            theme_table[[t("research.survey.theme"), "n", "count", "share"]],
            ["count", "n"],
            shares={"share": None},
            keep=[t("research.survey.theme")],
        )
    )
    quoted = theme_table[theme_table["count"] >= THRESHOLD]
    if not quoted.empty:
        with st.expander(t("research.survey.quotes")):
            for theme in quoted.to_dict("records"):
                st.markdown(f"**{theme[t('research.survey.theme')]}**")
                for quote in theme["quotes"]:
                    st.text(quote)  # as text: never markdown or HTML
