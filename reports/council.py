"""The council report (議会報告書): an incident or a drill in aggregates, as PDF, HTML or Excel.

:func:`build` reads the figures (``sql.queries``, ``sql.queries.research``), computes them
(``analytics``), draws the charts and maps (:mod:`reports.charts`) and returns a
:class:`CouncilReport`; :func:`render` turns it into bytes of the chosen format. Everything in
the report is an aggregate: counts, shares, medians, curves, H3 cells of at least 5 citizens,
shelters. Counts from 1 to 4 are shown as 「5未満」 and what is computed from them as 「—」
(:mod:`reports.tables`).

Contents: a cover (city, title, period in 和暦 and Western dates), the summary figures,
sections with charts and maps (safety status, evacuation and shelters, rescue, notifications;
for a drill the drill log, the questionnaire, opt-in acceptance and the UI/UX tests), method
notes and a table appendix. The Excel workbook has one sheet per table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics import occupancy_curve, response_times, status_timeline
from analytics.safety_rates import rates
from analytics.small_cells import is_small
from bosai.errors import InvalidInputError
from bosai.i18n import t
from bosai.jpdate import jst, seireki, wareki
from bosai.palette import OKABE_ITO, STATUS_COLOURS, STATUS_ORDER
from sql import audit
from sql.city_config import CityConfig, active_city
from sql.models.vocab import RESCUE_PRIORITIES
from sql.queries import hazards, report_figures
from sql.queries.incidents import IncidentSummary, incident_timeline
from sql.queries.safety import incident_reference_date, safety_counts
from sql.viewer import SYSTEM, Viewer

from . import charts
from .charts import ChartImage
from .pdf import render_pdf, render_template
from .tables import Column, ReportTable, count_text, share_text
from .xlsx import workbook_bytes

FORMATS = ("pdf", "html", "xlsx")
#: Minutes after the start at which drill shares are read (as the research workbench).
DRILL_MINUTES = (10, 30, 60)
TOP_SHELTERS = 15
#: Shelters listed in the PDF/HTML appendix (highest peak first); the workbook lists all.
PAGE_SHELTERS = 60
#: Moments of the status curve (its appendix table lists every fourth).
CURVE_STEPS = 48
TABLE_EVERY = 4
#: H3 resolution of the map of cells (about 0.7 km² a cell).
MAP_RESOLUTION = 8
#: Roles whose own reads of research data are allowed (others read through the report account).
RESEARCH_ROLES = ("researcher", "admin")

Progress = Callable[[float, str], None]


@dataclasses.dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    detail: str = ""


@dataclasses.dataclass
class Section:
    key: str
    title: str
    intro: list[str] = dataclasses.field(default_factory=list)
    kpis: list[Kpi] = dataclasses.field(default_factory=list)
    charts: list[ChartImage] = dataclasses.field(default_factory=list)
    tables: list[ReportTable] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Shown instead of content when the section has no data.
    empty: str | None = None


@dataclasses.dataclass
class CouncilReport:
    lang: str
    kind: str  # "incident" or "drill"
    title: str
    subject: str
    city: str
    start: dt.datetime
    end: dt.datetime
    generated_at: dt.datetime
    synthetic: bool
    kpis: list[Kpi]
    sections: list[Section]
    appendix: list[ReportTable]
    method: list[str]
    sources: list[str]

    @property
    def charts(self) -> list[ChartImage]:
        return [c for s in self.sections for c in s.charts]

    def period(self) -> tuple[str, str]:
        """The period in 和暦 and in Western dates (Japan time)."""
        return period_texts(self.start, self.end, self.lang)


# ------------------------------------------------------------------ shared helpers


def period_texts(start: dt.datetime, end: dt.datetime, lang: str = "ja") -> tuple[str, str]:
    """``("令和8年7月10日 4:00 〜 令和8年7月10日 7:00", "2026年7月10日 04:00 〜 …")``.

    >>> a = dt.datetime(2026, 7, 9, 19, tzinfo=dt.UTC)
    >>> period_texts(a, a + dt.timedelta(hours=3))[0]
    '令和8年7月10日（金） 4:00 〜 令和8年7月10日（金） 7:00（日本時間）'
    """
    s, e = jst(start), jst(end)
    era = f"{wareki(s.date(), weekday=True)} {s:%-H:%M} 〜 {wareki(e.date(), weekday=True)} {e:%-H:%M}"
    if lang == "en":
        return f"{era} (JST)", f"{s:%Y-%m-%d %H:%M} – {e:%Y-%m-%d %H:%M} JST"
    return f"{era}（日本時間）", f"{seireki(s.date())} {s:%H:%M} 〜 {seireki(e.date())} {e:%H:%M}"


def moment_text(moment: dt.datetime, lang: str = "ja") -> str:
    """令和8年7月10日 7:00（2026年7月10日）, or ``2026-07-10 07:00 JST (Reiwa …)`` in English."""
    local = jst(moment)
    if lang == "en":
        return f"{local:%Y-%m-%d %H:%M} JST ({wareki(local.date())})"
    return f"{wareki(local.date())} {local:%-H:%M}（{seireki(local.date())}）"


def report_viewer(viewer: Viewer) -> Viewer:
    """The viewer whose reads build a report: aggregates only, so the council's role — no
    personal rows are read in any role (rescue requests, the register stay out)."""
    return Viewer(
        role="council",
        subject=viewer.subject,
        name=viewer.name,
        staff_id=viewer.staff_id,
        purpose="reporting",
        demo=viewer.demo,
    )


def research_viewer(viewer: Viewer) -> Viewer:
    """The viewer for the drill's research reads (pseudonymised rows, turned into aggregates
    here): the viewer itself for researchers and admins, else the report account acting for
    them (named in the audit log)."""
    if viewer.role in RESEARCH_ROLES:
        return dataclasses.replace(viewer, purpose="reporting")
    return dataclasses.replace(
        SYSTEM,
        subject=f"system:report:{viewer.subject}",
        name=f"report for {viewer.name or viewer.subject}",
        purpose="reporting",
    )


def _label(text: Any) -> str:
    """Data shown inside a chart: plotly reads a few HTML tags, so ``<`` and ``>`` are escaped."""
    return html.escape(str(text), quote=False)


def _jst_naive(values: Any) -> list[dt.datetime]:
    """Times for a chart's axis, in Japan time (plotly shows naive times as they are)."""
    return [jst(pd.Timestamp(v).to_pydatetime()).replace(tzinfo=None) for v in values]


