"""De-identified microdata as files: one spreadsheet-safe CSV per table, the k-anonymity report
and the data dictionary (CSV and Markdown) beside them, in a folder or one ZIP.

The export itself — which records, their generalisation, the random pseudonym, the k check
and the audit row — is :func:`sql.policy.microdata_export`; this module only writes what it
returned. File names carry the export's time in Japan time and its id.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from bosai.jpdate import file_stamp
from bosai.spreadsheet_safe import to_csv_bytes
from sql import policy
from sql.viewer import Viewer

#: What each exported column means (English; the dictionary is for researchers).
DICTIONARY: dict[str, str] = {
    "pseudonym": "Random pseudonym of a person, drawn for this export only (the same person "
    "has the same pseudonym in every table of one export, another one in the next export).",
    "age_band": "Age band at the reference date (under20, 20s … 60s, 70plus); unknown if no "
    "birth date.",
    "sex": "Sex as recorded in the city OS (female, male, other); unknown if not recorded.",
    "district": "District (町名) of the home address; unknown if not recorded.",
    "home_cell": "H3 cell of the home at the export's coarse resolution (never the point).",
    "group": "Participant group of the drill log (resident, elderly, staff, visitor).",
    "event_type": "Drill event (notification_sent, notification_opened, safety_answered, "
    "evacuation_started, arrived, ...) or consent event (given, withdrawn, expired).",
    "minutes": "Minutes from the drill's start, floored to the export's time step.",
    "data_item": "The consented data item (basic_info, location, ...).",
    "share_target": "With whom the item is shared (city_hq, family, ...).",
    "collection_method": "How the consent was collected (app, paper, ...).",
    "occurred": "The month the consent event occurred in (YYYY-MM, Japan time).",
    "incident_id": "The incident the status report belongs to (empty: none).",
    "state": "Reported status (safe_at_home, evacuated, needs_rescue, ...).",
    "source": "Where the status report came from (app, shelter, ...).",
    "reported": "When the status was reported, Japan time, floored to the time step.",
}
TABLE_NOTES = {
    "drill": "One row per drill event of a citizen taking part (visitors without a citizen "
    "record are not exported).",
    "consent": "One row per consent-ledger event.",
    "status": "One row per status report.",
}


def dictionary(export) -> pd.DataFrame:
    """``table, column, quasi_identifier, description`` for every exported column."""
    quasi = {
        row.table: [q.strip() for q in row.quasi_identifiers.split(",")]
        for row in export.report.itertuples()
    }
    rows = []
    for name, frame in export.tables.items():
        for column in frame.columns:
            rows.append(
                {
                    "table": name,
                    "column": column,
                    "quasi_identifier": "yes" if column in quasi.get(name, []) else "no",
                    "description": DICTIONARY.get(column, ""),
                }
            )
    return pd.DataFrame(rows, columns=["table", "column", "quasi_identifier", "description"])


def dictionary_markdown(export, made_at: dt.datetime) -> str:
    """The data dictionary and the k-anonymity report as Markdown."""
    p = export.parameters
    lines = [
        f"# Microdata export {export.export_id}",
        "",
        f"- made: {file_stamp(made_at)} (Japan time)",
        f"- purpose: {p['purpose']}",
        f"- requester: {p['requester']}",
        f"- k: {p['k']} (each combination of the quasi-identifiers is shared by at least k "
        "people in its table, and each row's combination with its rounded time too; people in "
        "smaller groups and rows at rarer moments are left out and counted below)",
        f"- place of the home: {p['location']} (H3 resolution {p['h3_resolution']}); times floored to "
        f"{p['time_step_minutes']} minutes (consent events: to the month); age bands on "
        f"{p['age_bands_on']}",
        "- no names, addresses, subjects, phone numbers, birth dates, positions or free text",
        "",
        "## k-anonymity",
        "",
        "| table | rows | people | classes | smallest class | rows suppressed | people suppressed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in export.report.itertuples():
        lines.append(
            f"| {r.table} | {r.rows_exported} | {r.people_exported} | {r.classes} | "
            f"{r.smallest_class} | {r.rows_suppressed} | {r.people_suppressed} |"
        )
    sub = dictionary(export)
    for name in export.tables:
        lines += ["", f"## {name}", "", TABLE_NOTES.get(name, ""), ""]
        lines += ["| column | quasi-identifier | meaning |", "|---|---|---|"]
        for r in sub[sub["table"] == name].itertuples():
            lines.append(f"| {r.column} | {r.quasi_identifier} | {r.description} |")
    return "\n".join(lines) + "\n"


def files(export, made_at: dt.datetime) -> dict[str, bytes]:
    """File name → content: ``<stem>_<table>.csv`` per table, ``<stem>_k_report.csv``,
    ``<stem>_dictionary.csv`` and ``<stem>_dictionary.md``."""
    stem = f"microdata_{file_stamp(made_at)}_{export.export_id[:8]}"
    out = {f"{stem}_{name}.csv": to_csv_bytes(frame) for name, frame in export.tables.items()}
    out[f"{stem}_k_report.csv"] = to_csv_bytes(export.report)
    out[f"{stem}_dictionary.csv"] = to_csv_bytes(dictionary(export))
    out[f"{stem}_dictionary.md"] = dictionary_markdown(export, made_at).encode("utf-8")
    return out


def write(export, folder: Path, made_at: dt.datetime) -> list[Path]:
    """Write the export's files into ``folder`` (created); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files(export, made_at).items():
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths


def to_zip(export, made_at: dt.datetime) -> bytes:
    """The export's files in one ZIP (the page's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files(export, made_at).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def export_files(
    engine: Engine, viewer: Viewer, **request: Any
) -> tuple[policy.MicrodataExport, dict[str, bytes], dt.datetime]:
    """Make one export and its files: ``request`` is :func:`sql.policy.microdata_export`'s
    keyword arguments (purpose, requester, drill, tables, k, coarsening), checked and audited
    by the policy before it returns."""
    export = policy.microdata_export(engine, viewer, **request)
    made_at = dt.datetime.now(dt.UTC)
    return export, files(export, made_at), made_at
