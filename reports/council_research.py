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

import dataclasses
from collections.abc import Iterator
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
from compositions import Composition
from sql.queries import research
from sql.viewer import Viewer
from surveys.instrument import parse_instrument

from . import charts
from .charts import ChartImage
from .parts import Draw, Kpi, Progress, Section, chart_label, research_viewer
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
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
#: The drill questionnaire: its opt-in questions are read in the opt-in section.
DRILL_INSTRUMENT = "drill-2022"
OPTIN_QUESTIONS = ("optin_recognised", "optin_choice_clear", "optin_resistance", "optin_willing")
#: The subscale scores beside the number of people: column and label.
SCORE_COLUMNS = (
    ("mean", "research.common.mean"),
    ("sd", "research.common.sd"),
    ("alpha", "research.survey.alpha"),
    ("omega", "research.survey.omega"),
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


@dataclasses.dataclass
class _Part:
    """A section of the report and the tables it files in the appendix (every table the section
    shows, and some it does not)."""

    section: Section
    appendix: list[ReportTable] = dataclasses.field(default_factory=list)

    def show(self, table: ReportTable) -> None:
        """In the section and in the appendix."""
        self.section.tables.append(table)
        self.appendix.append(table)

    def file(self, table: ReportTable) -> None:
        """In the appendix only."""
        self.appendix.append(table)

    def empty_unless_shown(self, message: str) -> None:
        if not self.section.tables:
            self.section.empty = message


def drill_sections(
    engine: Engine,
    drill: dict[str, Any],
    viewer: Viewer,
    lang: str,
    draw: Draw,
    progress: Progress,
) -> tuple[list[Kpi], list[Section], list[ReportTable], list[str]]:
    """``(kpis, sections, tables, notes)`` of the drill, read as :func:`research_viewer` of
    ``viewer`` (aggregates only; see :mod:`reports.council`)."""
    viewer = research_viewer(viewer)
    drill_id = int(drill["id"])
    progress(0.05, t("report.progress.reading", lang))
    events = research.drill_events(engine, viewer, drill_id)
    evaluation = compositions.drill.evaluate(engine, viewer, drill_id, MINUTES)
    parts = [_drill_log(events, evaluation, lang, draw)]
    progress(0.2, t("report.progress.reading", lang))
    questionnaires, drill_responses = _questionnaires(engine, drill_id, lang, draw)
    parts.append(questionnaires)
    progress(0.3, t("report.progress.reading", lang))
    moment = drill["ended_at"] or drill["started_at"]
    parts.append(_optin(engine, viewer, moment, events, drill_responses, lang, draw))
    progress(0.4, t("report.progress.reading", lang))
    parts.append(_uiux(research.uiux_timings(engine), lang, draw))
    sections = [part.section for part in parts]
    appendix = [table for part in parts for table in part.appendix]
    return _drill_kpis(evaluation.details, lang), sections, appendix, []


# ------------------------------------------------------------------ the summary figures


def _stage_count(funnel: pd.DataFrame, stage: str) -> int:
    return int(funnel.loc[funnel["stage"] == stage, "count"].sum())


def _drill_kpis(result: dict[str, Any], lang: str) -> list[Kpi]:
    funnel = pd.DataFrame(result["funnel"])
    sent = _stage_count(funnel, "notification_sent")
    answered = _stage_count(funnel, "safety_answered")
    arrived = _stage_count(funnel, "arrived")
    return [
        Kpi(
            "participants",
            t("report.kpi.participants", lang),
            count_text(result["participants"], lang),
        ),
        Kpi("notified", t("report.kpi.notified", lang), count_text(sent, lang)),
        _reached_kpi("answered", answered, sent, lang),
        _reached_kpi("arrived", arrived, sent, lang),
        _register_kpi(pd.DataFrame(result["register_confirmed"]), lang),
    ]


def _reached_kpi(stage: str, count: int, sent: int, lang: str) -> Kpi:
    """People who reached ``stage``, and their share of those notified."""
    return Kpi(
        stage, t(f"report.kpi.{stage}", lang), count_text(count, lang), share_text(count, sent)
    )


def _register_kpi(register_rows: pd.DataFrame, lang: str) -> Kpi:
    """The register's people confirmed within 30 minutes."""
    by30 = register_rows[register_rows["minutes"] == 30]
    confirmed = int(by30["count"].iloc[0]) if len(by30) else 0
    total = int(by30["n"].iloc[0]) if len(by30) else 0
    return Kpi(
        "register30",
        t("report.kpi.register30", lang),
        share_text(confirmed, total) if len(by30) else "—",
        t(
            "report.kpi.register_detail",
            lang,
            confirmed=count_text(confirmed, lang),
            total=count_text(total, lang),
        ),
    )


# ------------------------------------------------------------------ the drill log


def _drill_log(events: pd.DataFrame, evaluation: Composition, lang: str, draw: Draw) -> _Part:
    """The funnel, the time to each stage and the register confirmed; the evacuation decisions."""
    part = _Part(Section("drill", t("report.section.drill", lang)))
    result = evaluation.details
    funnel = pd.DataFrame(result["funnel"])
    register_rows = pd.DataFrame(result["register_confirmed"])
    if events.empty:
        part.section.empty = t("report.empty.drill", lang)
    else:
        part.section.charts.append(_funnel_chart(funnel, lang, draw))
        part.section.charts.append(_reached_chart(result["time_to_event"][KM_STAGE], lang, draw))
        part.show(_funnel_table(funnel, lang))
        part.file(_times_table(result["time_to_event"], lang))
        part.show(_register_table(register_rows, lang))
    evacuation = evacuation_response_table(evaluation.tables["evacuation"], lang)
    if evacuation is not None:
        part.show(evacuation)
    return part


def _funnel_chart(funnel: pd.DataFrame, lang: str, draw: Draw) -> ChartImage:
    counts = funnel["count"].astype(int).tolist()
    return draw(
        "drill_funnel",
        t("report.chart.drill_funnel", lang),
        charts.bar_chart(
            [_stage(s, lang) for s in funnel["stage"]],
            charts.masked(counts, [is_small(c) for c in counts]),
            value_title=t("report.axis.people", lang),
            colours=OKABE_ITO["sky_blue"],
        ),
        t("report.caption.small_hidden", lang),
    )


def _reached_chart(entry: dict[str, Any], lang: str, draw: Draw) -> ChartImage:
    """The share who reached the Kaplan–Meier stage over the minutes, all and per group (the
    small groups left out)."""
    curves = {"all": entry["all"], **entry["groups"]}
    fig = charts.go.Figure()
    for k, (group, curve) in enumerate(curves.items()):
        if is_small(curve["n"]) or not curve["curve"]:
            continue
        fig.add_trace(_reached_trace(k, group, curve, lang))
    fig.update_layout(
        xaxis={"title": t("research.drill.minutes", lang), "rangemode": "tozero"},
        yaxis={
            "title": t("research.drill.reached", lang),
            "range": [0, 1.02],
            "tickformat": ".0%",
        },
    )
    return draw(
        "drill_km",
        t("report.chart.drill_km", lang),
        charts.styled(fig),
        t("report.caption.drill_km", lang),
    )


def _reached_trace(k: int, group: Any, curve: dict[str, Any], lang: str) -> Any:
    """One group's step line (the ``k``-th colour and dash), held to its follow-up's end."""
    km = pd.DataFrame(curve["curve"])
    end_min = max(curve.get("follow_up_min") or 0.0, float(km["time"].max()))
    times = [0.0, *km["time"], end_min]
    reached = [0.0, *(1 - km["survival"]), float(1 - km["survival"].iloc[-1])]
    return charts.go.Scatter(
        x=times,
        y=reached,
        mode="lines",
        name=f"{_group(group, lang)}（n={curve['n']}）",
        line={
            "shape": "hv",
            "width": 3,
            "color": GROUP_COLOURS[k % len(GROUP_COLOURS)],
            "dash": DASHES[k % len(DASHES)],
        },
    )


def _funnel_table(funnel: pd.DataFrame, lang: str) -> ReportTable:
    return ReportTable(
        "drill_funnel",
        t("report.table.drill_funnel", lang),
        funnel.assign(stage=[_stage(s, lang) for s in funnel["stage"]]),
        [
            Column("stage", t("report.col.stage", lang)),
            Column("count", t("report.col.people", lang), "count"),
            Column("share_of_sent", t("report.col.share_of_sent", lang), "share", basis="count"),
        ],
        lang=lang,
    )


def _times_table(time_to_event: dict[str, Any], lang: str) -> ReportTable:
    """Time to each stage after the first, all and per group."""
    rows = [
        _times_row(stage, group, curve, lang)
        for stage in STAGES[1:]
        for group, curve in {
            "all": time_to_event[stage]["all"],
            **time_to_event[stage]["groups"],
        }.items()
    ]
    return ReportTable(
        "drill_times",
        t("report.table.drill_times", lang),
        pd.DataFrame(rows),
        [
            Column("stage", t("report.col.stage", lang)),
            _group_column(lang),
            _people_column(lang),
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


def _times_row(stage: str, group: Any, curve: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "stage": _stage(stage, lang),
        "group": _group(group, lang),
        "n": curve["n"],
        "events": curve["events"],
        "median_min": curve["median_min"],
        **{f"by{m}": curve["share_by"][str(m)] for m in MINUTES},
    }


def _register_table(register_rows: pd.DataFrame, lang: str) -> ReportTable:
    return ReportTable(
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


# ------------------------------------------------------------------ questionnaires


def _questionnaires(
    engine: Engine, drill_id: int, lang: str, draw: Draw
) -> tuple[_Part, pd.DataFrame | None]:
    """Each questionnaire linked to the drill, and the drill questionnaire's answers (its
    opt-in questions are read in the opt-in section), or None."""
    part = _Part(Section("questionnaire", t("report.section.questionnaire", lang)))
    drill_responses: pd.DataFrame | None = None
    for inst, frame, instrument in _linked_questionnaires(engine, drill_id):
        if inst["id"] == DRILL_INSTRUMENT:
            drill_responses = frame
        _add_questionnaire(part, inst, frame, instrument, lang, draw)
    part.empty_unless_shown(t("report.empty.questionnaire", lang))
    return part, drill_responses


def _linked_questionnaires(
    engine: Engine, drill_id: int
) -> Iterator[tuple[dict, pd.DataFrame, Any]]:
    """``(instrument row, responses, parsed instrument)`` of each instrument with answers
    linked to the drill and a stored definition."""
    for inst in research.instruments(engine):
        frame = research.survey_responses(engine, inst["id"], drill_id)
        if frame.empty:
            continue
        definition = research.instrument_definition(engine, inst["id"])
        if definition is None:
            continue
        yield inst, frame, parse_instrument(definition)


def _localised(ja: Any, en: Any, lang: str) -> Any:
    """The Japanese text, or in English the English one when there is one."""
    return ja if lang == "ja" else (en or ja)


def _add_questionnaire(
    part: _Part,
    inst: dict[str, Any],
    frame: pd.DataFrame,
    instrument: Any,
    lang: str,
    draw: Draw,
) -> None:
    """The number of answers, the subscale scores (chart and table) and the choice answers."""
    summary = compositions.survey.summary(frame, instrument, n_boot=0, omega_boot=0).details
    title = _localised(inst["title_ja"], inst["title_en"], lang)
    part.section.intro.append(
        t("report.questionnaire.responses", lang, title=title, n=count_text(summary["n"], lang))
    )
    subscales = _subscale_rows(summary, lang)
    if len(subscales):
        part.section.charts.append(_subscales_chart(inst["id"], title, subscales, lang, draw))
        columns = _subscale_columns(lang)
        part.show(_questionnaire_table("subscales", inst["id"], title, subscales, columns, lang))
    choices = _choice_rows(summary, lang)
    if len(choices):
        columns = _choice_columns(lang)
        part.file(_questionnaire_table("choices", inst["id"], title, choices, columns, lang))


def _subscale_rows(summary: dict[str, Any], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "subscale": _localised(sub["label"], sub["label_en"], lang),
                "n": sub["n"],
                "mean": sub["mean"],
                "sd": sub["sd"],
                "alpha": sub["alpha"],
                "omega": sub["omega"],
            }
            for sub in summary["subscales"].values()
        ]
    )


def _subscales_chart(key: str, title: str, rows: pd.DataFrame, lang: str, draw: Draw) -> ChartImage:
    means = rows["mean"].tolist()
    return draw(
        f"subscales_{key}",
        t("report.chart.subscales", lang, title=title),
        charts.bar_chart(
            [chart_label(s) for s in rows["subscale"]],
            charts.masked(means, [is_small(n) for n in rows["n"]]),
            value_title=t("report.axis.mean_score", lang),
            colours=OKABE_ITO["bluish_green"],
        ),
        t("report.caption.subscales", lang),
    )


def _questionnaire_table(
    kind: str, key: str, title: str, rows: pd.DataFrame, columns: list[Column], lang: str
) -> ReportTable:
    """One questionnaire's table of ``kind`` (subscales, choices), keyed and titled by it."""
    return ReportTable(
        f"{kind}_{key}", t(f"report.table.{kind}", lang, title=title), rows, columns, lang=lang
    )


def _subscale_columns(lang: str) -> list[Column]:
    return [
        Column("subscale", t("research.survey.subscale", lang)),
        _people_column(lang),
        *[
            Column(name, t(label, lang), "number", basis="n", digits=2)
            for name, label in SCORE_COLUMNS
        ],
    ]


def _choice_rows(summary: dict[str, Any], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "item": _localised(item["text"], item["text_en"], lang),
                "option": _localised(option["label"], option["label_en"], lang),
                "n": item["n"],
                "count": option["count"],
                "share": option["share"],
            }
            for item in summary["choices"].values()
            for option in item["options"].values()
        ]
    )


