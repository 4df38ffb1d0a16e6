"""The citizen's access report (個人データ利用状況のお知らせ): who saw which of their data,
when, for what purpose, in which incident — from the audit log, in Japanese (or English).

The report states whether the audit chain verified, so a citizen never gets a clean-looking
report from a tampered log. Producing it is itself recorded in the log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from bosai.errors import BosaiError
from bosai.i18n import t
from bosai.jpdate import format_datetime, jst, wareki
from bosai.spreadsheet_safe import to_csv_bytes
from sql import audit
from sql.queries.audit_log import citizen_access, citizen_id_for_subject
from sql.viewer import SYSTEM, Viewer

from .pdf import render_pdf, render_template

FORMATS = (".pdf", ".csv")
COLUMNS = ("at", "who", "data", "action", "purpose", "incident")
#: Audit targets (before any ':') → the catalog key of the data they cover.
TARGET_DATA = {
    "policy.rescue_requests": "rescue_requests",
    "policy.register_people": "register_people",
    "policy.register_download": "register_download",
    "policy.shelter_arrivals": "shelter_arrivals",
    "policy.live_positions": "live_positions",
    "policy.households_unaccounted": "households_unaccounted",
    "policy.notification_recipients": "notification_recipients",
    "audit_log.search": "audit_search",
    "report.citizen_access": "access_report",
}


@dataclasses.dataclass(frozen=True)
class AccessReport:
    subject: str
    citizen_id: int
    generated_at: dt.datetime
    rows: pd.DataFrame  # the audit rows naming the citizen (sql.queries.audit_log.COLUMNS)
    chain: audit.ChainReport


def build(engine: Engine, subject: str, viewer: Viewer = SYSTEM) -> AccessReport:
    """The report for the citizen known to the city OS as ``subject`` (recorded in the log)."""
    citizen_id = citizen_id_for_subject(engine, subject)
    if citizen_id is None:
        raise BosaiError(f"no citizen with subject {subject!r} in this database")
    rows = citizen_access(engine, citizen_id)
    chain = audit.verify(engine)
    audit.record(
        engine,
        viewer,
        "read",
        target="report.citizen_access",
        citizen_ids=[citizen_id],
        details={"rows": len(rows), "chain_ok": chain.ok},
    )
    return AccessReport(subject, citizen_id, dt.datetime.now(dt.UTC), rows, chain)


def _data_label(target: str | None, action: str, details: Any, lang: str) -> str:
    target = target or ""
    if action == "cityos_sync":
        return t("report.access.data.cityos_sync", lang)
    if action.startswith("write:"):
        return t("report.access.data.write", lang, what=action.removeprefix("write:"))
    if target.startswith("research."):
        return t("report.access.data.research", lang)
    key = TARGET_DATA.get(target.split(":")[0])
    if key == "rescue_requests" and isinstance(details, dict) and details.get("positions") is False:
        key = "rescue_requests_no_position"
    if key is None:
        return t("report.access.data.other", lang, what=target or action)
    return t(f"report.access.data.{key}", lang)


def _use(target: str | None, action: str, lang: str) -> str:
    if action == "cityos_sync":
        return t("report.access.action.sync", lang)
    if action.startswith("write:"):
        return t("report.access.action.write", lang)
    if target == "policy.register_download":
        return t("report.access.action.download", lang)
    return t("report.access.action.read", lang)


def _who(actor: str, name: Any, role: str, lang: str) -> str:
    role_label = t(f"role.{role}", lang)
    if actor.startswith("system:"):
        return t("report.access.system", lang)
    if isinstance(name, str) and name:
        return f"{name}（{role_label}）" if lang == "ja" else f"{name} ({role_label})"
    return role_label


def table(report: AccessReport, lang: str = "ja") -> pd.DataFrame:
    """The report's rows as people read them: one column per :data:`COLUMNS`, oldest first."""
    rows = report.rows
    out = pd.DataFrame(
        {
            "at": [format_datetime(v, lang) for v in rows["at"]],
            "who": [
                _who(a, n, r, lang)
                for a, n, r in zip(rows["actor"], rows["actor_name"], rows["role"], strict=True)
            ],
            "data": [
                _data_label(tg, ac, de, lang)
                for tg, ac, de in zip(rows["target"], rows["action"], rows["details"], strict=True)
            ],
            "action": [
                _use(tg, ac, lang) for tg, ac in zip(rows["target"], rows["action"], strict=True)
            ],
            "purpose": [t(f"purpose.{p}", lang) for p in rows["purpose"]],
            "incident": [
                n if isinstance(n, str) and n else t("report.access.no_incident", lang)
                for n in rows["incident_name"]
            ],
        }
    )
    out.columns = [t(f"report.access.col.{c}", lang) for c in COLUMNS]
    return out


def to_csv(report: AccessReport, lang: str = "ja") -> bytes:
    """Spreadsheet-safe CSV (UTF-8 with BOM, formula-looking cells escaped)."""
    return to_csv_bytes(table(report, lang))


def _chain_text(report: AccessReport, lang: str) -> str:
    if report.chain.ok:
        return t("report.access.chain_ok", lang, rows=f"{report.chain.rows:,}")
    return t("report.access.chain_bad", lang, row=report.chain.first_bad_id)


def to_html(report: AccessReport, lang: str = "ja") -> str:
    frame = table(report, lang)
    generated = jst(report.generated_at)
    return render_template(
        "citizen_access.html",
        lang=lang,
        title=t("report.access.title", lang),
        labels={k: t(f"report.access.{k}", lang) for k in ("subject", "generated", "entries")},
        subject=report.subject,
        generated=wareki(generated.date()) if lang == "ja" else f"{generated:%Y-%m-%d}",
        entries=f"{len(frame):,}",
        intro=t("report.access.intro", lang),
        chain_ok=report.chain.ok,
        chain_text=_chain_text(report, lang),
        columns=list(frame.columns),
        rows=frame.values.tolist(),
        none_text=t("report.access.none", lang),
        legal=t("report.access.legal", lang),
    )


def to_pdf(report: AccessReport, lang: str = "ja") -> bytes:
    return render_pdf(
        to_html(report, lang),
        metadata={"title": t("report.access.title", lang), "authors": ["Bosai Ops"]},
    )


def write(report: AccessReport, path: Path, lang: str = "ja") -> Path:
    """Write the report as PDF or CSV, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BosaiError(
            f"{path}: the report is written as .pdf or .csv, not {suffix or 'no suffix'!r}"
        )
    data = to_pdf(report, lang) if suffix == ".pdf" else to_csv(report, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