def _no_progress(fraction: float, message: str) -> None:
    return None


# ------------------------------------------------------------------ incident figures


@dataclasses.dataclass
class IncidentFigures:
    """Every aggregate of an incident the report shows (computed, not yet formatted)."""

    incident: IncidentSummary
    start: dt.datetime
    end: dt.datetime
    citizens: int
    status_curve: pd.DataFrame
    evacuated: int
    reached: dict[str, int]
    notifications: pd.DataFrame
    rescue: pd.DataFrame
    rescue_summary: pd.DataFrame
    rescue_per_hour: pd.DataFrame
    occupancy: pd.DataFrame
    occupancy_curve: pd.DataFrame
    peak: dict[str, Any]
    shelters: pd.DataFrame  # used shelters with their peaks
    shelters_used: int
    register_total: int
    register_curve: pd.DataFrame
    districts: pd.DataFrame
    cells: pd.DataFrame
    warnings: pd.DataFrame

    @property
    def final(self) -> dict[str, int]:
        if self.status_curve.empty:
            return {}
        return {k: int(v) for k, v in self.status_curve.iloc[-1].drop("at").items()}

    @property
    def register_final(self) -> dict[str, int]:
        if self.register_curve.empty:
            return {}
        return {k: int(v) for k, v in self.register_curve.iloc[-1].drop("at").items()}


