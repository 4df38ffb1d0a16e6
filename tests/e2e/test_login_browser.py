"""Sign-in in a real browser against a real OpenID Connect provider process
(``cityos.identity_provider``: oidc-provider-mock with predefined users and their role claims):
sign in, navigation limited to the role, a deep link to a forbidden page refused, no personal
data in the URL, sign out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from dashboard.launch import headless_command
from tests.conftest import ROOT
from tests.e2e.conftest import ARTIFACTS, free_port, screenshot, wait_for_app

pytestmark = pytest.mark.browser

USERS = (
    {"sub": "demo-researcher", "name": "Researcher at the provider", "roles": ["researcher"]},
    {"sub": "demo-rescue", "name": "Rescue at the provider", "roles": ["rescue"]},
    {"sub": "not-staff", "name": "Stranger", "roles": ["hq"]},
)


def wait_http(url: str, proc: subprocess.Popen, log, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer; see {log}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, sqlite_template) -> str:
    import shutil

    from bosai.cli import main

    path = tmp_path_factory.mktemp("login") / "demo.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "demo", "--citizens", "300"]) == 0
    return url


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"oidc-{port}.log"
    args = [sys.executable, "-m", "cityos.identity_provider", "--port", str(port)]
    for user in USERS:
        args += ["--user-claims", json.dumps(user)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    wait_http(f"{issuer}/.well-known/openid-configuration", proc, log)
    yield issuer
    stop(proc)


@pytest.fixture(scope="module")
def app_url(demo_db, provider, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "browser-test-cookie-secret-0123456789"\n'
        'client_id = "bosai-ops"\n'
        'client_secret = "browser-test"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    log = ARTIFACTS / f"streamlit-login-{port}.log"
    env = {
        **os.environ,
        "BOSAI_DATABASE_URL": demo_db,
        "AUTHLIB_INSECURE_TRANSPORT": "1",  # loopback HTTP only
    }
    proc = subprocess.Popen(
        headless_command(port, "--secrets.files", str(secrets)),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_http(f"{url}/_stcore/health", proc, log)
    yield url
    stop(proc)


def sign_in(page, app_url: str, subject: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "サインイン" in body and "市の概況" not in body
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name=subject, exact=True).click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_for_app(page)


def nav_titles(page) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    # Each link reads "<icon name>\n\n<title>": keep the title.
    return [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]


def test_sign_in_navigation_deep_link_and_sign_out(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # Before sign-in: only the sign-in button, never the DEMO role switcher.
    page.goto(app_url)
    wait_for_app(page)
    assert "表示する役割" not in page.inner_text("body")
    sign_in(page, app_url, "demo-researcher")
    page.get_by_text("研究 誠（デモ）（研究者）としてサインイン中").wait_for(timeout=30_000)
    assert "表示する役割" not in page.inner_text("body"), "no role switcher with [auth]"
    titles = nav_titles(page)
    assert "アンケート分析" in titles and "市の概況" in titles
    assert "救助要請" not in titles and "職員管理" not in titles
    screenshot(page, "login-researcher")
    # A deep link to a page the role may not open is refused; nothing of it runs.
    page.goto(f"{app_url}/rescue-queue")
    wait_for_app(page)
    page.get_by_text("「救助要請」は、研究者の役割では開けません").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "スコア" not in body and "Traceback" not in body
    screenshot(page, "login-deep-link-refused")
    # Pages the role may open work by deep link too, and no URL carries a query.
    page.goto(f"{app_url}/research-survey")
    wait_for_app(page)
    page.get_by_role("heading", name="アンケート分析").wait_for(timeout=30_000)
    assert "?" not in page.url
    # Sign out: back to the sign-in button (through the provider's end-session page).
    page.get_by_role("button", name="サインアウト").click()
    # Streamlit clears its cookie and sends the browser to the provider's end_session_endpoint.
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_for_app(page)
    page.get_by_role("button", name="サインイン").wait_for(timeout=30_000)
    assert "としてサインイン中" not in page.inner_text("body")
    context.close()


def test_rescue_sees_the_rescue_queue_and_a_stranger_is_refused(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, app_url, "demo-rescue")
    page.get_by_text("としてサインイン中").wait_for(timeout=30_000)
    assert "救助要請" in nav_titles(page)
    assert "?" not in page.url
    context.close()
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, app_url, "not-staff")
    page.get_by_text("not-staff は Bosai Ops の職員として登録されていません").wait_for(
        timeout=30_000
    )
    assert "市の概況" not in page.inner_text("body")
    context.close()
