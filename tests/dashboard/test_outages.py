"""Outages on every page, through the real entry point (AppTest): the database unreachable,
locked for longer than its timeout (SQLite busy timeout; PostgreSQL lock_timeout while the
page reads), and the city OS down so that its data feed goes stale. Each time the page shows
the red banner with what failed and the time of the last good data, no exception and no
traceback reach the screen, a retry fragment is in place, and the next run after the service
returns shows the page again."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import streamlit as st

from bosai.cli import main
from cityos.reference_server.runner import free_port
from dashboard import registry
from sql import policy
from sql.engine import make_engine
from tests.dashboard.conftest import read

UNREACHABLE = "に接続できません"
RETRYING = "秒ごとに再接続を試みています"
#: Tables the shell reads before any page runs (locking them fails the shell, not the page).
SHELL_TABLES = {"alembic_version", "cities", "meta", "citizens", "incidents", "staff"}


def _role(spec: registry.PageSpec) -> str:
    return "hq" if "hq" in spec.roles else spec.roles[0]


def _texts(at) -> list[str]:
    """Every text the page shows (markdown, captions, alerts, titles, exceptions)."""
    out = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "error",
        "warning",
        "info",
        "success",
        "exception",
        "text",
        "code",
    ):
        for element in at.get(kind):
            out.append(str(getattr(element, "value", "") or ""))
    return out


def _assert_outage(at, reason: str | None = None) -> str:
    assert not at.exception, [e.value for e in at.exception]
    banners = [e.value for e in at.error if UNREACHABLE in e.value]
    assert banners, _texts(at)
    assert all("Traceback" not in text for text in _texts(at))
    assert any(RETRYING in c.value for c in at.caption), "no retry fragment on the page"
    if reason:
        assert reason in banners[0], banners[0]
    return banners[0]


def _assert_page(at, spec: registry.PageSpec) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if UNREACHABLE in e.value]
    from bosai.i18n import t

    assert t(spec.title_key) in [e.value for e in at.title], _texts(at)


def _open(app, url: str, spec: registry.PageSpec):
    at = app(url, demo_role=_role(spec))
    at.run()
    at.switch_page(str(spec.path.relative_to(registry.VIEWS_DIR.parent)))
    at.run()
    _assert_page(at, spec)
    return at


@pytest.mark.parametrize("spec", registry.PAGES, ids=[p.url_path for p in registry.PAGES])
def test_every_page_survives_an_unreachable_database(app, demo_copy, spec, monkeypatch):
    at = _open(app, demo_copy, spec)
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/bosai"
    monkeypatch.setenv("BOSAI_DATABASE_URL", dead)
    at.run()
    banner = _assert_outage(at, reason="接続が拒否されました")
    assert "最後に取得できたデータ：なし" not in banner  # the good run before is remembered
    monkeypatch.setenv("BOSAI_DATABASE_URL", demo_copy)
    at.run()
    _assert_page(at, spec)


@contextlib.contextmanager
def sqlite_exclusive_lock(url: str) -> Iterator[None]:
    """Another connection holding SQLite's exclusive lock: even WAL readers must wait.

    In WAL mode the exclusive lock can only be taken while no other connection is open, so the
    dashboard's idle pooled connections are closed first (they reconnect and wait)."""
    from dashboard import data

    data.engine_for(url).dispose()
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["overview", "hq-map", "rescue-queue", "shelters"])
def test_a_database_locked_past_the_busy_timeout(app, demo_copy, name, monkeypatch):
    monkeypatch.setattr("sql.engine.SQLITE_BUSY_TIMEOUT_MS", 300)
    spec = registry.page_by_url_path(name)
    at = _open(app, demo_copy, spec)
    with sqlite_exclusive_lock(demo_copy):
        st.cache_data.clear()
        at.run()
        _assert_outage(at, reason="ロックされたまま")
    at.run()
    _assert_page(at, spec)


# ------------------------------------------------------------------ PostgreSQL, page-level


@pytest.fixture(scope="module")
def pg_demo(pg_server) -> Iterator[str]:
    url = pg_server.new_database()
    assert main(["--database-url", url, "demo", "--citizens", "400"]) == 0
    yield url
    pg_server.drop(url)


