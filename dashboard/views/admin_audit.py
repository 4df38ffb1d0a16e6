"""監査ログ — search the audit log (admins only): who read or changed what, in which role, for
what purpose, in which incident, naming which citizens; and check the hash chain. Each search
is itself recorded in the log (:func:`sql.queries.audit_log.search`)."""

import datetime as dt
import json

import pandas as pd
import streamlit as st

from bosai.jpdate import file_stamp, format_datetime, jst
from bosai.spreadsheet_safe import to_csv_bytes
from dashboard import gate
from dashboard.context import current
from dashboard.registry import ALL_ROLES
from dashboard.widgets import text_table
from sql import audit
from sql.queries.audit_log import AuditFilter, actions, search

RESULT_KEY = "_admin_audit_result"
MAX_ROWS = 1000
ANY = ""

ctx = current()
st.title(ctx.t("admin.audit.title"))
st.caption(ctx.t("admin.audit.intro"))

with st.container(border=True):
    st.button(ctx.t("admin.audit.verify"), key="audit_verify", icon=":material/verified:")
    if st.session_state.get("audit_verify"):
        report = audit.verify(ctx.engine)
        if report.ok:
            st.success(ctx.t("admin.audit.chain_ok", rows=f"{report.rows:,}"))
        else:
            row = report.first_bad_id if report.first_bad_id is not None else "—"
            st.error(ctx.t("admin.audit.chain_bad", row=row, reason=report.reason))


def _label_action(action: str) -> str:
    return ctx.t("admin.audit.any") if action == ANY else action


today = jst(dt.datetime.now(dt.UTC)).date()
with st.form("audit_search"):
    one, two, three = st.columns(3)
    one.text_input(ctx.t("admin.audit.actor"), key="audit_actor", max_chars=128)
    two.selectbox(
        ctx.t("admin.audit.role"),
        [ANY, *ALL_ROLES],
        format_func=lambda r: ctx.t("admin.audit.any") if r == ANY else ctx.t(f"role.{r}"),
        key="audit_role",
    )
    three.selectbox(
        ctx.t("admin.audit.action"),
        [ANY, "read", "write:*", "auth:*", *actions(ctx.engine)],
        format_func=_label_action,
        key="audit_action",
    )
    four, five = st.columns([2, 1])
    four.date_input(
        ctx.t("admin.audit.period"),
        value=(today - dt.timedelta(days=30), today),
        key="audit_period",
        format="YYYY/MM/DD",
    )
    five.text_input(ctx.t("admin.audit.citizen"), key="audit_citizen", max_chars=12)
    submitted = st.form_submit_button(ctx.t("admin.audit.search"), type="primary")

if submitted:
    period = st.session_state.get("audit_period") or ()
    since = period[0] if len(period) > 0 else None
    until = period[1] if len(period) > 1 else since
    citizen_text = (st.session_state.get("audit_citizen") or "").strip()
    if citizen_text and not citizen_text.isdigit():
        st.error(ctx.t("admin.audit.citizen_invalid"))
        st.stop()
    flt = AuditFilter(
        actor=(st.session_state.get("audit_actor") or "").strip() or None,
        role=st.session_state.get("audit_role") or None,
        action=st.session_state.get("audit_action") or None,
        since=since,
        until=until,
        citizen_id=int(citizen_text) if citizen_text else None,
    )
    st.session_state[RESULT_KEY] = search(ctx.engine, ctx.viewer, flt, limit=MAX_ROWS)

rows: pd.DataFrame | None = st.session_state.get(RESULT_KEY)
if rows is None:
    st.info(ctx.t("admin.audit.hint"))
    st.stop()
if rows.empty:
    st.info(ctx.t("admin.audit.no_rows"))
    st.stop()

st.caption(ctx.t("admin.audit.found", n=f"{len(rows):,}", limit=f"{MAX_ROWS:,}"))


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" …（+{len(ids) - 20}）" if len(ids) > 20 else "")


table = pd.DataFrame(
    {
        ctx.t("admin.audit.col.id"): rows["id"],
        ctx.t("admin.audit.col.at"): [
            format_datetime(v, ctx.lang) + f":{jst(v):%S}" for v in rows["at"]
        ],
        ctx.t("admin.audit.col.actor"): [
            f"{n}（{a}）" if isinstance(n, str) and n else a
            for a, n in zip(rows["actor"], rows["actor_name"], strict=True)
        ],
        ctx.t("admin.audit.col.role"): [ctx.t(f"role.{r}") for r in rows["role"]],
        ctx.t("admin.audit.col.purpose"): [ctx.t(f"purpose.{p}") for p in rows["purpose"]],
        ctx.t("admin.audit.col.incident"): rows["incident_name"].fillna("—"),
        ctx.t("admin.audit.col.action"): rows["action"],
        ctx.t("admin.audit.col.target"): rows["target"].fillna(""),
        ctx.t("admin.audit.col.citizens"): rows["citizen_count"],
        ctx.t("admin.audit.col.citizen_ids"): [_ids(v) for v in rows["citizen_ids"]],
        ctx.t("admin.audit.col.details"): [
            "" if d is None else json.dumps(d, ensure_ascii=False) for d in rows["details"]
        ],
    }
)
text_table(table, use_container_width=True)
gate.download_button(
    ctx.t("admin.audit.download"),
    lambda: to_csv_bytes(table),
    file_name=f"audit_log_{file_stamp(dt.datetime.now(dt.UTC))}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="audit_download",
)
