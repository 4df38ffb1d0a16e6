"""The gate: the viewer is re-checked on every run path, by this one mechanism.

A full page run starts in :func:`dashboard.shell.prepare` (sign-in, then :func:`admit`). But
Streamlit also runs code *without* the page script: a fragment refresh (``run_every``, or a
widget inside a fragment) runs only the fragment's function, a widget callback runs before any
script, a dialog reruns only its function, and a deferred download's data function runs in a
server thread. Pages reach those paths only through this module:

- ``@gate.fragment(run_every=...)`` instead of ``@st.fragment``; ``@gate.dialog(title)``
  instead of ``@st.dialog``;
- ``on_click=gate.callback(fn)`` (``on_change=`` …) for every widget callback;
- :func:`download_button` for every download — the file is produced only after the check;
- :func:`rerun_when` — the one fragment without a viewer check: it reads and shows nothing of
  the viewer's, and reruns the whole app (through the shell) once a service answers again.

``tests/dashboard/test_gate.py`` reads the source of ``dashboard/`` and fails on a raw
``st.fragment``/``st.dialog``, a callback not wrapped by :func:`callback` or a raw
``download_button``.

The check (:func:`verify`) is the same on every path. A signed-in viewer: the token's ``exp``
has not passed, ``st.user`` still carries the viewer's ``sub``, and the staff account is still
active in the viewer's role — one primary-key lookup of the staff table (a few hundred
microseconds, see docs/SECURITY.md). A DEMO viewer: nobody signed in, no ``[auth]`` and the
database still marked as a demo by ``bosai demo`` — one primary-key lookup in ``meta``. On a
failure the session ends: the refusal is written to the audit log (once per session and
reason), a signed-in user is signed out (``st.logout``), the page shows why in the session's
language and stops; a callback does not run and a download produces no file. A changed
account that keeps its role (other shelters, another team) reruns the whole app, so the pages
are rebuilt for the account as it is now.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bosai.i18n import t
from sql import audit
from sql.demo_store import is_demo_database
from sql.queries.staff import staff_member
from sql.viewer import Viewer

from . import sign_in
from .context import SESSION_KEY, PageContext
from .text import plain_values

F = TypeVar("F", bound=Callable[..., Any])

#: Session keys: why the gate ended this session; the refusals already audited.
ENDED_KEY = "_bosai_gate_ended"
AUDITED_KEY = "_bosai_gate_audited"
#: Where the check ran (recorded with a refusal).
PATHS = ("full_run", "fragment", "callback", "dialog", "download")

# Sessions ended from a download thread (no script context there): session id → refusal.
_ended_sessions: dict[str, tuple[str, dict[str, Any]]] = {}
_audited_sessions: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


class Refused(Exception):
    """The viewer may no longer use the app; ``key`` is the catalog key of the reason."""

    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key = key
        self.values = values


class Changed(Exception):
    """The staff account changed but keeps its role: the pages must be rebuilt for it."""


# ------------------------------------------------------------------ the check


def auth_configured() -> bool:
    """True when ``[auth]`` is in the secrets (then DEMO mode never runs)."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def verify(
    engine: Engine,
    viewer: Viewer,
    claims: Mapping[str, Any],
    *,
    auth: bool,
    now: dt.datetime | None = None,
) -> None:
    """Raise :class:`Refused` (or :class:`Changed`) unless ``viewer`` may still act.

    ``claims`` are ``st.user``'s (the ID token's) at the time of the check; ``auth`` says
    whether ``[auth]`` is configured. One indexed lookup either way.
    """
    if viewer.demo:
        if claims.get("is_logged_in") or auth:
            raise Refused("auth.gate.demo_over")
        if not is_demo_database(engine):
            raise Refused("shell.demo_unmarked")
        return
    who = str(claims.get("email") or claims.get("sub") or viewer.subject)
    if not claims.get("is_logged_in") or str(claims.get("sub") or "") != viewer.subject:
        raise Refused("auth.gate.signed_out")
    if sign_in.is_expired(claims, now):
        raise Refused("auth.expired")
    member = staff_member(engine, viewer.staff_id) if viewer.staff_id is not None else None
    if member is None or member.subject != viewer.subject:
        raise Refused("auth.not_staff", who=who)
    if not member.active:
        raise Refused("auth.inactive", who=who)
    if member.role != viewer.role:
        raise Refused("auth.gate.role_changed", who=who, role=viewer.role, now=member.role)
    if member.shelter_ids != viewer.shelter_ids or member.team != viewer.team:
        raise Changed()