def _choice_columns(lang: str) -> list[Column]:
    return [
        Column("item", t("research.survey.item", lang)),
        Column("option", t("research.survey.option", lang)),
        *_answer_columns(lang),
    ]


def _answer_columns(lang: str) -> list[Column]:
    """People who answered, how many chose this, and their share."""
    return [
        Column("n", t("report.col.answered", lang), "count"),
        Column("count", t("report.col.count", lang), "count"),
        Column("share", t("report.col.share", lang), "share", basis="count"),
    ]


# ------------------------------------------------------------------ opt-in


def _optin(
    engine: Engine,
    viewer: Viewer,
    moment: Any,
    events: pd.DataFrame,
    drill_responses: pd.DataFrame | None,
    lang: str,
    draw: Draw,
) -> _Part:
    """The participants' consent ledger at ``moment`` and the drill questionnaire's opt-in
    answers."""
    part = _Part(Section("optin", t("report.section.optin", lang)))
    people = sorted({int(c) for c in events["citizen_id"].dropna()}) if len(events) else []
    if people:
        ledger = compositions.optin.ledger(engine, viewer, moment, people)
        _add_ledger(part, ledger, len(people), lang, draw)
    if drill_responses is not None:
        answers = compositions.optin.questionnaire(drill_responses).details
        rows = _optin_answer_rows(answers, lang)
        if rows:
            part.show(_optin_answers_table(rows, lang))
    part.empty_unless_shown(t("report.empty.optin", lang))
    return part


