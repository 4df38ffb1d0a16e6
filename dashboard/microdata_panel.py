"""The microdata page's parts: the request form, the confirmation dialog that makes the export
(:func:`dashboard.research_models.microdata_files`, audited by the policy before it returns)
and the result — the k-anonymity report and the ZIP of the data with its dictionary.

The result is kept in the session (it is the de-identified export itself, nothing more) so the
report and the download survive the rerun that closes the dialog.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from bosai.jpdate import file_stamp
from dashboard import gate
from dashboard.context import PageContext
from sql import policy

RESULT_KEY = "microdata_result"
#: The submitted request awaiting confirmation (the dialog stays open across reruns).
PENDING_KEY = "microdata_pending"
TABLES = ("drill", "consent", "status")
REPORT_COLUMNS = (
    "table",
    "rows",
    "people",
    "classes",
    "smallest_class",
    "rows_suppressed",
    "people_suppressed",
    "rows_exported",
    "people_exported",
)


@dataclasses.dataclass(frozen=True)
class Request:
    purpose: str
    requester: str
    drill_id: int | None
    tables: tuple[str, ...]
    k: int
    location: str
    time_step: int


def request_form(ctx: PageContext, drills: pd.DataFrame) -> Request | None:
    """The form; returns the request when it is submitted complete (else says what is missing)."""
    t = ctx.t
    labels = {int(row.id): str(row.name) for row in drills.itertuples()}
    with st.form("microdata_request"):
        purpose = st.text_input(t("research.microdata.purpose"), max_chars=200)
        requester = st.text_input(
            t("research.microdata.requester"), value=ctx.viewer.name, max_chars=120
        )
        drill_id = st.selectbox(
            t("research.microdata.drill"),
            [*labels, None],
            format_func=lambda d: t("research.microdata.no_drill") if d is None else labels[d],
        )
        tables = st.multiselect(
            t("research.microdata.tables"),
            list(TABLES),
            default=list(TABLES),
            format_func=lambda name: t(f"research.microdata.table.{name}"),
        )
        left, middle, right = st.columns(3)
        k = left.number_input(
            t("research.microdata.k"), min_value=policy.MICRODATA_K, max_value=100, step=1
        )
        location = middle.selectbox(
            t("research.microdata.location.label"),
            list(policy.MICRODATA_LOCATIONS),
            format_func=lambda code: t(f"research.microdata.location.{code}"),
        )
        time_step = right.selectbox(t("research.microdata.time_step"), [5, 10, 15, 30, 60], index=0)
        st.caption(t("research.microdata.confirm"))
        submitted = st.form_submit_button(t("research.microdata.make"), type="primary")
    if not submitted:
        return None
    if not purpose.strip() or not requester.strip():
        st.error(t("research.microdata.need_purpose"))
        return None
    chosen = tuple(name for name in tables if name != "drill" or drill_id is not None)
    if not chosen:
        st.error(t("research.microdata.need_tables"))
        return None
    return Request(
        purpose.strip(), requester.strip(), drill_id, chosen, int(k), location, int(time_step)
    )


def confirm(ctx: PageContext, request: Request | None) -> None:
    """Open the dialog that states the consequence and makes the export on confirmation (a
    submitted request waits in the session until confirmed or cancelled)."""
    if request is not None:
        st.session_state[PENDING_KEY] = request
        st.session_state.pop(RESULT_KEY, None)
    pending = st.session_state.get(PENDING_KEY)
    if pending is not None:
        gate.dialog(ctx.t("research.microdata.make"))(_confirm_body)(ctx, pending)


def _confirm_body(ctx: PageContext, request: Request) -> None:
    from dashboard.research_models import microdata_files

    t = ctx.t
    st.text(t("research.microdata.confirm"))
    st.text(f"{t('research.microdata.purpose')}: {request.purpose}")
    st.text(f"{t('research.microdata.requester')}: {request.requester}")
    left, right = st.columns(2)
    if left.button(t("research.microdata.confirm_button"), type="primary", width="stretch"):
        st.session_state.pop(PENDING_KEY, None)
        try:
            export, files, made_at = microdata_files(
                ctx.engine,
                ctx.viewer,
                purpose=request.purpose,
                requester=request.requester,
                drill_id=request.drill_id,
                tables=request.tables,
                k=request.k,
                location=request.location,
                time_step=request.time_step,
            )
        except (ValueError, policy.PolicyDenied):
            st.session_state[RESULT_KEY] = {"failed": True}
        else:
            from reports.microdata import to_zip

            st.session_state[RESULT_KEY] = {
                "export": export.export_id,
                "report": export.report.to_dict("records"),
                "zip": to_zip(export, made_at),
                "file_name": f"microdata_{file_stamp(made_at)}_{export.export_id[:8]}.zip",
            }
        st.rerun()
    if right.button(t("safety.reception.cancel"), width="stretch"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()


def show_result(ctx: PageContext) -> None:
    """The last export's k report and its download (what really happened)."""
    t = ctx.t
    result: dict[str, Any] | None = st.session_state.get(RESULT_KEY)
    if not result:
        return
    if result.get("failed"):
        st.error(t("research.microdata.failed"))
        return
    st.success(t("research.microdata.made", export=result["export"]))
    st.subheader(t("research.microdata.report"))
    report = pd.DataFrame(result["report"])[list(REPORT_COLUMNS)]
    report["table"] = [t(f"research.microdata.table.{name}") for name in report["table"]]
    st.dataframe(
        report.rename(columns={c: t(f"research.microdata.columns.{c}") for c in REPORT_COLUMNS}),
        hide_index=True,
    )
    gate.download_button(
        t("research.microdata.download"),
        result["zip"],
        file_name=result["file_name"],
        mime="application/zip",
    )