def incident_figures(
    engine: Engine, incident: IncidentSummary, city: CityConfig, viewer: Viewer
) -> IncidentFigures:
    """Read and compute the aggregates of ``incident`` over its whole period."""
    from dashboard.hq_map_state import HqMapCache, build_hq_state

    timeline = incident_timeline(engine, incident.id)
    start, end = timeline["start"], timeline["end"]
    citizens = report_figures.citizen_total(engine)
    reports = report_figures.status_reports(engine, incident.id, until=end)
    moments = status_timeline.evenly_spaced(start, end, CURVE_STEPS)
    curve = status_timeline.status_over_time(reports, moments, citizens)
    register = report_figures.register_ids(engine)
    register_reports = reports[reports["citizen_id"].isin(register)]
    register_curve = status_timeline.status_over_time(register_reports, moments, len(register))

    rescue = report_figures.rescue_timeline(engine, incident.id)
    occupancy = report_figures.occupancy_observations(engine, incident.id)
    periods = report_figures.open_periods(engine, incident.id)
    occ_curve = occupancy_curve.total_curve(occupancy, periods)

    state = build_hq_state(
        engine,
        HqMapCache(),
        report_viewer(viewer),
        incident.id,
        city,
        resolution=MAP_RESOLUTION,
        as_of=end,
        now=end,
    )
    board = state.shelters
    peaks = occupancy_curve.shelter_peaks(occupancy)
    used_ids = set(periods["shelter_id"].astype(int)) | set(
        occupancy.loc[occupancy["head_count"] > 0, "shelter_id"].astype(int)
    )
    shelters = (
        board[board["id"].isin(used_ids)][["id", "name", "district", "capacity", "lat", "lon"]]
        .merge(peaks, left_on="id", right_on="shelter_id", how="left")
        .drop(columns="shelter_id")
    )
    capacity = pd.to_numeric(shelters["capacity"], errors="coerce")
    shelters["peak_rate"] = pd.to_numeric(shelters["peak"], errors="coerce") / capacity.where(
        capacity > 0
    )
    shelters = shelters.sort_values(["peak", "name"], ascending=[False, True], na_position="last")

    reference = incident_reference_date(engine, incident.id, city.timezone)
    districts = rates(safety_counts(engine, incident.id, reference), ["district"])
    area_codes = tuple(code for _, code in city.jma_area_codes)
    warnings = hazards.warning_history(engine, area_codes, as_of=end)
    if not warnings.empty:
        times = pd.to_datetime(warnings["report_time"], utc=True)
        warnings = warnings[times >= pd.Timestamp(start) - pd.Timedelta(days=1)]
    return IncidentFigures(
        incident=incident,
        start=start,
        end=end,
        citizens=citizens,
        status_curve=curve,
        evacuated=status_timeline.ever_in_states(reports, ("evacuating", "at_shelter")),
        reached=report_figures.people_reached(engine, incident.id, until=end),
        notifications=report_figures.notification_reach(engine, incident.id, until=end),
        rescue=rescue,
        rescue_summary=response_times.response_summary(rescue, until=end),
        rescue_per_hour=response_times.requests_per_period(rescue, "1h"),
        occupancy=occupancy,
        occupancy_curve=occ_curve,
        peak=occupancy_curve.peak(occ_curve),
        shelters=shelters.reset_index(drop=True),
        shelters_used=occupancy_curve.shelters_used(occupancy, periods),
        register_total=len(register),
        register_curve=register_curve,
        districts=districts,
        cells=state.cells,
        warnings=warnings.reset_index(drop=True),
    )


# ------------------------------------------------------------------ incident sections


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
    fig: IncidentFigures, lang: str, draw: Callable
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
                _jst_naive(curve["at"]),
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
                    [_label(d) for d in district["district"]],
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
    fig: IncidentFigures, lang: str, draw: Callable, city: CityConfig
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
                    _jst_naive(curve["at"]),
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
                    [_label(n) for n in top["name"]],
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