def _add_ledger(part: _Part, ledger: Composition, people: int, lang: str, draw: Draw) -> None:
    """Who completed the opt-in, and the acceptance per data item and per share target."""
    by_item = ledger.tables["by_data_item"]
    by_target = ledger.tables["by_share_target"]
    part.section.intro.append(_optin_intro(ledger.tables["funnel"], people, lang))
    part.section.charts.append(_optin_chart(by_item, lang, draw))
    part.show(
        _acceptance_table(
            "optin_items",
            by_item,
            "data_item",
            "research.optin.items",
            "research.optin.data_item",
            lang,
        )
    )
    part.file(
        _acceptance_table(
            "optin_targets",
            by_target,
            "share_target",
            "research.optin.targets",
            "report.col.share_target",
            lang,
        )
    )


def _optin_intro(stages: pd.DataFrame, people: int, lang: str) -> str:
    completed = stages[stages["stage"] == "completed"]
    return t(
        "report.optin.intro",
        lang,
        n=count_text(people, lang),
        completed=share_text(int(completed["count"].iloc[0]), people) if len(completed) else "—",
    )


def _optin_chart(by_item: pd.DataFrame, lang: str, draw: Draw) -> ChartImage:
    shares = by_item["share"].tolist()
    return draw(
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


def _acceptance_table(
    key: str, frame: pd.DataFrame, code: str, codes: str, label: str, lang: str
) -> ReportTable:
    """Acceptance per ``code`` (labelled from the catalog's ``codes``) with its 95 % interval."""
    return ReportTable(
        key,
        t(f"report.table.{key}", lang),
        frame.assign(label=[t(f"{codes}.{c}", lang) for c in frame[code]]),
        [
            Column("label", t(label, lang)),
            _people_column(lang),
            Column("count", t("report.col.accepted", lang), "count"),
            Column("share", t("report.col.share", lang), "share", basis="count"),
            Column("ci_low", t("report.col.ci_low", lang), "share", basis="count"),
            Column("ci_high", t("report.col.ci_high", lang), "share", basis="count"),
        ],
        lang=lang,
    )


def _optin_answer_rows(answers: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The yes/no opt-in questions, when to be asked for consent, and whom to share with."""
    rows = [
        {"what": t(f"report.optin.q.{item}", lang), **answers[item]}
        for item in OPTIN_QUESTIONS
        if item in answers
    ]
    rows += [
        {"what": t(f"research.optin.timing_options.{code}", lang), **value}
        for code, value in answers.get("consent_timing", {}).items()
    ]
    rows += [
        {
            "what": t(
                "report.optin.q.share", lang, target=t(f"research.optin.targets.{code}", lang)
            ),
            **value,
        }
        for code, value in answers.get("share_targets", {}).items()
    ]
    return rows


def _optin_answers_table(rows: list[dict[str, Any]], lang: str) -> ReportTable:
    return ReportTable(
        "optin_questionnaire",
        t("report.table.optin_questionnaire", lang),
        pd.DataFrame(rows),
        [Column("what", t("report.col.question", lang)), *_answer_columns(lang)],
        note=t("report.optin.q.note", lang),
        lang=lang,
    )


# ------------------------------------------------------------------ UI/UX


def _uiux(timings: pd.DataFrame, lang: str, draw: Draw) -> _Part:
    """Median task times per method (chart), per method and group (appendix), and the paired
    comparisons of the methods."""
    part = _Part(Section("uiux", t("report.section.uiux", lang)))
    if timings.empty:
        part.section.empty = t("report.empty.uiux", lang)
        return part
    part.section.charts.append(_uiux_chart(uiux_summary(timings, by_group=False), lang, draw))
    part.file(_uiux_summary_table(uiux_summary(timings, by_group=True), lang))
    paired = pd.DataFrame(compositions.uiux.comparison(timings).details["paired"])
    if len(paired):
        part.show(_uiux_paired_table(paired, lang))
    return part


def _uiux_chart(overall: pd.DataFrame, lang: str, draw: Draw) -> ChartImage:
    tasks = list(dict.fromkeys(overall["task"]))
    series = {
        _method(method, lang): _median_series(overall, tasks, method)
        for method in ordered_methods(overall["method"])
    }
    return draw(
        "uiux_medians",
        t("report.chart.uiux", lang),
        charts.grouped_bar_chart(
            [chart_label(x) for x in tasks],
            series,
            value_title=t("research.uiux.seconds", lang),
        ),
        t("report.caption.uiux", lang),
    )


def _median_series(overall: pd.DataFrame, tasks: list[str], method: str) -> list[Any]:
    """One method's median seconds per task (missing: None; small groups masked)."""
    values, small = [], []
    for task in tasks:
        row = overall[(overall["task"] == task) & (overall["method"] == method)]
        values.append(
            float(row["median_s"].iloc[0])
            if len(row) and pd.notna(row["median_s"].iloc[0])
            else None
        )
        small.append(bool(len(row)) and is_small(int(row["n"].iloc[0])))
    return charts.masked(values, small)


def _uiux_summary_table(detail: pd.DataFrame, lang: str) -> ReportTable:
    return ReportTable(
        "uiux_summary",
        t("report.table.uiux", lang),
        detail.assign(
            method=[_method(m, lang) for m in detail["method"]],
            group=[_group(g, lang) for g in detail["group"]],
        ),
        [
            _task_column(lang),
            Column("method", t("research.uiux.method", lang)),
            _group_column(lang),
            _people_column(lang),
            Column("median_s", t("report.col.median_s", lang), "number", basis="n"),
            Column("mean_s", t("report.col.mean_s", lang), "number", basis="n"),
            Column("successes", t("research.uiux.successes", lang), "count"),
            Column("failures", t("research.uiux.failures", lang), "count"),
        ],
        note=t("report.note.uiux_outliers", lang),
        lang=lang,
    )


def _uiux_paired_table(paired: pd.DataFrame, lang: str) -> ReportTable:
    return ReportTable(
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
            _task_column(lang),
            _group_column(lang),
            Column("pair", t("research.uiux.pair", lang)),
            _people_column(lang),
            Column("hl_shift_s", t("research.uiux.shift", lang), "number", basis="n"),
            Column("ci_low", t("report.col.ci_low_s", lang), "number", basis="n"),
            Column("ci_high", t("report.col.ci_high_s", lang), "number", basis="n"),
            Column("p", t("research.common.p", lang), "number", basis="n", digits=4),
        ],
        note=t("report.method.uiux", lang),
        lang=lang,
    )


def _people_column(lang: str) -> Column:
    """The number of people a row is about (the basis of its shares, means and medians)."""
    return Column("n", t("report.col.people", lang), "count")


def _group_column(lang: str) -> Column:
    return Column("group", t("report.col.group", lang))


def _task_column(lang: str) -> Column:
    return Column("task", t("research.uiux.task", lang))


def _method(code: str, lang: str) -> str:
    key = f"research.method.{code}"
    label = t(key, lang)
    return code if label == key else label