# ------------------------------------------------------------------ ending a session


def _audit_refusal(engine: Engine, viewer: Viewer, refusal: Refused, path: str) -> None:
    action = "auth:expired" if refusal.key == "auth.expired" else "auth:refused"
    try:
        audit.record(
            engine,
            viewer,
            action,
            target="auth",
            details={"reason": refusal.key, "path": path},
        )
    except SQLAlchemyError:
        pass  # the refusal stands all the same


def _audit_once(engine: Engine, viewer: Viewer, refusal: Refused, path: str) -> None:
    audited = st.session_state.setdefault(AUDITED_KEY, set())
    key = (viewer.subject, refusal.key)
    if key not in audited:
        _audit_refusal(engine, viewer, refusal, path)
        audited.add(key)


#: Values of a refusal that are role codes (shown as the role's name).
ROLE_VALUES = ("role", "now")


def _message(lang: str, key: str, values: Mapping[str, Any]) -> str:
    shown = {k: t(f"role.{v}", lang) if k in ROLE_VALUES else v for k, v in values.items()}
    return t(key, lang, **plain_values(shown))


def _sign_out() -> None:
    if st.user.to_dict().get("is_logged_in"):
        st.logout()


def end_session(
    engine: Engine,
    viewer: Viewer | SimpleNamespace,
    lang: str,
    refusal: Refused,
    path: str,
    *,
    in_callback: bool = False,
) -> None:
    """Audit the refusal (once), sign out, and — outside a callback — say why and stop."""
    _audit_once(engine, viewer, refusal, path)
    st.session_state[ENDED_KEY] = (refusal.key, dict(refusal.values))
    _sign_out()
    if not in_callback:
        _show(lang, refusal.key, refusal.values)
        st.stop()


def _show(lang: str, key: str, values: Mapping[str, Any]) -> None:
    # An expired sign-in is routine (the end of a shift); anything else is a refusal.
    alert = st.warning if key == "auth.expired" else st.error
    alert(_message(lang, key, values), icon=":material/lock:")


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    return run.session_id if run is not None else None


def ended() -> tuple[str, dict[str, Any]] | None:
    """Why the gate ended this session (also from a download thread), or None."""
    found = st.session_state.get(ENDED_KEY)
    if found is None:
        session = _session_id()
        with _lock:
            found = _ended_sessions.pop(session, None) if session else None
        if found is not None:
            st.session_state[ENDED_KEY] = found
    return found


def stop_if_ended(lang: str) -> None:
    """At the top of every run: a session the gate ended stays ended (message, stop)."""
    found = ended()
    if found is not None:
        _sign_out()
        _show(lang, *found)
        st.stop()


# ------------------------------------------------------------------ admission


def _is_fragment_run() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    return bool(run is not None and run.fragment_ids_this_run)


def admit(path: str, *, in_callback: bool = False) -> PageContext | None:
    """The page context if the viewer may still act on this ``path``; otherwise the session
    ends (see :func:`end_session`) and None is returned (a callback then does not run)."""
    ctx: PageContext | None = st.session_state.get(SESSION_KEY)
    if ctx is None:  # no page ever ran in this session: nothing to act for
        if not in_callback:
            st.stop()
        return None
    found = ended()
    if found is not None:
        if not in_callback:
            stop_if_ended(ctx.lang)
        return None
    try:
        verify(ctx.engine, ctx.viewer, st.user.to_dict(), auth=auth_configured())
    except Refused as refusal:
        end_session(ctx.engine, ctx.viewer, ctx.lang, refusal, path, in_callback=in_callback)
        return None
    except Changed:
        if in_callback:  # not done; the run that follows rebuilds the page for the account
            st.toast(t("auth.gate.changed", ctx.lang), icon=":material/sync:")
            return None
        st.rerun(scope="app")
    except SQLAlchemyError as exc:
        if in_callback:
            return None
        if path == "full_run":
            raise  # the shell shows the outage banner and its retry
        from . import widgets  # widgets builds on this module

        widgets.unreachable_banner(ctx, "database", exc)
        return None
    return ctx


