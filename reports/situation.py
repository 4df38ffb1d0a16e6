"""The situation report (災害状況報告): one page on the state of an incident at a moment, and
what changed since the previous report — highlighted — with a warning for every empty section.

The state at a moment is the headquarters' picture then (:func:`compositions.hq_map_state.
build_hq_state` with ``as_of``, as the replay shows it), read with the council's role so that
only aggregates are read. The previous report is ``since``: by default the previous head-count
snapshot of the incident (for an incident known from snapshots, such as the Nanao 2024
series, the previous one), else one hour earlier.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics import response_times, situation_changes
from analytics.small_cells import is_small
from analytics.status_cells import NO_REPORT
from bosai.errors import InvalidInputError
from bosai.i18n import t
from bosai.jpdate import jst, seireki, wareki
from sql.city_config import active_city
from sql.queries import hazards, report_figures
from sql.queries.incidents import IncidentSummary, incident_timeline
from sql.viewer import SYSTEM, Viewer

from . import evacuation_parts
from .parts import moment_text, report_viewer
from .pdf import render_pdf, render_template
from .tables import count_text

FORMATS = ("pdf", "html")
DEFAULT_LOOKBACK = dt.timedelta(hours=1)
#: Names listed per change (the rest as "and N more") so that the report stays on one page.
LIST_LIMIT = 6
#: The headline figures, in the order of the report; (key, catalog key of its label).
FIGURES = (
    ("reported", "report.situation.fig.reported"),
    ("confirmed", "report.situation.fig.confirmed"),
    ("evacuating", "status.evacuating"),
    ("at_shelter", "report.situation.fig.at_shelter"),
    ("injured", "status.injured"),
    ("needs_rescue", "status.needs_rescue"),
    ("register_unconfirmed", "report.situation.fig.register_unconfirmed"),
    ("accounted", "safety.kpi.accounted"),
    ("unaccounted", "safety.kpi.unaccounted"),
    ("at_home", "safety.kpi.at_home"),
    ("in_car", "safety.kpi.in_car"),
    ("rescue_open", "report.situation.fig.rescue_open"),
    ("rescue_open_high", "report.situation.fig.rescue_open_high"),
    ("shelters_open", "report.situation.fig.shelters_open"),
    ("shelters_full", "report.situation.fig.shelters_full"),
    ("head_count", "report.situation.fig.head_count"),
    ("warnings", "report.situation.fig.warnings"),
)
#: Figures that count people (small values shown as 「5未満」).
PEOPLE_FIGURES = {
    "reported",
    "confirmed",
    "evacuating",
    "at_shelter",
    "injured",
    "needs_rescue",
    "register_unconfirmed",
    "head_count",
    "accounted",
    "unaccounted",
    "at_home",
    "in_car",
}
SECTIONS = ("status", "shelters", "rescue", "warnings", "notifications")
#: The section each figure comes from (its values read 「—」 when that section has no data).
FIGURE_SECTIONS = {
    "reported": "status",
    "confirmed": "status",
    "evacuating": "status",
    "at_shelter": "status",
    "injured": "status",
    "needs_rescue": "status",
    "register_unconfirmed": "status",
    "accounted": "status",
    "unaccounted": "status",
    "at_home": "status",
    "in_car": "status",
    "rescue_open": "rescue",
    "rescue_open_high": "rescue",
    "shelters_open": "shelters",
    "shelters_full": "shelters",
    "head_count": "shelters",
    "warnings": "warnings",
}


@dataclasses.dataclass
class Moment:
    """The aggregates of the incident at one moment."""

    at: dt.datetime
    figures: dict[str, int]
    shelters: pd.DataFrame
    warnings: pd.DataFrame


@dataclasses.dataclass
class SituationReport:
    lang: str
    incident: IncidentSummary
    city: str
    at: dt.datetime
    since: dt.datetime
    generated_at: dt.datetime
    figures: pd.DataFrame  # compare_figures: key, before, after, delta, changed (+ label)
    shelters: dict[str, Any]
    warnings: dict[str, list[str]]
    warnings_now: list[str]
    rescue_between: dict[str, int]
    notifications_between: pd.DataFrame
    empty: list[str]  # section keys without any data up to ``at``
    #: The evacuation information in force at ``at``, per level (evacuation_parts.in_force_by_level).
    evacuation_now: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: The evacuation decisions taken since ``since`` (evacuation_parts.timeline rows).
    evacuation_between: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def changed(self) -> list[str]:
        return self.figures.loc[self.figures["changed"], "key"].tolist()


def _moment(engine: Engine, incident: IncidentSummary, at: dt.datetime, viewer: Viewer) -> Moment:
    from compositions.hq_map_state import HqMapCache, build_hq_state
    from compositions.safety_state import SafetyCache, build_safety_state

    city = active_city(engine)
    state = build_hq_state(
        engine, HqMapCache(), report_viewer(viewer), incident.id, city, as_of=at, now=at
    )
    # The merged safety picture (every source, not only the app) — aggregates only.
    safety = build_safety_state(engine, SafetyCache(), incident.id, city, as_of=at)
    k = state.kpis
    board = state.shelters
    heads = pd.to_numeric(board.loc[board["is_open"], "head_count"], errors="coerce").fillna(0)
    figures = {
        "reported": int(np.count_nonzero(state.states != NO_REPORT)),
        "confirmed": k["confirmed"],
        "evacuating": k["evacuating"],
        "at_shelter": k["at_shelter"],
        "injured": k["injured"],
        "needs_rescue": k["needs_rescue"],
        "register_unconfirmed": k["register_unconfirmed"],
        "rescue_open": k["rescue_open_total"],
        "rescue_open_high": k["rescue_open"].get("high", 0),
        "shelters_open": k["shelters_open"],
        "shelters_full": k["shelters_full"],
        "head_count": int(heads.sum()),
        "warnings": len(state.warnings),
        "accounted": safety.counts["accounted"],
        "unaccounted": safety.counts["unaccounted"],
        "at_home": safety.places["home"],
        "in_car": safety.places["car"],
    }
    return Moment(at, figures, board, state.warnings)


def default_moments(
    engine: Engine, incident_id: int, at: dt.datetime | None, since: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    """``at`` (default: the last moment with data) and ``since`` (default: the previous
    head-count snapshot before ``at``, else one hour earlier)."""
    timeline = incident_timeline(engine, incident_id)
    at = at or timeline["end"]
    if since is None:
        earlier = [m for m in timeline["observations"] if m < at]
        since = earlier[-1] if earlier else at - DEFAULT_LOOKBACK
    if since >= at:
        raise InvalidInputError("--since must be before --at")
    return at, since


def build(
    engine: Engine,
    incident: str | int,
    *,
    at: dt.datetime | None = None,
    since: dt.datetime | None = None,
    viewer: Viewer = SYSTEM,
    lang: str = "ja",
) -> SituationReport:
    """The situation report of ``incident`` at ``at``, compared with ``since``."""
    summary = report_figures.find_incident(engine, incident)
    if summary is None:
        raise InvalidInputError(f"--incident: no incident {incident!r} in this database")
    at, since = default_moments(engine, summary.id, at, since)
    now = _moment(engine, summary, at, viewer)
    before = _moment(engine, summary, since, viewer)
    figures = situation_changes.compare_figures(
        before.figures, now.figures, [key for key, _ in FIGURES]
    )
    figures["label"] = [t(label, lang) for _, label in FIGURES]
    rescue = report_figures.rescue_timeline(engine, summary.id)
    notifications = report_figures.notification_reach(engine, summary.id, until=at)
    reports_until = len(report_figures.status_reports(engine, summary.id, until=at))
    city = active_city(engine)
    history = hazards.warning_history(engine, tuple(c for _, c in city.jma_area_codes), at)
    occupancy = report_figures.occupancy_observations(engine, summary.id)
    counted = int((occupancy["observed_at"] <= pd.Timestamp(at)).sum()) if len(occupancy) else 0
    requested = int((rescue["requested_at"] <= pd.Timestamp(at)).sum()) if len(rescue) else 0
    empty = situation_changes.empty_sections(
        {
            "status": reports_until,
            "shelters": counted + int(now.figures["shelters_open"]),
            "rescue": requested,
            "warnings": len(history),
            "notifications": len(notifications),
        }
    )
    created = pd.to_datetime(notifications["created_at"], utc=True) if len(notifications) else None
    between = (
        notifications[(created > pd.Timestamp(since)).to_numpy()].reset_index(drop=True)
        if created is not None
        else notifications
    )
    reader = report_viewer(viewer)
    decisions = evacuation_parts.timeline(engine, summary.id, reader)
    report = SituationReport(
        lang=lang,
        incident=summary,
        city=city.name(lang),
        at=at,
        since=since,
        generated_at=dt.datetime.now(dt.UTC),
        figures=figures,
        shelters=situation_changes.shelter_changes(before.shelters, now.shelters),
        warnings=situation_changes.warning_changes(before.warnings, now.warnings),
        warnings_now=[str(n) for n in now.warnings["kind_name"]] if len(now.warnings) else [],
        rescue_between=response_times.requests_between(rescue, since, at),
        notifications_between=between,
        empty=empty,
        evacuation_now=evacuation_parts.in_force_by_level(engine, summary.id, at, reader),
        evacuation_between=evacuation_parts.changes_between(decisions, since, at),
    )
    from sql import audit

    audit.record(
        engine,
        viewer,
        "report",
        target=f"report.situation:{summary.id}",
        details={"at": at.isoformat(), "since": since.isoformat(), "empty": empty},
    )
    return report


# ------------------------------------------------------------------ output


def _value(key: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if key in PEOPLE_FIGURES:
        return count_text(value, lang)
    return f"{int(value):,}"


def _delta(key: str, row: pd.Series, lang: str) -> str:
    delta = row["delta"]
    if delta is None or pd.isna(delta):
        return "—"
    if key in PEOPLE_FIGURES and (
        is_small(row["before"]) or is_small(row["after"]) or is_small(abs(delta))
    ):
        return t("report.situation.changed_small", lang) if row["changed"] else "±0"
    if delta > 0:
        return f"▲ +{int(delta):,}"
    if delta < 0:
        return f"▼ −{abs(int(delta)):,}"
    return "±0"


def _names(names: list[str], lang: str) -> str:
    shown, more = situation_changes.listed(names, LIST_LIMIT)
    text = "、".join(shown) if lang == "ja" else ", ".join(shown)
    if more:
        text += t("report.situation.more", lang, n=more)
    return text


def _stamp(moment: dt.datetime, lang: str) -> str:
    local = jst(moment)
    if lang == "en":
        return f"{local:%Y-%m-%d %H:%M} JST"
    return f"{wareki(local.date())} {local:%-H:%M}（{seireki(local.date())}）"


def _level(level: Any, lang: str) -> str:
    if level is None or pd.isna(level):
        return t("evacuation.lifted", lang)
    return t(f"evacuation.level.{int(level)}", lang)


def evacuation_lines(report: SituationReport) -> tuple[list[tuple[str, str, str]], list[tuple]]:
    """What the report says on evacuation information: (level, areas, people) in force now,
    and (time, decision, areas, people, exercise?) for each decision since the previous report."""
    lang = report.lang
    names = "areas_en" if lang == "en" else "areas_ja"
    now = [
        (_level(r["level"], lang), _names(list(r[names]), lang), count_text(r["people"], lang))
        for _, r in report.evacuation_now.iterrows()
    ]
    between = [
        (
            moment_text(r["issued_at"], lang),
            _level(r["level"], lang),
            _names(list(r[names]), lang),
            count_text(r["people"], lang),
            bool(r["is_exercise"]),
        )
        for _, r in report.evacuation_between.iterrows()
    ]
    return now, between


def to_html(report: SituationReport) -> str:
    lang = report.lang
    evacuation_now, evacuation_between = evacuation_lines(report)
    rows = []
    for _, row in report.figures.iterrows():
        empty = FIGURE_SECTIONS.get(row["key"]) in report.empty
        rows.append(
            {
                "label": row["label"],
                "before": "—" if empty else _value(row["key"], row["before"], lang),
                "after": "—" if empty else _value(row["key"], row["after"], lang),
                "delta": t("report.situation.no_data", lang)
                if empty
                else _delta(row["key"], row, lang),
                "changed": bool(row["changed"]) and not empty,
            }
        )
    sh = report.shelters
    shelter_lines = []
    for key in ("opened", "closed", "became_full"):
        if sh[key]:
            shelter_lines.append(
                (t(f"report.situation.shelters.{key}", lang, n=len(sh[key])), _names(sh[key], lang))
            )
    largest = [
        (
            str(r["name"]),
            count_text(r["before"], lang),
            count_text(r["after"], lang),
            (f"+{int(r['delta']):,}" if r["delta"] > 0 else f"−{abs(int(r['delta'])):,}")
            if not (is_small(r["before"]) or is_small(r["after"]) or is_small(abs(r["delta"])))
            else t("report.situation.changed_small", lang),
        )
        for _, r in sh["largest"].iterrows()
    ]
    warn = report.warnings
    notices = [
        (
            moment_text(pd.Timestamp(n["created_at"]).to_pydatetime(), lang),
            str(n["title"]),
            count_text(n["recipient_count"], lang),
        )
        for _, n in report.notifications_between.head(LIST_LIMIT).iterrows()
    ]
    empty = [t(f"report.situation.section.{k}", lang) for k in report.empty]
    return render_template(
        "situation.html",
        lang=lang,
        title=t("report.situation.title", lang),
        incident=report.incident.name(lang),
        city=report.city,
        at=_stamp(report.at, lang),
        since=_stamp(report.since, lang),
        generated=moment_text(report.generated_at, lang),
        synthetic=report.incident.is_synthetic,
        rows=rows,
        changed=len(report.changed),
        empty=empty,
        empty_keys=report.empty,
        shelter_lines=shelter_lines,
        largest=largest,
        warnings_now=_names(report.warnings_now, lang) if report.warnings_now else "",
        issued=_names(warn["issued"], lang) if warn["issued"] else "",
        lifted=_names(warn["lifted"], lang) if warn["lifted"] else "",
        rescue=report.rescue_between,
        notices=notices,
        evacuation_now=evacuation_now,
        evacuation_between=evacuation_between,
        lifted_label=t("evacuation.lifted", lang),
        more_notices=max(len(report.notifications_between) - LIST_LIMIT, 0),
        t=lambda key, **values: t(f"report.situation.{key}", lang, **values),
    )


def to_pdf(report: SituationReport) -> bytes:
    return render_pdf(
        to_html(report),
        metadata={
            "title": f"{t('report.situation.title', report.lang)}：{report.incident.name(report.lang)}",
            "authors": ["Bosai Ops"],
            "lang": report.lang,
        },
    )


def render(report: SituationReport, fmt: str) -> bytes:
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "html":
        return to_html(report).encode("utf-8")
    raise InvalidInputError(f"--format: pdf or html, not {fmt!r}")


def produce(
    engine: Engine,
    incident: str | int,
    fmt: str,
    *,
    at: dt.datetime | None = None,
    since: dt.datetime | None = None,
    viewer: Viewer = SYSTEM,
    lang: str = "ja",
) -> bytes:
    """Build and render in one call — what the CLI and the reports page call."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"--format: pdf or html, not {fmt!r}")
    return render(build(engine, incident, at=at, since=since, viewer=viewer, lang=lang), fmt)