def map_note(fig: IncidentFigures, lang: str, cells: bool) -> str:
    """What a map shows and where its positions come from (the attribution)."""
    parts = [t("report.map.no_basemap", lang)]
    if cells:
        parts.append(t("report.map.cells", lang, res=MAP_RESOLUTION))
    parts.append(t("report.map.attribution", lang))
    return "　".join(parts) if lang == "ja" else "  ".join(parts)


def _map_section(fig: IncidentFigures, lang: str, draw: Callable) -> Section | None:
    cells = fig.cells
    if cells.empty or not fig.final.get("reported"):
        return None
    visible = cells[cells["citizens"] >= 5]
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
            t("report.caption.map_cells", lang, hidden=int((cells["citizens"] < 5).sum())),
        )
    )
    return section


def _rescue_section(
    fig: IncidentFigures, lang: str, draw: Callable
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
                _jst_naive(hourly["period"]),
                {t(f"priority.{p}", lang): hourly[p].tolist() for p in priorities},
                x_title=t("report.axis.time", lang),
                y_title=t("report.axis.requests", lang),
                colours=[OKABE_ITO["vermillion"], OKABE_ITO["orange"], OKABE_ITO["yellow"]],
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
            Column("assignment_n", t("report.col.assigned_n", lang), "count"),
            Column(
                "assignment_median_min",
                t("report.col.assign_median", lang),
                "minutes",
                basis="assignment_n",
            ),
            Column(
                "assignment_p90_min",
                t("report.col.assign_p90", lang),
                "minutes",
                basis="assignment_n",
            ),
            Column("resolution_n", t("report.col.resolved_n", lang), "count"),
            Column(
                "resolution_median_min",
                t("report.col.resolve_median", lang),
                "minutes",
                basis="resolution_n",
            ),
            Column(
                "resolution_p90_min",
                t("report.col.resolve_p90", lang),
                "minutes",
                basis="resolution_n",
            ),
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
    fig: IncidentFigures, lang: str, draw: Callable
) -> tuple[Section, list[ReportTable]]:
    section = Section("notifications", t("report.section.notifications", lang))
    frame = fig.notifications
    if frame.empty:
        section.empty = t("report.empty.notifications", lang)
        return section, []
    labels = [f"{k}. {_label(title)[:18]}" for k, title in enumerate(frame["title"], start=1)]
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


def incident_part(
    engine: Engine,
    incident: IncidentSummary,
    city: CityConfig,
    viewer: Viewer,
    lang: str,
    draw: Callable,
    progress: Progress,
) -> tuple[IncidentFigures, list[Kpi], list[Section], list[ReportTable]]:
    """Summary figures, sections and appendix tables of an incident."""
    progress(0.05, t("report.progress.reading", lang))
    fig = incident_figures(engine, incident, city, viewer)
    progress(0.3, t("report.progress.charts", lang))
    kpis = _kpis(fig, lang)
    summary = ReportTable(
        "summary",
        t("report.table.summary", lang),
        pd.DataFrame([{"label": k.label, "value": k.value, "detail": k.detail} for k in kpis]),
        [
            Column("label", t("report.col.item", lang)),
            Column("value", t("report.col.value", lang)),
            Column("detail", t("report.col.detail", lang)),
        ],
        lang=lang,
    )
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
    warnings = _warnings_table(fig, lang)
    if warnings is not None:
        appendix.append(warnings)
    return fig, kpis, sections, appendix


# ------------------------------------------------------------------ drill part


def drill_part(
    engine: Engine,
    drill: dict[str, Any],
    viewer: Viewer,
    lang: str,
    draw: Callable,
    progress: Progress,
) -> tuple[list[Kpi], list[Section], list[ReportTable], list[str]]:
    """The drill's evaluation and the research workbench's findings (aggregates only)."""
    from . import council_research

    return council_research.drill_sections(
        engine, drill, research_viewer(viewer), lang, draw, progress
    )


