"""The incident half of the council report: summary figures, sections with charts and maps,
appendix tables — from :class:`reports.council_figures.IncidentFigures`.

Charts are handed to ``draw`` (rendered later, all at once, by :mod:`reports.council`); tables
are :class:`reports.tables.ReportTable` (small cells suppressed when written).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics.small_cells import hides, is_small
from bosai.i18n import t
from bosai.jpdate import jst_naive
from bosai.palette import OKABE_ITO, STATUS_COLOURS, STATUS_ORDER, colour
from bosai.vocab import RESCUE_PRIORITIES
from sql.city_config import CityConfig
from sql.queries.incidents import IncidentSummary
from sql.viewer import Viewer

from . import charts
from .council_evacuation import evacuation_section
from .council_figures import MAP_RESOLUTION, IncidentFigures, incident_figures
from .council_safety import safety_section
from .parts import Draw, Kpi, Progress, Section, chart_label, kpi_table, moment_text
from .tables import Column, ReportTable, count_text, share_text

TOP_SHELTERS = 15
#: Shelters listed in the PDF/HTML appendix (highest peak first); the workbook lists all.
PAGE_SHELTERS = 60
TABLE_EVERY = 4


def _kpis(fig: IncidentFigures, lang: str) -> list[Kpi]:
    final = fig.final
    rescue_all = fig.rescue_summary.iloc[0]
    reg = fig.register_final
    notified = (
        int(fig.notifications["recipient_count"].fillna(0).sum()) if len(fig.notifications) else 0
    )
    peak = fig.peak
    assign = rescue_all["assignment_median_min"]
    resolve = rescue_all["resolution_median_min"]
    small_rescue = is_small(rescue_all["assignment_n"])
    minutes = "—" if small_rescue or pd.isna(assign) else f"{assign:.0f}"
    minutes_resolved = (
        "—" if is_small(rescue_all["resolution_n"]) or pd.isna(resolve) else f"{resolve:.0f}"
    )
    return [
        Kpi("citizens", t("report.kpi.citizens", lang), count_text(fig.citizens, lang)),
        Kpi(
            "reached",
            t("report.kpi.reached", lang),
            count_text(fig.reached["delivered"], lang),
            t(
                "report.kpi.reached_detail",
                lang,
                notices=len(fig.notifications),
                recipients=count_text(notified, lang),
                opened=count_text(fig.reached["opened"], lang),
            ),
        ),
        Kpi(
            "reported",
            t("report.kpi.reported", lang),
            count_text(final.get("reported", 0), lang),
            share_text(final.get("reported", 0), fig.citizens),
        ),
        Kpi(
            "confirmed",
            t("report.kpi.confirmed", lang),
            count_text(final.get("confirmed", 0), lang),
            share_text(final.get("confirmed", 0), fig.citizens),
        ),
        Kpi(
            "evacuated",
            t("report.kpi.evacuated", lang),
            count_text(fig.evacuated, lang),
            t("report.kpi.evacuated_detail", lang),
        ),
        Kpi(
            "rescue",
            t("report.kpi.rescue", lang),
            count_text(int(rescue_all["requests"]), lang),
            t(
                "report.kpi.rescue_detail",
                lang,
                resolved=count_text(int(rescue_all["resolved"]), lang),
                open=count_text(int(rescue_all["open"]), lang),
            ),
        ),
        Kpi(
            "response",
            t("report.kpi.response", lang),
            t("report.kpi.minutes", lang, m=minutes),
            t("report.kpi.response_detail", lang, m=minutes_resolved),
        ),
        Kpi(
            "shelters",
            t("report.kpi.shelters", lang),
            f"{fig.shelters_used:,}",
            t("report.kpi.shelters_detail", lang),
        ),
        Kpi(
            "peak",
            t("report.kpi.peak", lang),
            count_text(peak["head_count"], lang),
            moment_text(peak["at"].to_pydatetime(), lang) if peak["at"] is not None else "—",
        ),
        Kpi(
            "register",
            t("report.kpi.register", lang),
            share_text(reg.get("confirmed", 0), fig.register_total),
            t(
                "report.kpi.register_detail",
                lang,
                confirmed=count_text(reg.get("confirmed", 0), lang),
                total=count_text(fig.register_total, lang),
            ),
        ),
    ]


def _status_section(
    fig: IncidentFigures, lang: str, draw: Draw
) -> tuple[Section, list[ReportTable]]:
    section = Section("status", t("report.section.status", lang))
    final = fig.final
    if fig.status_curve.empty or not final.get("reported"):
        section.empty = t("report.empty.status", lang)
        return section, []
    states = [s for s in STATUS_ORDER]
    counts = [final.get(s, 0) for s in states]
    small = [is_small(c) for c in counts]
    labels = [t(f"status.{s}", lang) for s in states]
    section.charts.append(
        draw(
            "status_end",
            t("report.chart.status_end", lang, time=moment_text(fig.end, lang)),
            charts.bar_chart(
                labels,
                charts.masked(counts, small),
                value_title=t("report.axis.people", lang),
                colours=[STATUS_COLOURS[s] for s in states],
            ),
            t("report.caption.small_hidden", lang),
        )
    )
    curve = fig.status_curve
    section.charts.append(
        draw(
            "status_curve",
            t("report.chart.status_curve", lang),
            charts.line_chart(
                jst_naive(curve["at"]),
                {
                    t("report.series.reported", lang): curve["reported"].tolist(),
                    t("report.series.confirmed", lang): curve["confirmed"].tolist(),
                    t("report.series.needs_help", lang): (
                        curve["needs_rescue"] + curve["injured"]
                    ).tolist(),
                },
                x_title=t("report.axis.time", lang),
                y_title=t("report.axis.people", lang),
            ),
            t("report.caption.status_curve", lang),
        )
    )
    district = fig.districts[fig.districts["district"].notna()]
    if len(district):
        show = [not is_small(n) for n in district["citizens"]]
        section.charts.append(
            draw(
                "districts",
                t("report.chart.districts", lang),
                charts.bar_chart(
                    [chart_label(d) for d in district["district"]],
                    charts.masked(district["confirmed_rate"].tolist(), [not s for s in show]),
                    value_title=t("report.axis.confirmed_rate", lang),
                    colours=OKABE_ITO["bluish_green"],
                    percent=True,
                ),
                t("report.caption.small_hidden", lang),
            )
        )
    status_table = ReportTable(
        "status_end",
        t("report.table.status_end", lang),
        pd.DataFrame(
            {
                "state": labels,
                "count": counts,
                "share": [c / fig.citizens if fig.citizens else np.nan for c in counts],
            }
        ).assign(count_basis=counts),
        [
            Column("state", t("report.col.state", lang)),
            Column("count", t("report.col.people", lang), "count"),
            Column("share", t("report.col.share", lang), "share", basis="count_basis"),
        ],
        lang=lang,
    )
    districts = ReportTable(
        "districts",
        t("report.table.districts", lang),
        fig.districts.assign(district=fig.districts["district"].fillna(t("report.unknown", lang))),
        [
            Column("district", t("report.col.district", lang)),
            Column("citizens", t("report.col.citizens", lang), "count"),
            Column("responded", t("report.col.responded", lang), "count"),
            Column("confirmed", t("report.col.confirmed", lang), "count"),
            Column("needs_help", t("report.col.needs_help", lang), "count"),
            Column("response_rate", t("report.col.response_rate", lang), "share", basis="citizens"),
            Column(
                "confirmed_rate", t("report.col.confirmed_rate", lang), "share", basis="citizens"
            ),
        ],
        lang=lang,
    )
    # The table lists every TABLE_EVERY-th moment of the curve (and the last one).
    rows = sorted({*range(0, len(curve), TABLE_EVERY), len(curve) - 1})
    curve_table = ReportTable(
        "status_curve",
        t("report.table.status_curve", lang),
        curve.iloc[rows].assign(needs_help=lambda f: f["needs_rescue"] + f["injured"]),
        [
            Column("at", t("report.col.time", lang), "datetime"),
            Column("reported", t("report.col.reported", lang), "count"),
            Column("confirmed", t("report.col.confirmed", lang), "count"),
            Column("evacuating", t("status.evacuating", lang), "count"),
            Column("at_shelter", t("status.at_shelter", lang), "count"),
            Column("needs_help", t("report.col.needs_help", lang), "count"),
        ],
        lang=lang,
    )
    section.tables.append(status_table)
    return section, [status_table, districts, curve_table]


def _shelter_section(
    fig: IncidentFigures, lang: str, draw: Draw, city: CityConfig
) -> tuple[Section, list[ReportTable]]:
    section = Section("shelters", t("report.section.shelters", lang))
    if fig.occupancy.empty and fig.shelters.empty:
        section.empty = t("report.empty.shelters", lang)
        return section, []
    curve = fig.occupancy_curve
    if len(curve):
        heads = curve["head_count"].tolist()
        section.charts.append(
            draw(
                "occupancy_curve",
                t("report.chart.occupancy_curve", lang),
                charts.line_chart(
                    jst_naive(curve["at"]),
                    {
                        t("report.series.head_count", lang): charts.masked(
                            heads, [is_small(h) for h in heads]
                        )
                    },
                    x_title=t("report.axis.time", lang),
                    y_title=t("report.axis.people", lang),
                    markers=len(curve) <= 150,
                ),
                t("report.caption.occupancy_curve", lang),
            )
        )
    top = fig.shelters[pd.to_numeric(fig.shelters["peak"], errors="coerce").notna()].head(
        TOP_SHELTERS
    )
    if len(top):
        peaks = top["peak"].astype(int).tolist()
        section.charts.append(
            draw(
                "shelter_peaks",
                t("report.chart.shelter_peaks", lang, n=len(top)),
                charts.bar_chart(
                    [chart_label(n) for n in top["name"]],
                    charts.masked(peaks, [is_small(p) for p in peaks]),
                    value_title=t("report.axis.people", lang),
                    colours=OKABE_ITO["blue"],
                ),
                t("report.caption.small_hidden", lang),
            )
        )
    placed = fig.shelters.dropna(subset=["lat", "lon"])
    if len(placed):
        peaks = pd.to_numeric(placed["peak"], errors="coerce")
        hidden = peaks.map(lambda v: pd.isna(v) or is_small(v))
        section.charts.append(
            draw(
                "map_shelters",
                t("report.chart.map_shelters", lang),
                charts.shelter_map(
                    placed.assign(peak=peaks.where(~hidden)),
                    size_title=t("report.map.peak_size", lang),
                    hidden_label=t("report.map.hidden", lang),
                    note=map_note(fig, lang, cells=False),
                ),
                t("report.caption.map_shelters", lang),
            )
        )
    shelters = ReportTable(
        "shelters",
        t("report.table.shelters", lang),
        fig.shelters.assign(name=fig.shelters["name"].astype(str)),
        [
            Column("name", t("report.col.shelter", lang)),
            Column("district", t("report.col.district", lang)),
            Column("capacity", t("report.col.capacity", lang), "number", digits=0),
            Column("peak", t("report.col.peak", lang), "count"),
            Column("peak_at", t("report.col.peak_at", lang), "datetime"),
            Column("peak_rate", t("report.col.peak_rate", lang), "share", basis="peak"),
            Column("reports", t("report.col.reports", lang), "number", digits=0),
        ],
        note=t("report.note.shelters", lang),
        lang=lang,
        page_limit=PAGE_SHELTERS,
    )
    curve_table = ReportTable(
        "occupancy_curve",
        t("report.table.occupancy_curve", lang),
        curve,
        [
            Column("at", t("report.col.time", lang), "datetime"),
            Column("head_count", t("report.col.head_count", lang), "count"),
            Column("shelters_open", t("report.col.shelters_open", lang), "number", digits=0),
            Column("shelters_counted", t("report.col.shelters_counted", lang), "number", digits=0),
        ],
        lang=lang,
    )
    return section, [shelters, curve_table]


#: Shelter data sources (``shelters.source``) → catalog key of their attribution.
SOURCE_ATTRIBUTION = {
    "gsi": "report.map.source.gsi",
    "standard": "report.map.source.standard",
    "occupancy": "report.map.source.occupancy",
    "city_os": "report.map.source.city_os",
}


def map_note(fig: IncidentFigures, lang: str, cells: bool) -> str:
    """What a map shows and where its shelters' positions come from (the attribution of each
    source of the shelters drawn: 出典：国土地理院 for GSI's data; synthetic ones said so)."""
    parts = [t("report.map.no_basemap", lang)]
    if cells:
        parts.append(t("report.map.cells", lang, res=MAP_RESOLUTION))
    shelters = fig.shelters
    sources = sorted(set(shelters.loc[~shelters["is_synthetic"].astype(bool), "source"].dropna()))
    names = [t(SOURCE_ATTRIBUTION.get(s, "report.map.source.other"), lang) for s in sources]
    if shelters["is_synthetic"].astype(bool).any():
        names.append(t("report.map.source.synthetic", lang))
    if names:
        sep = "、" if lang == "ja" else "; "
        parts.append(t("report.map.attribution", lang, sources=sep.join(dict.fromkeys(names))))
    return "　".join(parts) if lang == "ja" else "  ".join(parts)


