"""オプトインの受容 — opt-in acceptance: from the consent ledger (per data item and share target,
the funnel, by attribute, logistic regression, withdrawals) and from the drill questionnaire
(recognition, consent timing, share targets). Aggregates only; small cells suppressed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analytics.optin_acceptance import ledger_report, questionnaire_optin
from analytics.small_cells import THRESHOLD, suppress, suppress_tidy
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from bosai.vocab import DATA_ITEMS, SHARE_TARGETS
from dashboard import widgets
from dashboard.context import current
from sql.queries import research

TOKYO = ZoneInfo("Asia/Tokyo")
ctx = current()
t = ctx.t
st.title(t("research.optin.title"))
st.caption(t("research.common.aggregates_only"))


@st.cache_data(ttl=600, show_spinner=False)
def ledger_aggregates(database_url: str, role: str, subject: str, day: str) -> dict:
    """The ledger report for one day (aggregates only; the pseudonymised rows are read, audited
    and dropped inside)."""
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    viewer = ctx.viewer
    at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), TOKYO)
    ledger = research.consent_ledger(engine, viewer)
    attributes = research.citizen_attributes(engine, viewer, at.date())
    return ledger_report(
        ledger,
        attributes,
        attributes["citizen_id"].tolist(),
        at,
        items=list(DATA_ITEMS),
        targets=list(SHARE_TARGETS),
    )


@st.cache_data(ttl=300, show_spinner=False)
def questionnaire_aggregates(database_url: str) -> dict | None:
    from dashboard.data import engine_for

    engine = engine_for(database_url, "aggregate")
    if research.instrument_definition(engine, "drill-2022") is None:
        return None
    return questionnaire_optin(research.survey_responses(engine, "drill-2022"))


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
    "attribute": "research.common.attribute",
    "level": "research.common.group",
    "term": "research.optin.term",
    "odds_ratio": "research.optin.odds_ratio",
}


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The display table with its column names in the session's language."""
    return frame.rename(columns={k: t(v) for k, v in HEADERS.items() if k in frame.columns})


def group_label(code: str) -> str:
    key = f"research.group.{code}"
    label = t(key)
    return code if label == key else label


def table(frame: pd.DataFrame) -> None:
    st.dataframe(headers(frame), hide_index=True)


def downloads(frame: pd.DataFrame, stem: str, note: str) -> None:
    widgets.tidy_downloads(t, frame, stem, note)


def share_chart(frame: pd.DataFrame, label: str, colour: str) -> go.Figure:
    ok = frame[(frame["count"] >= THRESHOLD) | (frame["count"] == 0)]
    fig = go.Figure(
        go.Bar(
            x=ok["share"],
            y=ok[label],
            orientation="h",
            marker_color=colour,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ok["ci_high"] - ok["share"],
                "arrayminus": ok["share"] - ok["ci_low"],
            },
            text=[f"{s:.1%}" for s in ok["share"]],
        )
    )
    fig.update_layout(
        height=80 + 40 * len(ok),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"range": [0, 1], "tickformat": ".0%", "title": t("research.common.share")},
    )
    return fig


ledger_tab, questionnaire_tab = st.tabs(
    [t("research.optin.ledger"), t("research.optin.questionnaire")]
)
proportion_cols = ["share", "ci_low", "ci_high"]

