"""取り込み保留 — the city-OS records that failed the boundary checks (admins only): which
record, where in the feed, which field, why. The values themselves were never kept."""

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from dashboard.context import current
from dashboard.widgets import text_table
from sql.cityos_store import quarantined_records

MAX_ROWS = 1000

ctx = current()
st.title(ctx.t("admin.quarantine.title"))
st.caption(ctx.t("admin.quarantine.intro"))

rows = quarantined_records(ctx.engine, limit=MAX_ROWS)
if not rows:
    st.success(ctx.t("admin.quarantine.none"))
    st.stop()

st.caption(ctx.t("admin.quarantine.found", n=f"{len(rows):,}", limit=f"{MAX_ROWS:,}"))
table = pd.DataFrame(
    {
        ctx.t("admin.quarantine.col.at"): [
            format_datetime(r["received_at"], ctx.lang) for r in rows
        ],
        ctx.t("admin.quarantine.col.source"): [r["source"] for r in rows],
        ctx.t("admin.quarantine.col.kind"): [
            ctx.t(f"admin.quarantine.kind.{r['kind']}") for r in rows
        ],
        ctx.t("admin.quarantine.col.ref"): [r["record_ref"] or "—" for r in rows],
        ctx.t("admin.quarantine.col.field"): [r["field"] or "—" for r in rows],
        ctx.t("admin.quarantine.col.reason"): [
            ctx.t(f"admin.quarantine.reason.{r['reason']}") for r in rows
        ],
        ctx.t("admin.quarantine.col.position"): [r["position"] for r in rows],
    }
)
text_table(table, use_container_width=True)