def _map_section(fig: IncidentFigures, lang: str, draw: Draw) -> Section | None:
    cells = fig.cells
    if cells.empty or not fig.final.get("reported"):
        return None
    # A cell's share is drawn only where neither its people nor its unconfirmed are 1–4.
    shown = [not hides(c, u) for c, u in zip(cells["citizens"], cells["unconfirmed"], strict=True)]
    visible = cells[shown]
    section = Section("map", t("report.section.map", lang))
    open_shelters = fig.shelters.dropna(subset=["lat", "lon"])
    section.charts.append(
        draw(
            "map_cells",
            t("report.chart.map_cells", lang, time=moment_text(fig.end, lang)),
            charts.cell_map(
                pd.DataFrame({"cell": visible["cell"], "share": visible["share_unconfirmed"]}),
                open_shelters[["lat", "lon"]],
                bin_labels=[t(f"report.map.bin{k}", lang) for k in range(5)],
                shelter_label=t("report.map.shelters", lang),
                note=map_note(fig, lang, cells=True),
            ),
            t("report.caption.map_cells", lang, hidden=len(cells) - len(visible)),
        )
    )
    return section


def _rescue_section(
    fig: IncidentFigures, lang: str, draw: Draw
) -> tuple[Section, list[ReportTable]]:
    section = Section("rescue", t("report.section.rescue", lang))
    if fig.rescue.empty:
        section.empty = t("report.empty.rescue", lang)
        return section, []
    priorities = list(RESCUE_PRIORITIES)
    hourly = fig.rescue_per_hour
    section.charts.append(
        draw(
            "rescue_hourly",
            t("report.chart.rescue_hourly", lang),
            charts.stacked_bar_chart(
                jst_naive(hourly["period"]),
                {t(f"priority.{p}", lang): hourly[p].tolist() for p in priorities},
                x_title=t("report.axis.time", lang),
                y_title=t("report.axis.requests", lang),
                colours=[colour(f"rescue.{p}") for p in priorities],
            ),
            t("report.caption.rescue_hourly", lang),
        )
    )
    summary = fig.rescue_summary
    names = [t(f"report.priority.{p}", lang) for p in summary["priority"]]
    assign = charts.masked(
        summary["assignment_median_min"].tolist(), [is_small(n) for n in summary["assignment_n"]]
    )
    resolve = charts.masked(
        summary["resolution_median_min"].tolist(), [is_small(n) for n in summary["resolution_n"]]
    )
    section.charts.append(
        draw(
            "rescue_response",
            t("report.chart.rescue_response", lang),
            charts.grouped_bar_chart(
                names,
                {
                    t("report.series.to_assignment", lang): assign,
                    t("report.series.to_resolution", lang): resolve,
                },
                value_title=t("report.axis.minutes", lang),
            ),
            t("report.caption.rescue_response", lang),
        )
    )
    table = ReportTable(
        "rescue",
        t("report.table.rescue", lang),
        summary.assign(priority=names),
        [
            Column("priority", t("report.col.priority", lang)),
            Column("requests", t("report.col.requests", lang), "count"),
            Column("resolved", t("report.col.resolved", lang), "count"),
            Column("open", t("report.col.open", lang), "count"),
            *_minutes_to_columns("assignment", "assigned_n", "assign_median", "assign_p90", lang),
            *_minutes_to_columns("resolution", "resolved_n", "resolve_median", "resolve_p90", lang),
        ],
        note=t("report.note.rescue", lang),
        lang=lang,
    )
    section.tables.append(table)
    hourly_table = ReportTable(
        "rescue_hourly",
        t("report.table.rescue_hourly", lang),
        hourly,
        [
            Column("period", t("report.col.hour", lang), "datetime"),
            *[Column(p, t(f"priority.{p}", lang), "count") for p in priorities],
        ],
        lang=lang,
    )
    return section, [table, hourly_table]


