"""The council report's section on the safety loop: who was accounted for and by which
source, where evacuees stayed (shelters, at home, in cars; walk-ins), and the individual
evacuation plans (coverage of the register, supporter confirmations, arrivals) — aggregates
only, small counts as 「5未満」."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.safety_merge import SOURCES
from bosai.i18n import t
from sql.city_config import CityConfig
from sql.queries.incidents import IncidentSummary

from .parts import Kpi, Section, kpi_table
from .tables import Column, ReportTable, count_text, share_text

#: The plan tracking table's rows, in order.
PLAN_STATUSES = ("arrived", "confirmed", "waiting", "escalated")


def safety_section(
    engine: Engine, incident: IncidentSummary, city: CityConfig, lang: str
) -> tuple[Section, list[ReportTable]]:
    from compositions.safety_state import SafetyCache, build_safety_state

    at = incident.ended_at
    state = build_safety_state(engine, SafetyCache(), incident.id, city, as_of=at)
    counts, places, cover = state.counts, state.places, state.coverage
    section = Section("safety", t("safety.report.section", lang))
    section.intro.append(t("safety.unaccounted.rule", lang))
    kpis = [
        Kpi(
            "accounted",
            t("safety.kpi.accounted", lang),
            count_text(counts["accounted"], lang),
            share_text(counts["accounted"], counts["people"]),
        ),
        Kpi(
            "unaccounted",
            t("safety.kpi.unaccounted", lang),
            count_text(counts["unaccounted"], lang),
            t("safety.kpi.register_unaccounted", lang)
            + " "
            + count_text(counts["register_unaccounted"], lang),
        ),
        Kpi(
            "places",
            t("safety.kpi.at_shelters", lang),
            count_text(places["shelter"], lang),
            f"{t('safety.kpi.at_home', lang)} {count_text(places['home'], lang)}・"
            f"{t('safety.kpi.in_car', lang)} {count_text(places['car'], lang)}",
        ),
        Kpi(
            "plans",
            t("safety.plans.coverage", lang),
            share_text(cover["with_plan"], cover["register"]),
            t(
                "safety.plans.coverage_value",
                lang,
                with_plan=count_text(cover["with_plan"], lang),
                register=count_text(cover["register"], lang),
            ),
        ),
    ]
    accounted = state.rows[state.rows["state"] == "safe"]
    table = _counts_table(
        "safety_sources",
        t("safety.unaccounted.col.source", lang),
        accounted["source"].value_counts(),
        SOURCES,
        "safety.source",
        Column("source", t("safety.unaccounted.col.source", lang)),
        Column("people", t("safety.kpi.accounted", lang), "count"),
        lang,
    )
    plan_table = _counts_table(
        "plan_tracking",
        t("safety.plans.tracking", lang),
        state.plans["status"].value_counts(),
        PLAN_STATUSES,
        "safety.plans.status",
        Column("status", t("safety.plans.col.status", lang)),
        Column("plans", t("safety.plans.title", lang), "count"),
        lang,
    )
    walk_ins = state.walk_ins
    section.notes.append(
        f"{t('safety.reception.walk_ins_here', lang)}: {count_text(walk_ins['people'], lang)}"
    )
    figures = kpi_table("safety_figures", kpis, lang)
    section.tables += [figures, table, plan_table]
    return section, [table, plan_table]


def _counts_table(
    key: str,
    title: str,
    counts: pd.Series,
    codes: Sequence[str],
    labels: str,
    label: Column,
    count: Column,
    lang: str,
) -> ReportTable:
    """How many per code, in the order of ``codes`` (0 when absent from ``counts``), each code
    labelled from the catalog's ``labels``."""
    frame = pd.DataFrame(
        {
            label.key: [t(f"{labels}.{code}", lang) for code in codes],
            count.key: [int(counts.get(code, 0)) for code in codes],
        }
    )
    return ReportTable(key, title, frame, [label, count], lang=lang)
