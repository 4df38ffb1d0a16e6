"""The drill half of the council report: the research workbench's findings, in aggregates.

From the drill's event log (funnel, time to each stage, register people confirmed), the
questionnaires linked to the drill (subscale scores, choice answers, opt-in answers), the
consent ledger of the drill's participants (acceptance per data item and share target) and the
UI/UX timing sessions (task times by method, paired comparisons) — with the same functions as
the research pages and ``bosai analyze`` (:mod:`analytics.drill_evaluation`,
:mod:`analytics.optin_acceptance`, :mod:`analytics.uiux_timing`, :mod:`surveys.scoring`).
The reads are pseudonymised and audited (:mod:`sql.queries.research`); only aggregates leave.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

import compositions.drill
import compositions.optin
import compositions.survey
import compositions.uiux
from analytics.drill_evaluation import STAGES
from analytics.small_cells import is_small
from analytics.uiux_timing import ordered_methods
from analytics.uiux_timing import summary as uiux_summary
from bosai.i18n import t
from bosai.palette import OKABE_ITO
from sql.queries import research
from sql.viewer import Viewer
from surveys.instrument import parse_instrument

from . import charts
from .parts import Draw, Kpi, Progress, Section, chart_label
from .tables import Column, ReportTable, count_text, share_text

MINUTES = (10, 30, 60)
KM_STAGE = "safety_answered"
GROUP_COLOURS = (
    OKABE_ITO["black"],
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["orange"],
    OKABE_ITO["reddish_purple"],
)


def _group(code: Any, lang: str) -> str:
    key = f"research.group.{code}"
    label = t(key, lang)
    return str(code) if label == key else label


def _stage(stage: str, lang: str) -> str:
    return t(f"research.drill.stages.{stage}", lang)


def evacuation_response_table(frame: pd.DataFrame, lang: str) -> ReportTable | None:
    """The drill's evacuation decisions: trigger → issuance → opened → safe (None when HQ
    decided nothing in the drill)."""
    if frame.empty:
        return None

    def col(key: str) -> str:
        return t(f"research.drill.evacuation_col.{key}", lang)

    decisions = [
        t(f"evacuation.level.{int(level)}", lang)
        if action == "issue"
        else t("evacuation.lifted", lang)
        for action, level in zip(frame["action"], frame["level"], strict=True)
    ]
    return ReportTable(
        "drill_evacuation",
        t("research.drill.evacuation", lang),
        frame.assign(decision=decisions),
        [
            Column("issued_at", col("issued_at"), "datetime"),
            Column("decision", col("decision")),
            Column("areas", col("areas"), "number", digits=0),
            Column("trigger_to_issue_min", col("trigger_to_issue_min"), "minutes"),
            Column("reached", col("reached"), "count"),
            Column("opened", col("opened"), "count"),
            Column(
                "issue_to_opened_median_min",
                col("issue_to_opened_median_min"),
                "minutes",
                basis="opened",
            ),
            Column("safe", col("safe"), "count"),
            Column(
                "issue_to_safe_median_min", col("issue_to_safe_median_min"), "minutes", basis="safe"
            ),
        ],
        note=t("research.drill.evacuation_note", lang),
        lang=lang,
    )


def drill_sections(
    engine: Engine,
    drill: dict[str, Any],
    viewer: Viewer,
    lang: str,
    draw: Draw,
    progress: Progress,
):
    """``(kpis, sections, tables, notes)`` of the drill (see :mod:`reports.council`)."""
    progress(0.05, t("report.progress.reading", lang))
    events = research.drill_events(engine, viewer, int(drill["id"]))
    start, end = drill["started_at"], drill["ended_at"]
    composition = compositions.drill.evaluate(engine, viewer, int(drill["id"]), MINUTES)
    result = composition.details
    participants = result["participants"]
    funnel_frame = pd.DataFrame(result["funnel"])
    sent = int(funnel_frame.loc[funnel_frame["stage"] == "notification_sent", "count"].sum())
    answered = int(funnel_frame.loc[funnel_frame["stage"] == "safety_answered", "count"].sum())
    arrived = int(funnel_frame.loc[funnel_frame["stage"] == "arrived", "count"].sum())
    register_rows = pd.DataFrame(result["register_confirmed"])
    by30 = register_rows[register_rows["minutes"] == 30]
    kpis = [
        Kpi("participants", t("report.kpi.participants", lang), count_text(participants, lang)),
        Kpi("notified", t("report.kpi.notified", lang), count_text(sent, lang)),
        Kpi(
            "answered",
            t("report.kpi.answered", lang),
            count_text(answered, lang),
            share_text(answered, sent),
        ),
        Kpi(
            "arrived",
            t("report.kpi.arrived", lang),
            count_text(arrived, lang),
            share_text(arrived, sent),
        ),
        Kpi(
            "register30",
            t("report.kpi.register30", lang),
            share_text(int(by30["count"].iloc[0]), int(by30["n"].iloc[0])) if len(by30) else "—",
            t(
                "report.kpi.register_detail",
                lang,
                confirmed=count_text(int(by30["count"].iloc[0]) if len(by30) else 0, lang),
                total=count_text(int(by30["n"].iloc[0]) if len(by30) else 0, lang),
            ),
        ),
    ]
    sections = []
    tables: list[ReportTable] = []

    # ---------------------------------------------------------------- the drill log
    section = Section("drill", t("report.section.drill", lang))
    if events.empty:
        section.empty = t("report.empty.drill", lang)
    else:
        counts = funnel_frame["count"].astype(int).tolist()
        section.charts.append(
            draw(
                "drill_funnel",
                t("report.chart.drill_funnel", lang),
                charts.bar_chart(
                    [_stage(s, lang) for s in funnel_frame["stage"]],
                    charts.masked(counts, [is_small(c) for c in counts]),
                    value_title=t("report.axis.people", lang),
                    colours=OKABE_ITO["sky_blue"],
                ),
                t("report.caption.small_hidden", lang),
            )
        )
        entry = result["time_to_event"][KM_STAGE]
        curves = {"all": entry["all"], **entry["groups"]}
        fig = charts.go.Figure()
        for k, (group, curve) in enumerate(curves.items()):
            if is_small(curve["n"]) or not curve["curve"]:
                continue
            km = pd.DataFrame(curve["curve"])
            end_min = max(curve.get("follow_up_min") or 0.0, float(km["time"].max()))
            times = [0.0, *km["time"], end_min]
            reached = [0.0, *(1 - km["survival"]), float(1 - km["survival"].iloc[-1])]
            fig.add_trace(
                charts.go.Scatter(
                    x=times,
                    y=reached,
                    mode="lines",
                    name=f"{_group(group, lang)}（n={curve['n']}）",
                    line={
                        "shape": "hv",
                        "width": 3,
                        "color": GROUP_COLOURS[k % len(GROUP_COLOURS)],
                        "dash": ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")[
                            k % 6
                        ],
                    },
                )
            )
        fig.update_layout(
            xaxis={"title": t("research.drill.minutes", lang), "rangemode": "tozero"},
            yaxis={
                "title": t("research.drill.reached", lang),
                "range": [0, 1.02],
                "tickformat": ".0%",
            },
        )
        section.charts.append(
            draw(
                "drill_km",
                t("report.chart.drill_km", lang),
                charts.styled(fig),
                t("report.caption.drill_km", lang),
            )
        )
        funnel_table = ReportTable(
            "drill_funnel",
            t("report.table.drill_funnel", lang),
            funnel_frame.assign(stage=[_stage(s, lang) for s in funnel_frame["stage"]]),
            [
                Column("stage", t("report.col.stage", lang)),
                Column("count", t("report.col.people", lang), "count"),
                Column(
                    "share_of_sent", t("report.col.share_of_sent", lang), "share", basis="count"
                ),
            ],
            lang=lang,
        )
        rows = []
        for stage in STAGES[1:]:
            entry = result["time_to_event"][stage]
            for group, curve in {"all": entry["all"], **entry["groups"]}.items():
                rows.append(
                    {
                        "stage": _stage(stage, lang),
                        "group": _group(group, lang),
                        "n": curve["n"],
                        "events": curve["events"],
                        "median_min": curve["median_min"],
                        **{f"by{m}": curve["share_by"][str(m)] for m in MINUTES},
                    }
                )
        tte = ReportTable(
            "drill_times",
            t("report.table.drill_times", lang),
            pd.DataFrame(rows),
            [
                Column("stage", t("report.col.stage", lang)),
                Column("group", t("report.col.group", lang)),
                Column("n", t("report.col.people", lang), "count"),
                Column("events", t("report.col.events", lang), "count"),
                Column("median_min", t("report.col.median_min", lang), "minutes", basis="n"),
                *[
                    Column(f"by{m}", t("report.col.share_by", lang, m=m), "share", basis="n")
                    for m in MINUTES
                ],
            ],
            note=t("report.method.drill_km", lang),
            lang=lang,
        )
        reg = ReportTable(
            "drill_register",
            t("report.table.drill_register", lang),
            register_rows,
            [
                Column("minutes", t("report.col.within_min", lang), "number", digits=0),
                Column("n", t("report.col.register_people", lang), "count"),
                Column("count", t("report.col.confirmed", lang), "count"),
                Column("share", t("report.col.share", lang), "share", basis="n"),
                Column("ci_low", t("report.col.ci_low", lang), "share", basis="n"),
                Column("ci_high", t("report.col.ci_high", lang), "share", basis="n"),
            ],
            lang=lang,
        )
        section.tables += [funnel_table, reg]
        tables += [funnel_table, tte, reg]
    evacuation = evacuation_response_table(composition.tables["evacuation"], lang)
    if evacuation is not None:
        section.tables.append(evacuation)
        tables.append(evacuation)
    sections.append(section)
    progress(0.2, t("report.progress.reading", lang))

    # ---------------------------------------------------------------- questionnaires
    section = Section("questionnaire", t("report.section.questionnaire", lang))
    drill_responses: pd.DataFrame | None = None
    for inst in research.instruments(engine):
        frame = research.survey_responses(engine, inst["id"], int(drill["id"]))
        if frame.empty:
            continue
        definition = research.instrument_definition(engine, inst["id"])
        if definition is None:
            continue
        instrument = parse_instrument(definition)
        if inst["id"] == "drill-2022":
            drill_responses = frame
        summary = compositions.survey.summary(frame, instrument, n_boot=0, omega_boot=0).details
        title = inst["title_ja"] if lang == "ja" else (inst["title_en"] or inst["title_ja"])
        section.intro.append(
            t("report.questionnaire.responses", lang, title=title, n=count_text(summary["n"], lang))
        )
        rows = [
            {
                "subscale": sub["label"] if lang == "ja" else (sub["label_en"] or sub["label"]),
                "n": sub["n"],
                "mean": sub["mean"],
                "sd": sub["sd"],
                "alpha": sub["alpha"],
                "omega": sub["omega"],
            }
            for sub in summary["subscales"].values()
        ]
        if rows:
            frame_rows = pd.DataFrame(rows)
            means = frame_rows["mean"].tolist()
            section.charts.append(
                draw(
                    f"subscales_{inst['id']}",
                    t("report.chart.subscales", lang, title=title),
                    charts.bar_chart(
                        [chart_label(s) for s in frame_rows["subscale"]],
                        charts.masked(means, [is_small(n) for n in frame_rows["n"]]),
                        value_title=t("report.axis.mean_score", lang),
                        colours=OKABE_ITO["bluish_green"],
                    ),
                    t("report.caption.subscales", lang),
                )
            )
            table = ReportTable(
                f"subscales_{inst['id']}",
                t("report.table.subscales", lang, title=title),
                frame_rows,
                [
                    Column("subscale", t("research.survey.subscale", lang)),
                    Column("n", t("report.col.people", lang), "count"),
                    Column("mean", t("research.common.mean", lang), "number", basis="n", digits=2),
                    Column("sd", t("research.common.sd", lang), "number", basis="n", digits=2),
                    Column(
                        "alpha", t("research.survey.alpha", lang), "number", basis="n", digits=2
                    ),
                    Column(
                        "omega", t("research.survey.omega", lang), "number", basis="n", digits=2
                    ),
                ],
                lang=lang,
            )
            section.tables.append(table)
            tables.append(table)
        choice_rows = []
        for item in summary["choices"].values():
            for option in item["options"].values():
                choice_rows.append(
                    {
                        "item": item["text"] if lang == "ja" else (item["text_en"] or item["text"]),
                        "option": option["label"]
                        if lang == "ja"
                        else (option["label_en"] or option["label"]),
                        "n": item["n"],
                        "count": option["count"],
                        "share": option["share"],
                    }
                )
        if choice_rows:
            table = ReportTable(
                f"choices_{inst['id']}",
                t("report.table.choices", lang, title=title),
                pd.DataFrame(choice_rows),
                [
                    Column("item", t("research.survey.item", lang)),
                    Column("option", t("research.survey.option", lang)),
                    Column("n", t("report.col.answered", lang), "count"),
                    Column("count", t("report.col.count", lang), "count"),
                    Column("share", t("report.col.share", lang), "share", basis="count"),
                ],
                lang=lang,
            )
            tables.append(table)
    if not section.tables:
        section.empty = t("report.empty.questionnaire", lang)
    sections.append(section)
    progress(0.3, t("report.progress.reading", lang))

    # ---------------------------------------------------------------- opt-in
    section = Section("optin", t("report.section.optin", lang))
    people = sorted({int(c) for c in events["citizen_id"].dropna()}) if len(events) else []
    if people:
        optin = compositions.optin.ledger(engine, viewer, end or start, people)
        by_item = optin.tables["by_data_item"]
        by_target = optin.tables["by_share_target"]
        stages = optin.tables["funnel"]
        completed = stages[stages["stage"] == "completed"]
        section.intro.append(
            t(
                "report.optin.intro",
                lang,
                n=count_text(len(people), lang),
                completed=share_text(int(completed["count"].iloc[0]), len(people))
                if len(completed)
                else "—",
            )
        )
        shares = by_item["share"].tolist()
        section.charts.append(
            draw(
                "optin_items",
                t("report.chart.optin_items", lang),
                charts.bar_chart(
                    [t(f"research.optin.items.{i}", lang) for i in by_item["data_item"]],
                    charts.masked(shares, [is_small(c) for c in by_item["count"]]),
                    value_title=t("report.axis.share", lang),
                    colours=OKABE_ITO["blue"],
                    percent=True,
                ),
                t("report.caption.optin_items", lang),
            )
        )
        columns = [
            Column("n", t("report.col.people", lang), "count"),
            Column("count", t("report.col.accepted", lang), "count"),
            Column("share", t("report.col.share", lang), "share", basis="count"),
            Column("ci_low", t("report.col.ci_low", lang), "share", basis="count"),
            Column("ci_high", t("report.col.ci_high", lang), "share", basis="count"),
        ]
        items_table = ReportTable(
            "optin_items",
            t("report.table.optin_items", lang),
            by_item.assign(
                label=[t(f"research.optin.items.{i}", lang) for i in by_item["data_item"]]
            ),
            [Column("label", t("research.optin.data_item", lang)), *columns],
            lang=lang,
        )
        targets_table = ReportTable(
            "optin_targets",
            t("report.table.optin_targets", lang),
            by_target.assign(
                label=[t(f"research.optin.targets.{s}", lang) for s in by_target["share_target"]]
            ),
            [Column("label", t("report.col.share_target", lang)), *columns],
            lang=lang,
        )
        section.tables.append(items_table)
        tables += [items_table, targets_table]
    if drill_responses is not None:
        answers = compositions.optin.questionnaire(drill_responses).details
        rows = []
        for item in ("optin_recognised", "optin_choice_clear", "optin_resistance", "optin_willing"):
            if item in answers:
                rows.append({"what": t(f"report.optin.q.{item}", lang), **answers[item]})
        for code, value in answers.get("consent_timing", {}).items():
            rows.append({"what": t(f"research.optin.timing_options.{code}", lang), **value})
        for code, value in answers.get("share_targets", {}).items():
            rows.append(
                {
                    "what": t(
                        "report.optin.q.share",
                        lang,
                        target=t(f"research.optin.targets.{code}", lang),
                    ),
                    **value,
                }
            )
        if rows:
            table = ReportTable(
                "optin_questionnaire",
                t("report.table.optin_questionnaire", lang),
                pd.DataFrame(rows),
                [
                    Column("what", t("report.col.question", lang)),
                    Column("n", t("report.col.answered", lang), "count"),
                    Column("count", t("report.col.count", lang), "count"),
                    Column("share", t("report.col.share", lang), "share", basis="count"),
                ],
                note=t("report.optin.q.note", lang),
                lang=lang,
            )
            section.tables.append(table)
            tables.append(table)
    if not section.tables:
        section.empty = t("report.empty.optin", lang)
    sections.append(section)
    progress(0.4, t("report.progress.reading", lang))

    # ---------------------------------------------------------------- UI/UX
    section = Section("uiux", t("report.section.uiux", lang))
    timings = research.uiux_timings(engine)
    if timings.empty:
        section.empty = t("report.empty.uiux", lang)
    else:
        result_ux = compositions.uiux.comparison(timings).details
        overall = uiux_summary(timings, by_group=False)
        tasks = list(dict.fromkeys(overall["task"]))
        methods = ordered_methods(overall["method"])
        series = {}
        for method in methods:
            values, small = [], []
            for task in tasks:
                row = overall[(overall["task"] == task) & (overall["method"] == method)]
                values.append(
                    float(row["median_s"].iloc[0])
                    if len(row) and pd.notna(row["median_s"].iloc[0])
                    else None
                )
                small.append(bool(len(row)) and is_small(int(row["n"].iloc[0])))
            series[_method(method, lang)] = charts.masked(values, small)
        section.charts.append(
            draw(
                "uiux_medians",
                t("report.chart.uiux", lang),
                charts.grouped_bar_chart(
                    [chart_label(x) for x in tasks],
                    series,
                    value_title=t("research.uiux.seconds", lang),
                ),
                t("report.caption.uiux", lang),
            )
        )
        detail = uiux_summary(timings, by_group=True)
        summary_table = ReportTable(
            "uiux_summary",
            t("report.table.uiux", lang),
            detail.assign(
                method=[_method(m, lang) for m in detail["method"]],
                group=[_group(g, lang) for g in detail["group"]],
            ),
            [
                Column("task", t("research.uiux.task", lang)),
                Column("method", t("research.uiux.method", lang)),
                Column("group", t("report.col.group", lang)),
                Column("n", t("report.col.people", lang), "count"),
                Column("median_s", t("report.col.median_s", lang), "number", basis="n"),
                Column("mean_s", t("report.col.mean_s", lang), "number", basis="n"),
                Column("successes", t("research.uiux.successes", lang), "count"),
                Column("failures", t("research.uiux.failures", lang), "count"),
            ],
            note=t("report.note.uiux_outliers", lang),
            lang=lang,
        )
        paired = pd.DataFrame(result_ux["paired"])
        tables.append(summary_table)
        if len(paired):
            paired_table = ReportTable(
                "uiux_paired",
                t("research.uiux.paired", lang),
                paired.assign(
                    pair=[
                        f"{_method(a, lang)} − {_method(b, lang)}"
                        for a, b in zip(paired["first"], paired["second"], strict=True)
                    ],
                    group=[_group(g, lang) for g in paired["group"]],
                ),
                [
                    Column("task", t("research.uiux.task", lang)),
                    Column("group", t("report.col.group", lang)),
                    Column("pair", t("research.uiux.pair", lang)),
                    Column("n", t("report.col.people", lang), "count"),
                    Column("hl_shift_s", t("research.uiux.shift", lang), "number", basis="n"),
                    Column("ci_low", t("report.col.ci_low_s", lang), "number", basis="n"),
                    Column("ci_high", t("report.col.ci_high_s", lang), "number", basis="n"),
                    Column("p", t("research.common.p", lang), "number", basis="n", digits=4),
                ],
                note=t("report.method.uiux", lang),
                lang=lang,
            )
            section.tables.append(paired_table)
            tables.append(paired_table)
    sections.append(section)
    return kpis, sections, tables, []


def _method(code: str, lang: str) -> str:
    key = f"research.method.{code}"
    label = t(key, lang)
    return code if label == key else label
