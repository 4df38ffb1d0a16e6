"""The council report (議会報告書): an incident or a drill in aggregates, as PDF, HTML or Excel.

:func:`build` gathers the parts — :mod:`reports.council_incident` (the incident: safety
status, map, shelters, rescue, notifications) and :mod:`reports.council_research` (a drill: its
log, the questionnaire, opt-in acceptance, the UI/UX tests) — renders their charts to PNG in
one go (:mod:`reports.charts`) and returns a :class:`CouncilReport`; :func:`render` turns it
into bytes of the chosen format. Everything in the report is an aggregate: counts, shares,
medians, curves, H3 cells of at least 5 citizens, shelters. Counts from 1 to 4 are shown as
「5未満」 and what is computed from them as 「—」 (:mod:`reports.tables`).

Contents: a cover (city, title, period in 和暦 and Western dates), the summary figures, the
sections with charts and maps, method notes and a table appendix. The Excel workbook has one
sheet per table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from bosai.errors import InvalidInputError
from bosai.i18n import t
from sql import audit
from sql.city_config import active_city
from sql.queries import report_figures
from sql.viewer import SYSTEM, Viewer

from . import charts
from .charts import ChartImage
from .council_incident import incident_part
from .parts import (
    Kpi,
    Progress,
    Section,
    moment_text,
    no_progress,
    period_texts,
)
from .pdf import render_pdf, render_template
from .tables import ReportTable
from .xlsx import workbook_bytes

FORMATS = ("pdf", "html", "xlsx")


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

    progress = progress or no_progress
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
        from . import council_research  # the research half's statistics load for drills only

        kpis, sections, appendix, _ = council_research.drill_sections(
            engine, found, viewer, lang, draw, progress
        )
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
    progress = progress or no_progress
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
