"""AppTest helpers: run the real entry point against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bosai.cli import main

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory, sqlite_template) -> str:
    """A SQLite file holding a small demo city (shared by the page tests; they only read)."""
    import shutil

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "demo", "--citizens", "2000"]) == 0
    return url


@pytest.fixture
def app(monkeypatch):
    def make(url: str, **session) -> AppTest:
        monkeypatch.setenv("BOSAI_DATABASE_URL", url)
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in session.items():
            at.session_state[key] = value
        return at

    return make
