"""The app shell: who is viewing, language and type size, the mode banner, the navigation.

Whoever is signed in (``st.user.is_logged_in``, roles from the ID-token claim) is the viewer.
Without ``[auth]`` configured and nobody signed in, the app runs in DEMO mode — only on a
database that holds nothing but synthetic data — with a visible banner and a role switcher.
"""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from bosai.i18n import LANGUAGES, t
from sql.engine import database_url
from sql.viewer import Viewer

from . import data, registry
from .context import PageContext, install

ROLE_CLAIM = os.environ.get("BOSAI_ROLE_CLAIM", "roles")
LARGE_TYPE_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stWidgetLabel"] p { font-size: 1.15rem; }
</style>
"""


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def _language() -> str:
    labels = {"ja": "日本語", "en": "English"}
    lang = st.sidebar.segmented_control(
        "表示言語 / Language", LANGUAGES, format_func=labels.get, default="ja", key="lang"
    )
    return lang or "ja"


def _signed_in_viewer(lang: str) -> Viewer | None:
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return None
    roles = claims.get(ROLE_CLAIM) or []
    if isinstance(roles, str):
        roles = [roles]
    role = next((r for r in roles if r in registry.ALL_ROLES), None)
    if role is None:
        st.error(t("shell.no_role", lang, claim=ROLE_CLAIM))
        st.stop()
    subject = str(claims.get("sub") or claims.get("email") or "unknown")
    return Viewer(role=role, subject=subject, name=str(claims.get("name") or subject))


def _demo_viewer(lang: str) -> Viewer:
    role = st.sidebar.selectbox(
        t("shell.role", lang),
        registry.ALL_ROLES,
        format_func=lambda r: t(f"role.{r}", lang),
        key="demo_role",
    )
    return Viewer(
        role=role, subject=f"demo-{role.replace('_', '-')}", name=f"demo {role}", demo=True
    )


def prepare() -> PageContext:
    """Set up this run's :class:`PageContext` (or stop with a clear message)."""
    lang = _language()
    large = st.sidebar.toggle(t("app.large_type", lang), key="large_type")
    if large:
        st.markdown(LARGE_TYPE_CSS, unsafe_allow_html=True)  # static CSS, no data
    url = database_url()
    engine = data.engine_for(url)
    try:
        from sql.city_config import active_city
        from sql.demo_store import demo_state, holds_real_data
        from sql.migrate import is_up_to_date

        if not is_up_to_date(engine):
            st.error(t("shell.schema_outdated", lang))
            st.stop()
        city = active_city(engine)
        demo = demo_state(engine) is not None
        viewer = _signed_in_viewer(lang)
        if viewer is None:
            if _auth_configured():
                if st.button(t("shell.sign_in", lang), type="primary"):
                    st.login()
                st.stop()
            if holds_real_data(engine):
                st.error(t("shell.demo_refused", lang))
                st.stop()
            viewer = _demo_viewer(lang)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        st.error(t("shell.db_unreachable", lang, error=type(cause).__name__))
        st.stop()
    if demo or viewer.demo:
        st.sidebar.warning(t("app.demo_badge", lang))
    ctx = PageContext(
        engine=engine,
        database_url=url,
        viewer=viewer,
        lang=lang,
        city=city,
        large_type=large,
        demo=demo,
    )
    install(ctx)
    _mode_banner(ctx)
    return ctx


def _mode_banner(ctx: PageContext) -> None:
    """Which mode the city is in, on every page: a drill is blue, an emergency amber."""
    try:
        incident = data.current_incident(ctx.database_url)
    except SQLAlchemyError:
        return
    if incident is None or not incident.active:
        st.sidebar.caption(ctx.t("shell.normal"))
        return
    name = incident.name(ctx.lang)
    if incident.kind == "drill":
        st.info(ctx.t("shell.drill", incident=name), icon=":material/school:")
    elif incident.emergency_mode:
        st.warning(ctx.t("shell.emergency", incident=name), icon=":material/emergency_home:")
    else:
        st.sidebar.caption(f"{ctx.t('shell.normal')}：{name}")


def navigation(ctx: PageContext):
    """``st.navigation`` with the pages the viewer's role may open."""
    sections: dict[str, list] = {}
    for spec in registry.pages_for_role(ctx.viewer.role):
        page = st.Page(
            str(spec.path), title=ctx.t(spec.title_key), icon=spec.icon, url_path=spec.url_path
        )
        sections.setdefault(ctx.t(spec.section_key), []).append(page)
    return st.navigation(sections)
