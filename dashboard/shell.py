"""The app shell: who is viewing, language and type size, the mode banner, the navigation.

Whoever is signed in (``st.user.is_logged_in``, roles from the ID-token claim) is the viewer,
whatever the configuration — if the token has not expired (``exp``) and our staff table holds
an active account for their ``sub`` in a claimed role (:mod:`dashboard.sign_in`). Without
``[auth]`` configured and nobody signed in, the app runs in DEMO mode — only on a database
``bosai demo`` made (marked ``demo`` in ``meta``) that holds nothing but synthetic data — with a
visible banner and a role switcher. With ``[auth]`` the switcher never appears. A deep link to
a page the role may not open is refused (and the refusal audited).

Every full run ends its set-up with :func:`dashboard.gate.admit`, the same check that every
fragment refresh, callback, dialog and download makes (:mod:`dashboard.gate`).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit.errors import StreamlitAPIException

from bosai.i18n import LANGUAGES, t
from sql import audit
from sql.engine import database_url
from sql.viewer import Viewer

from . import data, gate, registry, sign_in, widget_texts, widgets
from .context import SESSION_KEY, PageContext, install
from .text import plain, plain_values

#: Session keys: the sign-in already written to the audit log, deep-link refusals audited.
AUDITED_SIGN_IN_KEY = "_bosai_signed_in_audited"
AUDITED_REFUSALS_KEY = "_bosai_refusals_audited"
#: 大きな文字: everything Streamlit sizes in rem grows with the root; the KPI numbers stay
#: clearly larger than their labels, labels and page names wrap instead of being cut, and a row
#: of KPIs wraps onto more lines rather than squeezing its numbers (1366×768 and a 1920×1080
#: wall screen; tests/e2e/test_large_type_browser.py measures it). Static CSS, no data.
#: Streamlit's own English hints under text boxes ("Press Enter to submit form" / "to
#: apply"): the pages say what a field does in the viewer's language instead (static CSS).
SURFACE_CSS = """
<style>
[data-testid="InputInstructions"] { display: none; }
</style>
"""
LARGE_TYPE_CSS = """
<style>
html { font-size: 20px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stWidgetLabel"] p, [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {
  font-size: 1.1rem; line-height: 1.3;
}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stSidebarNav"] span {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 2.2rem; line-height: 1.2; font-weight: 600;
}
[data-testid="stMetricDelta"] [data-testid="stMarkdownContainer"] p { font-size: 1rem; }
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {
  flex-wrap: wrap; row-gap: 1rem;
}
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"])
  > [data-testid="stColumn"] { flex: 1 1 13rem; min-width: 13rem; }
</style>
"""


#: Session key: the type size was just switched (the page is drawn afresh once).
TYPE_SIZE_CHANGED_KEY = "_bosai_type_size_changed"


def _type_size_changed() -> None:
    st.session_state[TYPE_SIZE_CHANGED_KEY] = True


def redraw_after_type_size_change(page) -> None:
    """Draw the page afresh once after 大きな文字 was switched: tables (a canvas) take their
    type size from the page's root size when they are first drawn, not when it changes."""
    if st.session_state.pop(TYPE_SIZE_CHANGED_KEY, False):
        st.switch_page(page)


def _keep_choices_across_languages() -> None:
    """Keep every choice when the language changes. A choice widget sends back the *label* of
    what is chosen; after a switch that label is in the other language, matches no option and
    the box falls back to its first option or shows the old language's label (the demo role
    jumped to HQ, or read 研究者 in the English UI). Writing each value back to its own key
    before the run makes Streamlit send the value itself, labelled in the new language.
    Only choice-like values are written (text, numbers, dates, lists of them): buttons,
    uploaders and tables refuse a value set in code — when drawn, not when set."""
    for key in list(st.session_state.keys()):
        value = st.session_state.get(key)
        if key != "lang" and _is_choice(value):
            try:
                st.session_state[key] = value
            except StreamlitAPIException:
                pass


def _is_choice(value: object) -> bool:
    """Whether ``value`` is what a choice, text, number or date widget holds."""
    plain = (str, int, float, dt.date, dt.time)
    if isinstance(value, bool) or value is None:  # buttons hold booleans; empty uploaders None
        return False
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, plain) and not isinstance(v, bool) for v in value)
    return isinstance(value, plain)