with ledger_tab:
    day = st.date_input(
        t("research.optin.at", time=""), dt.datetime.now(TOKYO).date(), key="optin_day"
    )
    report = ledger_aggregates(ctx.database_url, ctx.viewer.role, ctx.viewer.subject, str(day))
    note = "\n".join(f"{k}: {v}" for k, v in report["method"].items())
    at = dt.datetime.fromisoformat(report["at"])
    st.caption(t("research.optin.at", time=format_datetime(at, ctx.lang, era_style=True)))
    st.metric(t("research.optin.invited"), f"{report['invited']:,}")

    for key, by, colour in (
        ("by_data_item", "data_item", OKABE_ITO["blue"]),
        ("by_share_target", "share_target", OKABE_ITO["orange"]),
    ):
        st.subheader(t(f"research.optin.{'by_item' if by == 'data_item' else 'by_target'}"))
        frame = pd.DataFrame(report[key])
        vocab = "items" if by == "data_item" else "targets"
        label = t("research.optin.data_item") if by == "data_item" else t("research.common.group")
        frame[label] = [t(f"research.optin.{vocab}.{v}") for v in frame[by]]
        st.plotly_chart(share_chart(frame, label, colour), width="stretch")
        table(
            suppress(frame, ["n", "count"], proportion_cols, lang=ctx.lang, basis="count").drop(
                columns=by
            )
        )
        downloads(
            suppress_tidy(frame, ["n", "count"], proportion_cols, basis="count"),
            f"optin_{by}",
            note,
        )

    st.subheader(t("research.optin.funnel"))
    funnel = pd.DataFrame(report["funnel"])

    def stage_label(stage: str) -> str:
        if stage.startswith("item:"):
            return t(f"research.optin.items.{stage[5:]}")
        return t(f"research.optin.stages.{stage}")

    funnel[t("research.optin.stage")] = funnel["stage"].map(stage_label)
    visible = funnel[(funnel["count"] >= THRESHOLD) | (funnel["count"] == 0)]
    # Items are asked side by side, not one after another: bars, not a funnel shape.
    fig = go.Figure(
        go.Bar(
            x=visible["count"],
            y=visible[t("research.optin.stage")],
            orientation="h",
            marker_color=[
                OKABE_ITO["blue"] if s.startswith("item:") else OKABE_ITO["sky_blue"]
                for s in visible["stage"]
            ],
            text=[
                f"{c:,}（{p:.1%}）"
                for c, p in zip(visible["count"], visible["share_of_invited"], strict=True)
            ],
        )
    )
    fig.update_layout(yaxis={"autorange": "reversed"})
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    st.plotly_chart(fig, width="stretch")
    downloads(
        suppress_tidy(funnel, ["count"], ["share_of_invited", "share_of_previous"]),
        "optin_funnel",
        note,
    )

    st.subheader(t("research.optin.by_attribute"))
    item = st.selectbox(
        t("research.optin.data_item"),
        list(DATA_ITEMS),
        index=list(DATA_ITEMS).index("location"),
        format_func=lambda i: t(f"research.optin.items.{i}"),
        key="optin_attribute_item",
    )
    parts = []
    for attribute, rows in report["by_attribute"].get(item, {}).items():
        part = pd.DataFrame(rows).rename(columns={attribute: "level"})
        part["level"] = part["level"].map(group_label)
        part.insert(0, "attribute", attribute)
        parts.append(part)
    if parts:
        by_attribute = pd.concat(parts, ignore_index=True)
        by_attribute["attribute"] = [
            t(f"research.survey.attribute.{a}") for a in by_attribute["attribute"]
        ]
        table(suppress(by_attribute, ["n", "count"], proportion_cols, lang=ctx.lang))
        downloads(
            suppress_tidy(by_attribute, ["n", "count"], proportion_cols),
            f"optin_{item}_by_attribute",
            note,
        )
    model = report["logit"].get(item, {})
    st.markdown(f"**{t('research.optin.logit')}**")
    if model.get("note"):
        st.caption(model["note"])
    elif model.get("coefficients"):
        coefficients = pd.DataFrame(model["coefficients"])
        table(
            coefficients[["term", "odds_ratio", "or_ci_low", "or_ci_high", "p"]].rename(
                columns={
                    "term": t("research.optin.term"),
                    "odds_ratio": t("research.optin.odds_ratio"),
                }
            )
        )
        st.caption(f"n = {model['n']:,}; {report['method']['logit']}")

    withdrawals = pd.DataFrame(report["withdrawals"])
    if not withdrawals.empty:
        st.subheader(t("research.optin.withdrawals"))
        shown = withdrawals[(withdrawals["withdrawals"] >= THRESHOLD)]
        fig = px.bar(
            shown, x="period", y="withdrawals", color_discrete_sequence=[OKABE_ITO["vermillion"]]
        )
        fig.update_layout(height=280, margin={"l": 0, "r": 0, "t": 10, "b": 0})
        st.plotly_chart(fig, width="stretch")
        downloads(
            suppress_tidy(withdrawals, ["withdrawals", "citizens"], [], basis="withdrawals"),
            "optin_withdrawals",
            note,
        )

with questionnaire_tab:
    answers = questionnaire_aggregates(ctx.database_url)
    if answers is None:
        st.info(t("research.optin.no_questionnaire"))
    else:
        st.metric(t("research.survey.responses"), f"{answers['n']:,}")
        sections = []
        for key, codes, prefix, colour in (
            ("consent_timing", ("first_only", "each_time"), "timing", OKABE_ITO["reddish_purple"]),
            (
                "share_targets",
                tuple(answers.get("share_targets", {})),
                "share_targets",
                OKABE_ITO["bluish_green"],
            ),
        ):
            if key not in answers:
                continue
            frame = pd.DataFrame([{"option": c, **answers[key][c]} for c in codes])
            label = t("research.survey.option")
            vocab = "timing_options" if key == "consent_timing" else "targets"
            frame[label] = [t(f"research.optin.{vocab}.{c}") for c in frame["option"]]
            st.subheader(t(f"research.optin.{prefix}"))
            st.plotly_chart(share_chart(frame, label, colour), width="stretch")
            table(suppress(frame, ["n", "count"], proportion_cols, lang=ctx.lang, basis="count"))
            frame.insert(0, "question", key)
            sections.append(frame)
        recognition = [
            {"question": k, "option": "agree_4_5", **answers[k]}
            for k in ("optin_recognised", "optin_choice_clear", "optin_resistance", "optin_willing")
            if k in answers
        ]
        if recognition:
            st.subheader(t("research.optin.recognition"))
            frame = pd.DataFrame(recognition)
            table(
                suppress(
                    frame, ["n", "count"], [*proportion_cols, "mean"], lang=ctx.lang, basis="count"
                )
            )
            sections.append(frame)
        if sections:
            tidy = pd.concat(sections, ignore_index=True)
            tidy = tidy[
                [
                    c
                    for c in (
                        "question",
                        "option",
                        "n",
                        "count",
                        "share",
                        "ci_low",
                        "ci_high",
                        "mean",
                    )
                    if c in tidy
                ]
            ]
            downloads(
                suppress_tidy(
                    tidy,
                    ["n", "count"],
                    [c for c in ("share", "ci_low", "ci_high", "mean") if c in tidy],
                    basis="count",
                ),
                "optin_questionnaire",
                "drill-2022 questionnaire; shares with Wilson 95% intervals; agreement = answer 4 or 5",
            )
