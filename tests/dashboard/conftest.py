"""AppTest helpers: run the real entry point against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bosai.cli import main

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(scope="session")
def demo_sqlite(demo_city) -> str:
    """A SQLite file holding a small demo city (shared by the page tests; they only read)."""
    return demo_city(2000)


@pytest.fixture
def demo_copy(demo_sqlite, tmp_path) -> str:
    """A private copy of the demo database for a test that writes or counts audit rows
    (SQLite's backup API, so the WAL comes along), with an empty audit log and the policy's
    repeat window forgotten."""
    from sql import policy
    from tests.conftest import sqlite_backup

    url = sqlite_backup(demo_sqlite, tmp_path / "demo_copy.sqlite", empty_audit=True)
    policy.forget_recent_views()
    return url


@pytest.fixture
def app(monkeypatch):
    """``app(url, user=claims, **session)``: an AppTest of the real entry point on ``url``,
    signed in with ``claims`` when given (else DEMO mode, on a database ``bosai demo`` made)."""

    def make(url: str, user: dict | None = None, **session) -> AppTest:
        monkeypatch.setenv("BOSAI_DATABASE_URL", url)
        at = AppTest.from_file(APP, default_timeout=60)
        if user is not None:
            at.user = user
        for key, value in session.items():
            at.session_state[key] = value
        return at

    return make


def open_page(app, url: str, page: str, role: str = "hq", **session) -> AppTest:
    """Run the real entry point on ``url`` and switch to ``views/<page>.py`` (or ``page``, a path
    under dashboard/): in DEMO mode as ``role``, or signed in with ``user=claims``; ``session``
    sets session state before the first run (``lang="en"`` …). The page ran without an
    exception."""
    if "user" not in session:
        session["demo_role"] = role
    at = app(url, **session)
    at.run()
    at.switch_page(page if page.endswith(".py") else f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


#: Roles of the staff a fresh installation has in :func:`empty_city` (shelter staff need a
#: shelter, which a fresh installation does not have yet).
EMPTY_CITY_ROLES = ("hq", "rescue", "researcher", "council", "admin")


def staff_claims(role: str) -> dict:
    """``st.user`` of the :func:`empty_city` staff member in ``role`` (as a sign-in gives it)."""
    return {"is_logged_in": True, "sub": f"staff-{role}", "name": role, "roles": [role]}


@pytest.fixture
def empty_city(sqlite_url) -> str:
    """A new installation: migrated, no citizens, incidents or shelters yet, not a demo — with
    one staff account per role added by ``bosai staff add`` (sign in with
    :func:`staff_claims`). DEMO mode refuses such a database."""
    for role in EMPTY_CITY_ROLES:
        args = ["staff", "add", f"staff-{role}", "--name", f"職員 {role}", "--role", role]
        assert main(["--database-url", sqlite_url, *args]) == 0
    return sqlite_url


def read(markdown: str) -> str:
    """What a reader sees of a Markdown source made plain by ``dashboard.text.plain``: the
    backslash escapes and word joiners removed (AppTest gives elements' Markdown source, not
    what is drawn)."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(markdown)).replace("\u2060", "")


def has_fragments(at: AppTest) -> bool:
    """The last run registered a fragment (a page that stopped early did not)."""
    return bool(at._fragment_storage._fragments)


def refresh_fragments(at: AppTest) -> AppTest:
    """What the browser's ``run_every`` timer does: a fragment-only run of the fragments the
    last run registered — the page script and the shell do not run, only the fragments
    (AppTest has no public way to ask for it, so the run's request names them)."""
    from streamlit.testing.v1 import local_script_runner

    ids = list(at._fragment_storage._fragments)
    assert ids, "the page registered no fragment"
    real = local_script_runner.RerunData

    def fragment_run(**kwargs):
        return real(**kwargs, fragment_id_queue=ids, is_auto_rerun=True)

    # A fragment run builds no navigation: keep the pages of the last full run (as the
    # browser does), or the next switch_page would not find them.
    pages = at._registered_pages
    local_script_runner.RerunData = fragment_run
    try:
        at.run()
    finally:
        local_script_runner.RerunData = real
        at._registered_pages = pages
    return at


@pytest.fixture
def media_files(monkeypatch) -> list:
    """The media file managers of the AppTest runs (the newest last): a deferred download is
    produced by ``media_files[-1].execute_deferred(button.proto.deferred_file_id)`` — what
    the server's download thread runs when the browser asks for the file."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import app_test

    managers: list[MediaFileManager] = []

    class KeepManager(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", KeepManager)
    return managers