def _language() -> str:
    labels = {"ja": "日本語", "en": "English"}
    lang = st.sidebar.segmented_control(
        "表示言語 / Language",
        LANGUAGES,
        format_func=labels.get,
        default="ja",
        key="lang",
        on_change=gate.callback(_keep_choices_across_languages),
    )
    return lang or "ja"


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:
        return {}


def _audit_auth(engine, viewer: Viewer | SimpleNamespace, action: str, **details) -> None:
    try:
        audit.record(engine, viewer, action, target="auth", details=details or None)
    except SQLAlchemyError:
        pass  # the refusal still stands; the database error shows on the next run


def _sign_out_button(lang: str, where=None) -> None:
    if (where or st.sidebar).button(
        t("auth.sign_out", lang), key="sign_out", icon=":material/logout:"
    ):
        from sql import policy

        policy.forget_recent_views()
        st.session_state.pop(AUDITED_SIGN_IN_KEY, None)
        st.logout()


def _signed_in_viewer(engine, claims: dict, lang: str) -> Viewer:
    """The viewer for the signed-in user; signs out an expired sign-in, stops on a refusal."""
    subject = str(claims.get("sub") or claims.get("email") or "unknown")
    settings = sign_in.role_settings(_secrets())
    # Not a viewer yet: the audit row names the identity and the roles it claimed, as given.
    someone = SimpleNamespace(
        subject=subject,
        role=(",".join(sign_in.claimed_roles(claims, settings)) or "none")[:32],
        purpose="authentication",
        incident_id=None,
    )
    if sign_in.is_expired(claims):  # before any lookup or write with an expired token
        st.session_state.pop(AUDITED_SIGN_IN_KEY, None)
        gate.end_session(engine, someone, lang, gate.Refused("auth.expired"), "full_run")
    try:
        viewer = sign_in.viewer_for(engine, claims, settings)
    except sign_in.SignInRefused as refusal:
        previous = st.session_state.get(SESSION_KEY)
        if previous is not None and previous.viewer.subject == subject:
            # Signed in until now (deactivated, moved to another role meanwhile): the session
            # ends as on every other run path.
            gate.end_session(
                engine,
                previous.viewer,
                lang,
                gate.Refused(refusal.key, **refusal.values),
                "full_run",
            )
        if st.session_state.get(AUDITED_SIGN_IN_KEY) != ("refused", subject, refusal.key):
            _audit_auth(engine, someone, "auth:refused", reason=refusal.key)
            st.session_state[AUDITED_SIGN_IN_KEY] = ("refused", subject, refusal.key)
        st.error(t(refusal.key, lang, **plain_values(refusal.values)))
        _sign_out_button(lang, st)
        st.stop()
    if st.session_state.get(AUDITED_SIGN_IN_KEY) != ("ok", viewer.subject, viewer.role):
        _audit_auth(engine, viewer, "auth:sign_in", staff_id=viewer.staff_id)
        st.session_state[AUDITED_SIGN_IN_KEY] = ("ok", viewer.subject, viewer.role)
    return viewer


def _demo_viewer(engine, lang: str) -> Viewer:
    """DEMO mode: the role switcher; the viewer is the demo city's staff member in that role
    (their shelters and team), or an anonymous demo viewer on a database without demo staff."""
    from sql.queries.staff import first_staff_with_role

    role = st.sidebar.selectbox(
        t("shell.role", lang),
        registry.ALL_ROLES,
        format_func=lambda r: t(f"role.{r}", lang),
        key="demo_role",
    )
    member = first_staff_with_role(engine, role, subject_prefix="demo-")
    if member is not None:
        return sign_in.staff_viewer(member, demo=True)
    return Viewer(
        role=role, subject=f"demo-{role.replace('_', '-')}", name=f"demo {role}", demo=True
    )