@contextlib.contextmanager
def pg_tables_locked(url: str) -> Iterator[None]:
    """Every table but the shell's locked by another session (ACCESS EXCLUSIVE), so the
    page's own reads wait past ``lock_timeout`` while the shell still answers."""
    engine = make_engine(url)
    names = [n for n in sa.inspect(engine).get_table_names() if n not in SHELL_TABLES]
    names = [n for n in names if n != "spatial_ref_sys"]
    conn = engine.connect()
    tx = conn.begin()
    conn.exec_driver_sql(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        tx.rollback()
        conn.close()
        engine.dispose()


@pytest.mark.pg
@pytest.mark.parametrize("spec", registry.PAGES, ids=[p.url_path for p in registry.PAGES])
def test_every_page_survives_locks_past_the_lock_timeout_on_postgresql(
    app, pg_demo, spec, monkeypatch
):
    url = f"{pg_demo}?options=-c%20lock_timeout%3D400"
    policy.forget_recent_views()
    at = _open(app, url, spec)
    with pg_tables_locked(pg_demo):
        st.cache_data.clear()
        st.cache_resource.clear()
        at.run()
        _assert_outage(at, reason="ロックされたまま")
    at.run()
    _assert_page(at, spec)


# ------------------------------------------------------------------ the city OS


class SilentServer:
    """A city OS that accepts connections and never answers (slow beyond every timeout)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture(scope="module")
def identity_provider() -> Iterator:
    from tests.cityos.conftest import Provider

    provider = Provider()
    yield provider
    provider.stop()


def _sync(url: str, base_url: str, issuer: str):
    from cityos.client import CityOSClient
    from cityos.sync import sync
    from tests.cityos.conftest import SECRET, connector_config

    config = connector_config(
        base_url, issuer, http__timeout_s=1, http__connect_timeout_s=1, http__retries=1
    )
    engine = make_engine(url)
    try:
        with CityOSClient(config, client_secret=SECRET) as client:
            return sync(engine, client)
    finally:
        engine.dispose()


def _stale_banners(at) -> list[str]:
    shown = [read(e.value) for e in at.error]  # feed names and errors are shown as text
    return [e for e in shown if "データ連携" in e and "停止" in e]


def test_every_page_shows_a_city_os_outage_until_a_sync_succeeds(app, demo_copy, identity_provider):
    from cityos.errors import CityOSUnavailable
    from cityos.reference_server.app import create_app
    from cityos.reference_server.population import build_state
    from cityos.reference_server.runner import ThreadedServer
    from cityos.reference_server.settings import ServerSettings

    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CityOSUnavailable):  # the city OS is down
        _sync(demo_copy, down, identity_provider.issuer)
    slow = SilentServer()
    try:
        with pytest.raises(CityOSUnavailable):  # ... then it hangs
            _sync(demo_copy, slow.url, identity_provider.issuer)
    finally:
        slow.close()
    sessions = {}
    for spec in registry.PAGES:
        at = _open(app, demo_copy, spec)
        banners = _stale_banners(at)
        assert len(banners) == 1, (spec.url_path, _texts(at))
        # A short translated reason, never the connector's or the driver's text (13.2).
        assert "cityos:test" in banners[0] and "接続先が応答しません" in banners[0]
        assert "unavailable" not in banners[0] and "127.0.0.1" not in banners[0]
        assert all("Traceback" not in text for text in _texts(at))
        if spec.url_path != "hq-map":  # the HQ map's own live fragment refreshes it
            assert any(RETRYING in c.value for c in at.caption), spec.url_path
        sessions[spec.url_path] = at
    server = ThreadedServer(
        create_app(ServerSettings(issuer=identity_provider.issuer), build_state(300, 7))
    ).start()
    try:
        _sync(demo_copy, server.url, identity_provider.issuer)  # the city OS is back
    finally:
        server.stop()
    st.cache_data.clear()
    for spec in registry.PAGES:
        at = sessions[spec.url_path]
        at.run()
        _assert_page(at, spec)
        assert not _stale_banners(at), spec.url_path


def test_the_hq_map_counts_the_records_held_back_on_its_freshness_banner(app, demo_copy):
    """Issue 13, finding 2: records the boundary quarantined are counted for HQ on the HQ
    map's freshness banner (before the fix nothing was held back, so nothing was shown)."""
    from sql import cityos_store
    from sql.cityos_store import SyncBatch, SyncCursor

    engine = make_engine(demo_copy)
    try:
        batch = SyncBatch(source="cityos:test", cursor=SyncCursor())
        batch.quarantined = [
            {
                "kind": "event",
                "record_ref": str(i),
                "position": f"events after=0 #{i}",
                "reason": "control_character",
                "field": "status.message",
                "detail": "U+0000",
            }
            for i in range(3)
        ]
        written = cityos_store.apply_sync(engine, batch)
        assert written.quarantined == 3
        assert cityos_store.apply_sync(engine, batch).quarantined == 0  # once each
    finally:
        engine.dispose()
    st.cache_data.clear()
    spec = next(s for s in registry.PAGES if s.url_path == "hq-map")
    at = _open(app, demo_copy, spec)
    held = [read(w.value) for w in at.warning if "cityos:test" in read(w.value)]
    assert len(held) == 1 and "3 件" in held[0], _texts(at)
