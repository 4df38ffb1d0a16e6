"""The building blocks of the reports: summary figures, sections, dates and viewers.

A report is a list of :class:`Kpi` (the summary figures) and :class:`Section` (a titled part
with charts, tables and notes; or the message saying it has no data). The helpers write
periods and moments in 和暦 and Western dates (Japan time) and give the viewer whose reads
build a report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import pandas as pd

from bosai.i18n import t
from bosai.jpdate import jst, seireki, wareki
from sql.viewer import SYSTEM, Viewer

from .charts import ChartImage
from .tables import Column, ReportTable

#: Roles whose own reads of research data are allowed (others read through the report account).
RESEARCH_ROLES = ("researcher", "admin")

Progress = Callable[[float, str], None]
#: ``draw(key, title, figure, caption)``: a chart to render (returns its placeholder).
Draw = Callable[..., ChartImage]


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


def kpi_table(key: str, kpis: list[Kpi], lang: str) -> ReportTable:
    """The summary figures as a table: item, value, detail."""
    return ReportTable(
        key,
        t("report.table.summary", lang),
        pd.DataFrame([{"label": k.label, "value": k.value, "detail": k.detail} for k in kpis]),
        [
            Column("label", t("report.col.item", lang)),
            Column("value", t("report.col.value", lang)),
            Column("detail", t("report.col.detail", lang)),
        ],
        lang=lang,
    )


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


def chart_label(text: Any) -> str:
    """Data shown inside a chart: plotly reads a few HTML tags, so ``<`` and ``>`` are escaped."""
    return html.escape(str(text), quote=False)


def no_progress(fraction: float, message: str) -> None:
    return None
