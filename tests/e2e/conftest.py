"""Browser tests: the real Streamlit server in Debian's chromium, driven by Playwright.

Never ``playwright install``: we launch Debian's chromium (``dashboard.launch.CHROMIUM``).
Screenshots go to ``test-artifacts/`` (kept by CI as artefacts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos.reference_server.runner import free_port
from dashboard.launch import CHROMIUM, CHROMIUM_ARGS, headless_command
from tests.conftest import ROOT, skip_or_fail, sqlite_backup

ARTIFACTS = ROOT / "test-artifacts"


class StreamlitServer:
    def __init__(self, database_url: str, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BOSAI_DATABASE_URL": database_url, **(extra_env or {})}
        self.log = ARTIFACTS / f"streamlit-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            headless_command(self.port),
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy; see {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        skip_or_fail("BROWSER", f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("BROWSER", "the playwright package is not installed (pip install -e '.[dev]')")
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium_path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the app is connected and the script has finished running."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout
    )
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``: type to filter, then click
    the option once the list shows it (pressing Enter early picks nothing on a loaded machine).
    The selected option is the box's value and is not offered again in the list."""
    box = page.get_by_label(label, exact=True).first
    if box.input_value() == option or box.input_value().startswith(f"{option}｜"):
        return
    box.click()
    box.fill(option)
    # Options go on after what identifies them: "救助要請 #12｜スコア 80.1｜…", "消防3隊（対応中 2 件）".
    name = re.compile(rf"^{re.escape(option)}(｜.*|（.*）)?$")
    page.get_by_role("option", name=name).first.click(timeout=60_000)
    wait_for_app(page)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def demo_city_file(tmp_path_factory, sqlite_template):
    """``demo_city_file(citizens, path)``: a copy at ``path`` of a demo city made by
    ``bosai demo --citizens N`` (each size made once per test session; the copy by SQLite's
    backup API), and its URL. The tests that change their city get a copy of their own."""
    from bosai.cli import main
    from sql.engine import dispose_engines

    made: dict[int, str] = {}

    def copy(citizens: int, path: Path) -> str:
        if citizens not in made:
            source = tmp_path_factory.mktemp(f"demo-{citizens}") / "demo.sqlite"
            shutil.copyfile(sqlite_template, source)
            made[citizens] = f"sqlite:///{source}"
            assert (
                main(["--database-url", made[citizens], "demo", "--citizens", str(citizens)]) == 0
            )
            dispose_engines()
        return sqlite_backup(made[citizens], path)

    return copy


@pytest.fixture(scope="package")
def readonly_demo_url(tmp_path_factory, demo_city_file) -> str:
    """A demo city (2,000 citizens) that the browser tests using it only read."""
    path = tmp_path_factory.mktemp("e2e-readonly") / "demo.sqlite"
    url = demo_city_file(2000, path)
    return url


@pytest.fixture(scope="package")
def readonly_demo_server(readonly_demo_url, chromium_path) -> Iterator[StreamlitServer]:
    """The dashboard on :func:`readonly_demo_url`, as at an HQ without internet: the map-tile
    check goes to a closed port, so the page must fall back to the city's own base map."""
    from cityos.reference_server.runner import free_port

    closed = f"http://127.0.0.1:{free_port()}/tile.png"
    server = StreamlitServer(readonly_demo_url, {"BOSAI_BASEMAP_PROBE": closed})
    yield server
    server.stop()


# ---------------------------------------------------------------- a real OIDC provider

#: The provider's users (``cityos.identity_provider``, oidc-provider-mock): the demo city's
#: staff by their ``sub``, and someone the staff table does not know.
PROVIDER_USERS = (
    {"sub": "demo-researcher", "name": "Researcher at the provider", "roles": ["researcher"]},
    {"sub": "demo-rescue", "name": "Rescue at the provider", "roles": ["rescue"]},
    {"sub": "demo-hq", "name": "HQ at the provider", "roles": ["hq"]},
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
def demo_db(tmp_path_factory, demo_city_file) -> str:
    """A demo city of 300 citizens made by ``bosai demo`` (a copy per test module)."""
    path = tmp_path_factory.mktemp("login") / "demo.sqlite"
    url = demo_city_file(300, path)
    return url


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The issuer URL of a real OpenID Connect provider process with :data:`PROVIDER_USERS`."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"oidc-{port}.log"
    args = [sys.executable, "-m", "cityos.identity_provider", "--port", str(port)]
    for user in PROVIDER_USERS:
        args += ["--user-claims", json.dumps(user)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    wait_http(f"{issuer}/.well-known/openid-configuration", proc, log)
    yield issuer
    stop(proc)


@pytest.fixture(scope="module")
def app_url(demo_db, provider, tmp_path_factory) -> Iterator[str]:
    """The app's URL: ``streamlit run`` with ``[auth]`` pointing at :func:`provider`."""
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
    """Sign in through the provider's page as ``subject`` (from the sign-in button)."""
    page.goto(app_url)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "サインイン" in body and "市の概況" not in body
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name=subject, exact=True).click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_for_app(page)