def fragment(func: F | None = None, *, run_every: float | None = None) -> Callable[[F], F] | F:
    """``st.fragment`` whose every run re-checks the viewer first (a fragment-only run: the
    refresh timer, or a widget inside it; the full run's inline call was checked by the
    shell moments before)."""

    def wrap(fn: F) -> F:
        return st.fragment(_admitted(fn, "fragment"), run_every=run_every)  # type: ignore[return-value]

    return wrap(func) if func is not None else wrap


def dialog(title: str, **kwargs: Any) -> Callable[[F], F]:
    """``st.dialog`` whose every run (it reruns as a fragment) re-checks the viewer first."""

    def wrap(fn: F) -> F:
        return st.dialog(title, **kwargs)(_admitted(fn, "dialog"))  # type: ignore[return-value]

    return wrap


def _admitted(fn: F, path: str) -> F:
    """``fn`` that, on a fragment-only run, runs only if :func:`admit` lets the viewer through
    on ``path`` (the full run's inline call was checked by the shell moments before)."""

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if _is_fragment_run() and admit(path) is None:
            return None
        return fn(*args, **kwargs)

    return checked  # type: ignore[return-value]


def callback(fn: F) -> F:
    """A widget callback (``on_click=``, ``on_change=``, a form's submit) that runs only if
    the viewer may still act — checked when the click arrives, before anything is written."""

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if admit("callback", in_callback=True) is None:
            return None
        return fn(*args, **kwargs)

    return checked  # type: ignore[return-value]


# ------------------------------------------------------------------ downloads


def _refuse_download(ctx: PageContext, session: str | None, refusal: Refused) -> None:
    """From the download thread: audit (once per session and reason) and end the session at
    its next run."""
    key = (session or "", ctx.viewer.subject, refusal.key)
    with _lock:
        first = key not in _audited_sessions
        _audited_sessions.add(key)
        if session:
            _ended_sessions[session] = (refusal.key, dict(refusal.values))
    if first:
        _audit_refusal(ctx.engine, ctx.viewer, refusal, "download")


def download_button(label: str, data: Any, *, container: Any = None, **kwargs: Any) -> bool:
    """``st.download_button`` whose file is produced only when it is requested, after the
    viewer is re-checked (in the server's download thread, with the claims of this run and
    the clock of the request). ``data``: bytes/text, or a function returning them."""
    ctx: PageContext | None = st.session_state.get(SESSION_KEY)
    if ctx is None:
        raise RuntimeError("download_button outside the app shell")
    claims = st.user.to_dict()
    auth = auth_configured()
    session = _session_id()

    def produce() -> Any:
        try:
            verify(ctx.engine, ctx.viewer, claims, auth=auth)
        except Refused as refusal:
            _refuse_download(ctx, session, refusal)
            raise PermissionError(f"download refused: {refusal.key}") from None
        except Changed:
            raise PermissionError("download refused: the staff account changed") from None
        return data() if callable(data) else data

    kwargs.setdefault("on_click", "ignore")
    return (container or st).download_button(label, produce, **kwargs)


# ------------------------------------------------------------------ outage watch


def rerun_when(answers: Callable[[], bool], every: float, since_key: str, caption: str) -> None:
    """While a service is down: every ``every`` seconds ask ``answers()`` and rerun the whole
    app once it returns True. The one fragment without a viewer check — it shows only
    ``caption``, reads nothing of the viewer's, and the full run it starts passes the shell."""
    import time

    @st.fragment(run_every=every)
    def outage_watch() -> None:
        since = st.session_state.get(since_key, 0.0)
        # Not on the first, inline run: a page that fails while the check passes must not
        # rerun in a tight loop.
        if time.monotonic() - since >= every * 0.8:
            try:
                back = answers()
            except Exception:  # still down, whatever the error
                back = False
            if back:
                st.session_state.pop(since_key, None)
                st.rerun()
        st.caption(caption)

    outage_watch()
