"""The council report's section on the safety loop: who was accounted for and by which
source, where evacuees stayed (shelters, at home, in cars; walk-ins), and the individual
evacuation plans (coverage of the register, supporter confirmations, arrivals) — aggregates
only, small counts as 「5未満」."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.safety_merge import SOURCES
from bosai.i18n import t
from sql.city_config import CityConfig
from sql.queries.incidents import IncidentSummary

from .parts import Kpi, Section
from .tables import Column, ReportTable, count_text, share_text


def safety_section(
    engine: Engine, incident: IncidentSummary, city: CityConfig, lang: str
) -> tuple[Section, list[ReportTable]]:
    from compositions.safety_state import SafetyCache, build_safety_state

    at = incident.ended_at
    state = build_safety_state(engine, SafetyCache(), incident.id, city, as_of=at)
    counts, places, cover = state.counts, state.places, state.coverage
    section = Section("safety", t("safety.report.section", lang))
    section.intro.append(t("safety.unaccounted.rule", lang))
    plans = state.plans["status"].value_counts()
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
    by_source = accounted["source"].value_counts()
    sources = pd.DataFrame(
        {
            "source": [t(f"safety.source.{s}", lang) for s in SOURCES],
            "people": [int(by_source.get(s, 0)) for s in SOURCES],
        }
    )
    table = ReportTable(
        "safety_sources",
        t("safety.unaccounted.col.source", lang),
        sources,
        [
            Column("source", t("safety.unaccounted.col.source", lang)),
            Column("people", t("safety.kpi.accounted", lang), "count"),
        ],
        lang=lang,
    )
    tracking = pd.DataFrame(
        {
            "status": [
                t(f"safety.plans.status.{s}", lang)
                for s in ("arrived", "confirmed", "waiting", "escalated")
            ],
            "plans": [
                int(plans.get(s, 0)) for s in ("arrived", "confirmed", "waiting", "escalated")
            ],
        }
    )
    plan_table = ReportTable(
        "plan_tracking",
        t("safety.plans.tracking", lang),
        tracking,
        [
            Column("status", t("safety.plans.col.status", lang)),
            Column("plans", t("safety.plans.title", lang), "count"),
        ],
        lang=lang,
    )
    walk_ins = state.walk_ins
    section.notes.append(
        f"{t('safety.reception.walk_ins_here', lang)}: {count_text(walk_ins['people'], lang)}"
    )
    figures = ReportTable(
        "safety_figures",
        t("report.table.summary", lang),
        pd.DataFrame([{"label": k.label, "value": k.value, "detail": k.detail} for k in kpis]),
        [
            Column("label", t("report.col.item", lang)),
            Column("value", t("report.col.value", lang)),
            Column("detail", t("report.col.detail", lang)),
        ],
        lang=lang,
    )
    section.tables += [figures, table, plan_table]
    return section, [table, plan_table]