def prepare() -> PageContext:
    """Set up this run's :class:`PageContext` (or stop with a clear message)."""
    lang = _language()
    widget_texts.apply(lang)  # first: Streamlit's own English in Japanese (catalog texts, CSS)
    gate.stop_if_ended(lang)
    large = st.sidebar.toggle(
        t("app.large_type", lang), key="large_type", on_change=gate.callback(_type_size_changed)
    )
    st.markdown(SURFACE_CSS, unsafe_allow_html=True)  # static CSS, no data
    if large:
        st.markdown(LARGE_TYPE_CSS, unsafe_allow_html=True)  # static CSS, no data
    url = database_url()
    engine = data.engine_for(url)
    try:
        from sql.city_config import active_city
        from sql.demo_store import demo_state, holds_real_data, is_demo_database
        from sql.migrate import is_up_to_date

        if not is_up_to_date(engine):
            st.error(t("shell.schema_outdated", lang))
            st.stop()
        city = active_city(engine)
        demo = demo_state(engine) is not None
        claims = st.user.to_dict()
        if claims.get("is_logged_in"):
            viewer = _signed_in_viewer(engine, claims, lang)
        elif gate.auth_configured():
            st.title("Bosai Ops 防災オペレーション")
            st.info(t("auth.please_sign_in", lang))
            if st.button(t("shell.sign_in", lang), type="primary", icon=":material/login:"):
                st.login()
            st.stop()
        else:
            # DEMO only on a database `bosai demo` made (marked in meta), holding no real data.
            if not is_demo_database(engine):
                st.error(t("shell.demo_unmarked", lang))
                st.stop()
            if holds_real_data(engine):
                st.error(t("shell.demo_refused", lang))
                st.stop()
            viewer = _demo_viewer(engine, lang)
    except SQLAlchemyError as exc:
        # Red banner with the last good data; reruns by itself once the database answers.
        widgets.outage_banner(lang, "database", exc)
        widgets.retry_until_back(lang, lambda: is_up_to_date(engine) is not None)
        st.stop()
    if demo or viewer.demo:
        st.sidebar.warning(t("app.demo_badge", lang))
    if not viewer.demo:
        st.sidebar.caption(
            t(
                "auth.signed_in_as",
                lang,
                name=plain(viewer.name),
                role=t(f"role.{viewer.role}", lang),
            )
        )
        _sign_out_button(lang)
    ctx = PageContext(
        engine=engine,
        database_url=url,
        viewer=viewer,
        lang=lang,
        city=city,
        large_type=large,
        demo=demo,
        read_engine=data.engine_for(url, "aggregate"),
    )
    install(ctx)
    try:
        gate.admit("full_run")  # the check every other run path makes too
    except SQLAlchemyError as exc:
        widgets.outage_banner(lang, "database", exc)
        widgets.retry_until_back(lang, lambda: is_up_to_date(engine) is not None)
        st.stop()
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
    name = plain(incident.name(ctx.lang))  # staff typed it
    if incident.kind == "drill":
        st.info(ctx.t("shell.drill", incident=name), icon=":material/school:")
    elif incident.emergency_mode:
        st.warning(ctx.t("shell.emergency", incident=name), icon=":material/emergency_home:")
    else:
        st.sidebar.caption(f"{ctx.t('shell.normal')}：{name}")


def navigation(ctx: PageContext):
    """``st.navigation`` with the pages the viewer's role may open; a deep link to any other
    page of the app is refused (the navigation stays, the page does not run)."""
    sections: dict[str, list] = {}
    for spec in registry.pages_for_role(ctx.viewer.role):
        page = st.Page(
            str(spec.path), title=ctx.t(spec.title_key), icon=spec.icon, url_path=spec.url_path
        )
        sections.setdefault(ctx.t(spec.section_key), []).append(page)
    # Every page listed (no "View N more", which hid the admin's pages and is English).
    nav = st.navigation(sections, expanded=True)
    forbidden = _forbidden_deep_link(ctx, nav)
    if forbidden is not None:
        _refuse_page(ctx, forbidden)
    return nav


def _requested_url_path() -> str | None:
    """The page the browser asked for by URL (``/rescue-queue`` → ``rescue-queue``)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    manager = getattr(run, "pages_manager", None)
    name = getattr(manager, "intended_page_name", None)
    return str(name).strip("/") if name else None


def _forbidden_deep_link(ctx: PageContext, nav) -> registry.PageSpec | None:
    requested = _requested_url_path()
    if not requested or requested == getattr(nav, "url_path", None):
        return None
    spec = registry.page_by_url_path(requested)
    if spec is None or ctx.viewer.role in spec.roles:
        return None
    return spec


def _refuse_page(ctx: PageContext, spec: registry.PageSpec) -> None:
    audited = st.session_state.setdefault(AUDITED_REFUSALS_KEY, set())
    if spec.url_path not in audited:
        _audit_auth(ctx.engine, ctx.viewer, "auth:page_refused", page=spec.url_path)
        audited.add(spec.url_path)
    st.error(
        ctx.t(
            "auth.page_refused", page=ctx.t(spec.title_key), role=ctx.t(f"role.{ctx.viewer.role}")
        ),
        icon=":material/block:",
    )
    st.stop()
