"""Placeholder while the page is written."""

import streamlit as st

from dashboard.context import current

ctx = current()
st.title(ctx.t("safety.title"))