def _notification_section(
    fig: IncidentFigures, lang: str, draw: Draw
) -> tuple[Section, list[ReportTable]]:
    section = Section("notifications", t("report.section.notifications", lang))
    frame = fig.notifications
    if frame.empty:
        section.empty = t("report.empty.notifications", lang)
        return section, []
    labels = [f"{k}. {chart_label(title)[:18]}" for k, title in enumerate(frame["title"], start=1)]
    series = {}
    for column, key in (
        ("recipient_count", "recipients"),
        ("delivered", "delivered"),
        ("opened", "opened"),
    ):
        values = frame[column].fillna(0).astype(int).tolist()
        series[t(f"report.series.{key}", lang)] = charts.masked(
            values, [is_small(v) for v in values]
        )
    section.charts.append(
        draw(
            "notifications",
            t("report.chart.notifications", lang),
            charts.grouped_bar_chart(labels, series, value_title=t("report.axis.people", lang)),
            t("report.caption.notifications", lang),
        )
    )
    table = ReportTable(
        "notifications",
        t("report.table.notifications", lang),
        frame.assign(
            no=range(1, len(frame) + 1),
            target=[t(f"report.target.{k}", lang) for k in frame["target_kind"]],
        ),
        [
            Column("no", "No."),
            Column("sent_at", t("report.col.sent_at", lang), "datetime"),
            Column("title", t("report.col.title", lang)),
            Column("target", t("report.col.target", lang)),
            Column("recipient_count", t("report.col.recipients", lang), "count"),
            Column("delivered", t("report.col.delivered", lang), "count"),
            Column("opened", t("report.col.opened", lang), "count"),
        ],
        lang=lang,
    )
    section.tables.append(table)
    return section, [table]


