"""The soak's short variant (``python -m benchmarks.soak`` runs 60 s with 20 sessions): 10 s of
one writer ingesting 2,000 status updates a second while 3 browser sessions (Debian chromium,
the real Streamlit server) keep the HQ map open and refreshing, on SQLite and PostgreSQL:
no errors on any page, in the server log or in the writer, and no update lost or duplicated.
Refresh times are reported by the soak, never asserted."""

from __future__ import annotations

import pytest

from benchmarks import soak
from tests.conftest import PG_URL
from tests.e2e.conftest import chromium_path  # noqa: F401 - the fixture (skips without chromium)

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("chromium_path")
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_ten_seconds_of_load_lose_nothing_and_show_no_error(backend, request, tmp_path):
    if backend == "postgresql":
        request.getfixturevalue("pg_server")
    with soak.demo_database(backend, tmp_path, PG_URL, citizens=2_000) as url:
        result = soak.soak(backend, url, seconds=10, sessions=3, rate=2_000, workdir=tmp_path)
    print(result.line())
    assert result.errors == []
    assert result.writer["sent"] == 20_000
    assert result.updates["stored"] == result.updates["distinct"] == 20_000
    assert result.refreshes > 0
