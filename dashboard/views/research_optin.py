"""オプトインの受容 — opt-in acceptance: from the consent ledger (per data item and share target,
the funnel, by attribute, logistic regression, withdrawals) and from the drill questionnaire
(recognition, consent timing, share targets). Aggregates only; small cells suppressed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.small_cells import THRESHOLD, suppress_tidy
from bosai.jpdate import format_datetime
from bosai.palette import OKABE_ITO
from bosai.vocab import DATA_ITEMS
from dashboard.context import current
from dashboard.research_kit import Kit, share_bars

TOKYO = ZoneInfo("Asia/Tokyo")
ctx = current()
t = ctx.t
st.title(t("research.optin.title"))
st.caption(t("research.common.aggregates_only"))


@st.cache_data(ttl=600, show_spinner=False)
def ledger_aggregates(database_url: str, role: str, subject: str, day: str):
    """The ledger report at the end of one day in Japan (aggregates only; the pseudonymised
    rows are read, audited and dropped inside)."""
    from compositions.optin import ledger
    from dashboard.data import engine_for

    at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), TOKYO)
    return ledger(engine_for(database_url, "aggregate"), ctx.viewer, at)


@st.cache_data(ttl=300, show_spinner=False)
def questionnaire_aggregates(database_url: str):
    from compositions.optin import questionnaire_from_database
    from dashboard.data import engine_for

    return questionnaire_from_database(engine_for(database_url, "aggregate"))


kit = Kit(t, ctx.lang)
SHARES = {"share": ("ci_low", "ci_high")}


def share_chart(frame: pd.DataFrame, label: str, colour: str) -> go.Figure:
    ok = frame[(frame["count"] >= THRESHOLD) | (frame["count"] == 0)]
    fig = go.Figure(share_bars(ok, label, colour))
    fig.update_layout(
        height=80 + 40 * len(ok),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"range": [0, 1], "tickformat": ".0%", "title": t("research.common.share")},
        yaxis={"title": ""},
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
    composition = ledger_aggregates(ctx.database_url, ctx.viewer.role, ctx.viewer.subject, str(day))
    report, note = composition.details, composition.note()
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
        kit.table(
            kit.readable(
                frame.drop(columns=by), ["n", "count"], basis="count", shares=SHARES, keep=[label]
            )
        )
        kit.downloads(
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
    fig.update_layout(
        yaxis={"autorange": "reversed", "title": ""},
        xaxis={"title": t("research.common.count")},
        height=420,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
    )
    st.plotly_chart(fig, width="stretch")
    kit.downloads(
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
    by_attribute = composition.tables["by_attribute"]
    by_attribute = by_attribute[by_attribute["data_item"] == item].drop(columns="data_item")
    if not by_attribute.empty:
        shown = by_attribute.assign(
            attribute=by_attribute["attribute"].map(kit.attribute),
            level=by_attribute["level"].map(kit.label),
        )
        kit.table(kit.readable(shown, ["n", "count"], shares=SHARES, keep=["attribute", "level"]))
        kit.downloads(
            suppress_tidy(by_attribute, ["n", "count"], proportion_cols),
            f"optin_{item}_by_attribute",
            note,
        )
    model = report["logit"].get(item, {})
    st.markdown(f"**{t('research.optin.logit')}**")
    logit = composition.tables["logit"]
    logit = logit[logit["data_item"] == item]
    if logit.empty:
        st.caption(t("research.optin.logit_unavailable"))
    else:
        terms = logit[logit["attribute"] != "const"]
        shown = pd.DataFrame(
            {
                "term": [
                    kit.term(a, lv)
                    for a, lv in zip(terms["attribute"], terms["level"], strict=True)
                ],
                "reference": [kit.label(r) for r in terms["reference"]],
                "odds_ratio": terms["odds_ratio"],
                "or_ci_low": terms["or_ci_low"],
                "or_ci_high": terms["or_ci_high"],
                "p": terms["p"],
            }
        )
        kit.table(
            kit.readable(
                shown,
                counts=(),
                estimates={"odds_ratio": ("or_ci_low", "or_ci_high", 2)},
                keep=["term", "reference"],
            ),
            {"reference": t("research.optin.reference")},
        )
        kit.downloads(logit.reset_index(drop=True), f"optin_{item}_logit", note)
        st.caption(t("research.optin.logit_note", n=f"{model.get('n', 0):,}"))

    withdrawals = composition.tables["withdrawals"]
    if not withdrawals.empty:
        st.subheader(t("research.optin.withdrawals"))
        shown = withdrawals[withdrawals["withdrawals"] >= THRESHOLD]
        days = [dt.date.fromisoformat(str(d)) for d in shown["day"]]
        fig = go.Figure(
            go.Bar(
                x=[f"{d.month}月{d.day}日" if ctx.lang == "ja" else d.isoformat() for d in days],
                y=shown["withdrawals"],
                marker_color=OKABE_ITO["vermillion"],
            )
        )
        fig.update_layout(
            height=280,
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            xaxis={"type": "category", "title": t("research.optin.day")},
            yaxis={"title": t("research.optin.withdrawals_count"), "rangemode": "tozero"},
        )
        st.plotly_chart(fig, width="stretch")
        kit.downloads(
            suppress_tidy(withdrawals, ["withdrawals", "citizens"], [], basis="withdrawals"),
            "optin_withdrawals",
            note,
        )

with questionnaire_tab:
    answered = questionnaire_aggregates(ctx.database_url)
    answers = None if answered is None else answered.details
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
            kit.table(
                kit.readable(
                    frame.drop(columns="option"),
                    ["n", "count"],
                    basis="count",
                    shares=SHARES,
                    keep=[label],
                )
            )
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
            shown = frame.drop(columns="option").assign(
                question=[t(f"report.optin.q.{q}") for q in frame["question"]]
            )
            kit.table(
                kit.readable(
                    shown,
                    ["n", "count"],
                    basis="count",
                    shares=SHARES,
                    estimates={"mean": 2},
                    keep=["question"],
                ),
                {"question": t("research.optin.question")},
            )
            st.caption(t("report.optin.q.note"))
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
            kit.downloads(
                suppress_tidy(
                    tidy,
                    ["n", "count"],
                    [c for c in ("share", "ci_low", "ci_high", "mean") if c in tidy],
                    basis="count",
                ),
                "optin_questionnaire",
                answered.note(),
            )
