"""Outages on the HQ map in a real browser (Debian chromium, the real Streamlit server): the
red banner appears with what failed and the time of the last good data, no traceback ever
reaches the screen, and the page comes back by itself when the database returns — a SQLite
file locked past the busy timeout, and a PostgreSQL database dropped mid-session and brought
back with ``bosai restore``."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bosai.cli import main
from sql.city_config import active_city, set_city
from sql.engine import dispose_engines, make_engine
from tests.e2e.conftest import StreamlitServer, screenshot, wait_for_app

pytestmark = pytest.mark.browser

BANNER = "データベースに接続できません"
REFRESH_SECONDS = 2


def fast_refresh(url: str) -> None:
    """The city's live pages refresh every two seconds (the demo city says ten)."""
    engine = make_engine(url)
    settings = dict(active_city(engine).settings or {})
    set_city(engine, {"settings": {**settings, "refresh_seconds": REFRESH_SECONDS}})
    engine.dispose()


def hq_map_drawn(page, timeout: float = 90_000) -> None:
    page.get_by_role("heading", name="本部マップ").wait_for(timeout=timeout)
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=timeout)


def banner_text(page, timeout: float = 60_000) -> str:
    banner = page.get_by_text(BANNER).first
    banner.wait_for(timeout=timeout)
    return banner.inner_text()


def no_traceback(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body, body[:2000]
    assert page.locator("[data-testid='stException']").count() == 0


def wait_until_gone(page, text: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while page.get_by_text(text).count():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} still shown after {timeout_s} s")
        page.wait_for_timeout(500)


def test_a_locked_sqlite_file_shows_the_banner_and_the_page_comes_back(
    browser, tmp_path, demo_city_file
):
    path = tmp_path / "demo.sqlite"
    url = demo_city_file(600, path)
    fast_refresh(url)
    server = StreamlitServer(url, {"BOSAI_SQLITE_BUSY_TIMEOUT_MS": "500"})
    dispose_engines()  # the `bosai demo` above keeps its pool open in this process
    lock = sqlite3.connect(path, isolation_level=None)
    try:
        lock.execute("PRAGMA locking_mode=EXCLUSIVE")
        lock.execute("BEGIN EXCLUSIVE")  # nobody else has the file open yet
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(f"{server.url}/hq-map")
        text = banner_text(page)
        assert "ロックされたまま" in text and "最後に取得できたデータ" in text
        page.get_by_text("秒ごとに再接続を試みています").first.wait_for()
        no_traceback(page)
        screenshot(page, "outage-sqlite-locked")
        lock.close()  # the lock is released: the page reruns by itself
        hq_map_drawn(page)
        wait_until_gone(page, BANNER)
        no_traceback(page)
        page.close()
    finally:
        lock.close()
        server.stop()


def test_a_dropped_postgresql_database_restored_from_backup_comes_back(
    browser, pg_server, tmp_path
):
    url = pg_server.new_database()
    assert main(["--database-url", url, "demo", "--citizens", "600"]) == 0
    fast_refresh(url)
    backup = tmp_path / "before.bosai"
    assert main(["--database-url", url, "backup", "--out", str(backup)]) == 0
    server = StreamlitServer(url)
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(f"{server.url}/hq-map")
        wait_for_app(page)
        hq_map_drawn(page)
        pg_server.drop(url)  # the database is gone mid-session
        text = banner_text(page)  # the map's own refresh finds out
        assert "最後に取得できたデータ" in text and "なし" not in text.split("最後に")[1]
        no_traceback(page)
        screenshot(page, "outage-pg-dropped")
        page.reload()  # a full run: the shell's own check
        wait_for_app(page)
        text = banner_text(page)
        assert "データベースが見つかりません" in text
        page.get_by_text("秒ごとに再接続を試みています").first.wait_for()
        no_traceback(page)
        with pg_server.admin.connect() as conn:  # the database returns, from the backup
            conn.exec_driver_sql(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
        pg_server.created.append(url.rsplit("/", 1)[1])
        assert main(["--database-url", url, "restore", str(backup)]) == 0
        hq_map_drawn(page)
        wait_until_gone(page, BANNER)
        no_traceback(page)
        page.close()
    finally:
        server.stop()