def _warnings_table(fig: IncidentFigures, lang: str) -> ReportTable | None:
    if fig.warnings.empty:
        return None
    return ReportTable(
        "warnings",
        t("report.table.warnings", lang),
        fig.warnings,
        [
            Column("report_time", t("report.col.time", lang), "datetime"),
            Column("area_name", t("report.col.area", lang)),
            Column("kind_name", t("report.col.warning", lang)),
            Column("status", t("report.col.warning_status", lang)),
        ],
        lang=lang,
    )


def _minutes_to_columns(
    step: str, count_label: str, median_label: str, p90_label: str, lang: str
) -> list[Column]:
    """The requests that reached ``step``, and the median and 90th percentile minutes to it
    (hidden with a small count)."""
    basis = f"{step}_n"
    return [
        Column(basis, t(f"report.col.{count_label}", lang), "count"),
        Column(f"{step}_median_min", t(f"report.col.{median_label}", lang), "minutes", basis=basis),
        Column(f"{step}_p90_min", t(f"report.col.{p90_label}", lang), "minutes", basis=basis),
    ]


def incident_part(
    engine: Engine,
    incident: IncidentSummary,
    city: CityConfig,
    viewer: Viewer,
    lang: str,
    draw: Draw,
    progress: Progress,
) -> tuple[IncidentFigures, list[Kpi], list[Section], list[ReportTable]]:
    """Summary figures, sections and appendix tables of an incident."""
    progress(0.05, t("report.progress.reading", lang))
    fig = incident_figures(engine, incident, city, viewer)
    progress(0.3, t("report.progress.charts", lang))
    kpis = _kpis(fig, lang)
    summary = kpi_table("summary", kpis, lang)
    sections: list[Section] = []
    appendix: list[ReportTable] = [summary]
    status, tables = _status_section(fig, lang, draw)
    sections.append(status)
    appendix += tables
    progress(0.45, t("report.progress.charts", lang))
    map_section = _map_section(fig, lang, draw)
    if map_section is not None:
        sections.append(map_section)
    shelters, tables = _shelter_section(fig, lang, draw, city)
    sections.append(shelters)
    appendix += tables
    progress(0.6, t("report.progress.charts", lang))
    rescue, tables = _rescue_section(fig, lang, draw)
    sections.append(rescue)
    appendix += tables
    notes, tables = _notification_section(fig, lang, draw)
    sections.append(notes)
    appendix += tables
    safety, tables = safety_section(engine, incident, city, lang)
    sections.append(safety)
    appendix += tables
    evacuation, tables = evacuation_section(engine, incident, viewer, lang)
    sections.append(evacuation)
    appendix += tables
    warnings = _warnings_table(fig, lang)
    if warnings is not None:
        appendix.append(warnings)
    return fig, kpis, sections, appendix