# ------------------------------------------------------------------ the report


def _method_notes(lang: str, kind: str, synthetic: bool) -> list[str]:
    keys = [
        "aggregates",
        "small_cells",
        "times",
        "confirmed",
        "evacuated",
        "reached",
        "response",
        "occupancy",
        "register",
        "maps",
        "charts",
    ]
    if kind == "drill":
        keys += ["drill_km", "drill_register", "questionnaire", "optin", "uiux"]
    notes = [t(f"report.method.{k}", lang) for k in keys]
    if synthetic:
        notes.insert(0, t("report.method.synthetic", lang))
    return notes


def _sources(engine: Engine, lang: str) -> list[str]:
    return [
        t("report.source.status", lang),
        t("report.source.shelters", lang),
        t("report.source.jma", lang),
    ]


def build(
    engine: Engine,
    *,
    incident: str | int | None = None,
    drill: str | int | None = None,
    viewer: Viewer = SYSTEM,
    lang: str = "ja",
    progress: Progress | None = None,
    draw_charts: bool = True,
) -> CouncilReport:
    """The council report of one incident or one drill (exactly one of the two);
    ``draw_charts=False`` leaves the charts out (the Excel workbook has none)."""
    from sql.queries import research

    progress = progress or _no_progress
    if (incident is None) == (drill is None):
        raise InvalidInputError("give exactly one of --incident ID or --drill ID")
    city = active_city(engine)
    if draw_charts:
        charts.warm_up()  # chromium starts while the data are read
    drawn: list[tuple[str, str, Any, str]] = []

    def draw(key: str, title: str, figure: Any, caption: str = "") -> ChartImage:
        drawn.append((key, title, figure, caption))
        return ChartImage(key, title, b"", caption)  # placeholder, rendered below

    kpis: list[Kpi] = []
    sections: list[Section] = []
    appendix: list[ReportTable] = []
    if incident is not None:
        summary = report_figures.find_incident(engine, incident)
        if summary is None:
            raise InvalidInputError(f"--incident: no incident {incident!r} in this database")
        fig, kpis, sections, appendix = incident_part(
            engine, summary, city, viewer, lang, draw, progress
        )
        kind, subject = "incident", summary.name(lang)
        start, end, synthetic = fig.start, fig.end, summary.is_synthetic
        title = t("report.title.incident", lang)
    else:
        found = research.drill(engine, drill)
        if found is None:
            raise InvalidInputError(f"--drill: no drill {drill!r} in this database")
        kind, subject = "drill", str(found["name"])
        start = found["started_at"]
        end = found["ended_at"] or found["started_at"]
        synthetic = bool(found["is_synthetic"])
        title = t("report.title.drill", lang)
        kpis, sections, appendix, _ = drill_part(engine, found, viewer, lang, draw, progress)
        if found.get("incident_id"):
            linked = report_figures.find_incident(engine, found["incident_id"])
            if linked is not None:
                _, more_kpis, more_sections, more_tables = incident_part(
                    engine, linked, city, viewer, lang, draw, progress
                )
                kpis += more_kpis
                sections += more_sections
                appendix += more_tables
    if not draw_charts:
        drawn.clear()
    progress(0.7, t("report.progress.drawing", lang, n=len(drawn)))
    images = {}
    for k, (key, chart_title, figure, caption) in enumerate(drawn):
        images[key] = ChartImage(key, chart_title, charts.render_png(figure), caption, figure)
        progress(
            0.7 + 0.2 * (k + 1) / max(len(drawn), 1),
            t("report.progress.drawing", lang, n=len(drawn)),
        )
    for section in sections:
        section.charts = [images[c.key] for c in section.charts if c.key in images]
    report = CouncilReport(
        lang=lang,
        kind=kind,
        title=title,
        subject=subject,
        city=city.name(lang),
        start=start,
        end=end,
        generated_at=dt.datetime.now(dt.UTC),
        synthetic=synthetic,
        kpis=kpis,
        sections=sections,
        appendix=appendix,
        method=_method_notes(lang, kind, synthetic),
        sources=_sources(engine, lang),
    )
    audit.record(
        engine,
        viewer,
        "report",
        target=f"report.council:{kind}:{incident if incident is not None else drill}",
        details={"charts": len(images), "tables": len(appendix)},
    )
    return report


