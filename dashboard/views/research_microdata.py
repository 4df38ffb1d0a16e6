"""研究用個票データ — de-identified drill, consent and status records for researchers: the
request (purpose, requester, records, k, place of the home, rounding), a dialog that states
what making it records, then the k-anonymity report and the ZIP with the data dictionary.
Researcher and admin only (the policy refuses everyone else too)."""

import streamlit as st

from dashboard import microdata_panel
from dashboard.context import current
from sql import policy
from sql.queries import research

ctx = current()
t = ctx.t
st.title(t("research.microdata.title"))
st.caption(t("research.microdata.caption", k=policy.MICRODATA_K))

request = microdata_panel.request_form(ctx, research.drills(ctx.engine))
microdata_panel.confirm(ctx, request)
microdata_panel.show_result(ctx)
