"""The council report's section on evacuation information (避難情報, issue 17): the timeline
of what was issued and lifted, in which areas, how many people live there and how many
minutes passed from the trigger (the river reaching its threshold, a warning) to the
decision — aggregates only. The opted-in citizens' counts below 5 show as 「5未満」
(:mod:`analytics.small_cells`); all residents by the city's counts are published statistics
(public aggregates) and are shown as the city gave them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from bosai.i18n import t
from sql.queries.incidents import IncidentSummary
from sql.viewer import Viewer

from . import evacuation_parts
from .parts import Section, report_viewer
from .tables import Column, ReportTable


def _decision(action: str, level, lang: str) -> str:
    if action == "lift" or level is None or pd.isna(level):
        return t("evacuation.lifted", lang)
    return t(f"evacuation.level.{int(level)}", lang)


def timeline_table(decisions: pd.DataFrame, lang: str) -> ReportTable:
    """The decisions as a report table (one row per decision)."""
    sep = "、" if lang == "ja" else ", "
    names = "areas_en" if lang == "en" else "areas_ja"
    frame = pd.DataFrame(
        {
            "issued_at": decisions["issued_at"],
            "decision": [
                _decision(a, lv, lang)
                for a, lv in zip(decisions["action"], decisions["level"], strict=True)
            ],
            "areas": [sep.join(a) for a in decisions[names]],
            # The city's counts are public statistics: no small-counts rule (a text column).
            "residents": [
                evacuation_parts.city_counts_text(c, lang, labelled=False)
                for c in decisions["residents"]
            ],
            "people": decisions["people"],
            "minutes": decisions["minutes_from_trigger"].astype("float"),
            "exercise": [
                t("report.evacuation.exercise", lang) if x else "" for x in decisions["is_exercise"]
            ],
        }
    )
    return ReportTable(
        "evacuation",
        t("report.table.evacuation", lang),
        frame,
        [
            Column("issued_at", t("report.col.time", lang), "datetime"),
            Column("decision", t("report.col.evacuation_decision", lang)),
            Column("areas", t("report.col.evacuation_areas", lang)),
            Column("residents", t("evacuation.counts.report_residents", lang)),
            Column("people", t("evacuation.counts.report_opted_in", lang), "count"),
            Column("minutes", t("report.col.minutes_from_trigger", lang), "minutes", digits=0),
            Column("exercise", t("report.col.exercise", lang)),
        ],
        note=t("report.evacuation.note", lang),
        lang=lang,
    )


def evacuation_section(
    engine: Engine, incident: IncidentSummary, viewer: Viewer, lang: str
) -> tuple[Section, list[ReportTable]]:
    """The section (figures and the timeline) and its appendix table."""
    section = Section("evacuation", t("report.section.evacuation", lang))
    decisions = evacuation_parts.timeline(engine, incident.id, report_viewer(viewer))
    if decisions.empty:
        section.empty = t("report.empty.evacuation", lang)
        return section, []
    issued = decisions[decisions["action"] == "issue"]
    minutes = pd.to_numeric(issued["minutes_from_trigger"], errors="coerce").dropna()
    colon = "：" if lang == "ja" else ": "
    lifted = int((decisions["action"] == "lift").sum())
    median = f"{minutes.median():,.0f}" if len(minutes) else "—"
    section.intro = [
        f"{t('report.kpi.evacuation_issued', lang)}{colon}{len(issued):,}　"
        f"{t('report.kpi.evacuation_lifted', lang)}{colon}{lifted:,}",
        f"{t('report.kpi.evacuation_minutes', lang)}{colon}{median}"
        f"（{t('report.kpi.evacuation_minutes_detail', lang, n=len(minutes))}）"
        if lang == "ja"
        else f"{t('report.kpi.evacuation_minutes', lang)}{colon}{median} "
        f"({t('report.kpi.evacuation_minutes_detail', lang, n=len(minutes))})",
    ]
    table = timeline_table(decisions, lang)
    section.tables.append(table)
    return section, [table]
