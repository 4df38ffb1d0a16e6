"""Bosai Ops — the Streamlit entry point: set up the shell, then build the navigation."""

import streamlit as st

from dashboard import shell

st.set_page_config(
    page_title="Bosai Ops 防災オペレーション", page_icon=":material/emergency:", layout="wide"
)
ctx = shell.prepare()
shell.navigation(ctx).run()