# ------------------------------------------------------------------ output


def to_html(report: CouncilReport) -> str:
    """The report as one self-contained HTML page (charts embedded as PNG data)."""
    lang = report.lang
    era, western = report.period()
    return render_template(
        "council.html",
        lang=lang,
        report=report,
        era=era,
        western=western,
        generated=moment_text(report.generated_at, lang),
        tables=[(table, table.text_rows(paged=True)) for table in report.appendix],
        sections=[
            (s, [(table, table.text_rows(paged=True)) for table in s.tables])
            for s in report.sections
        ],
        labels={
            key: t(f"report.label.{key}", lang)
            for key in (
                "city",
                "subject",
                "period",
                "period_western",
                "generated",
                "summary",
                "method",
                "appendix",
                "sources",
                "aggregates_only",
                "synthetic",
                "figure",
                "contents",
                "table",
                "no_rows",
                "cut",
            )
        },
        kind_label=t(f"report.kind.{report.kind}", lang),
    )


def to_pdf(report: CouncilReport) -> bytes:
    return render_pdf(
        to_html(report),
        metadata={
            "title": f"{report.title}：{report.subject}",
            "authors": ["Bosai Ops"],
            "lang": report.lang,
        },
    )


def to_xlsx(report: CouncilReport) -> bytes:
    lang = report.lang
    era, western = report.period()
    cover = [
        (t("report.label.title", lang), report.title),
        (t("report.label.city", lang), report.city),
        (t("report.label.subject", lang), report.subject),
        (t("report.label.period", lang), era),
        (t("report.label.period_western", lang), western),
        (t("report.label.generated", lang), moment_text(report.generated_at, lang)),
        (t("report.label.aggregates_only", lang), ""),
    ]
    if report.synthetic:
        cover.append((t("report.label.synthetic", lang), ""))
    return workbook_bytes(
        cover,
        t("report.sheet.cover", lang),
        report.appendix,
        [*report.method, *report.sources],
        t("report.sheet.method", lang),
    )


def render(report: CouncilReport, fmt: str) -> bytes:
    """The report as ``pdf``, ``html`` (UTF-8) or ``xlsx`` bytes."""
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "html":
        return to_html(report).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(report)
    raise InvalidInputError(f"--format: pdf, html or xlsx, not {fmt!r}")


def produce(
    engine: Engine,
    fmt: str,
    *,
    incident: str | int | None = None,
    drill: str | int | None = None,
    viewer: Viewer = SYSTEM,
    lang: str = "ja",
    progress: Progress | None = None,
) -> bytes:
    """Build and render in one call — what the CLI and the reports page call."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"--format: pdf, html or xlsx, not {fmt!r}")
    progress = progress or _no_progress
    report = build(
        engine,
        incident=incident,
        drill=drill,
        viewer=viewer,
        lang=lang,
        progress=progress,
        draw_charts=fmt != "xlsx",
    )
    progress(0.92, t("report.progress.writing", lang, format=fmt.upper()))
    data = render(report, fmt)
    progress(1.0, t("report.progress.done", lang))
    return data


def file_name(report_kind: str, ref: str | int, fmt: str) -> str:
    """``council_incident_1.pdf`` — a download name without anything from the data."""
    safe = "".join(ch for ch in str(ref) if ch.isalnum() or ch in "-_") or "x"
    return f"{report_kind}_{safe}.{fmt}"
