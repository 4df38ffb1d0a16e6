"""The deployment past one process (``deploy/``): HAProxy with TLS (a certificate made here)
in front of two Streamlit processes sharing one ``cookie_secret``, the real OpenID Connect
provider process, Debian's chromium.

Checked as a person and an auditor would: the security headers on every response, Streamlit's
metrics closed and its host configuration answered by the proxy, sticky sessions (a browser
stays on its process; new browsers are spread), the WebSocket through the proxy, and a signed-in
staff member whose app process is killed lands on the other process still signed in."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from cityos.identity_provider import spawn
from cityos.reference_server.runner import free_port
from tests.conftest import skip_or_fail
from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_app

pytestmark = pytest.mark.browser

COOKIE = "BOSAI_NODE"
USERS = ({"sub": "demo-hq", "name": "HQ at the provider", "roles": ["hq"]},)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, demo_city_file) -> Iterator:

    from deploy import proxy
    from deploy.runner import Deployment

    try:
        proxy.haproxy()
    except proxy.ProxyError as exc:
        skip_or_fail("BROWSER", str(exc))
    work = tmp_path_factory.mktemp("deploy")
    database = work / "demo.sqlite"
    url = demo_city_file(300, database)
    provider_port = free_port()
    provider = spawn(provider_port, [], users=USERS)
    issuer = f"http://127.0.0.1:{provider_port}"
    listen_port = free_port()
    public = f"https://127.0.0.1:{listen_port}"
    secrets = work / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{public}/oauth2callback"\n'
        f'cookie_secret = "deployment-test-{os.urandom(8).hex()}"\n'
        'client_id = "bosai-ops"\n'
        'client_secret = "deployment-test"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    certificate = proxy.self_signed_certificate(work / "tls.pem", ["127.0.0.1", "localhost"])
    running = Deployment(
        [free_port(), free_port()],
        listen=f"127.0.0.1:{listen_port}",
        certificate=certificate,
        workdir=ARTIFACTS / f"deploy-{listen_port}",
        env={"BOSAI_DATABASE_URL": url, "AUTHLIB_INSECURE_TRANSPORT": "1"},
        secrets=secrets,
    )
    try:
        with running:
            yield SimpleNamespace(apps=running.apps, public=public, workdir=running.workdir)
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def _client() -> httpx.Client:
    return httpx.Client(verify=False, timeout=10)  # our own self-signed certificate


def test_headers_closed_endpoints_and_stickiness(deployment):
    with _client() as client:
        page = client.get(f"{deployment.public}/")
        assert page.status_code == 200
        headers = page.headers
        assert headers["strict-transport-security"].startswith("max-age=")
        assert "includeSubDomains" in headers["strict-transport-security"]
        assert headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert "server" not in headers
        first = client.cookies.get(COOKIE)
        assert first in ("app1", "app2")
        # Metrics are closed; the host configuration is the proxy's (no cross-origin senders).
        metrics = client.get(f"{deployment.public}/_stcore/metrics")
        assert metrics.status_code == 404
        assert "frame-ancestors 'none'" in metrics.headers["content-security-policy"]
        host_config = client.get(f"{deployment.public}/_stcore/host-config")
        assert host_config.status_code == 200
        assert host_config.json()["allowedOrigins"] == []
        assert "streamlit.app" not in host_config.text
        # Sticky: with its cookie a browser stays on its process (no new cookie is set).
        for _ in range(10):
            again = client.get(f"{deployment.public}/_stcore/health")
            assert again.status_code == 200
            assert COOKIE not in again.cookies
        assert client.cookies.get(COOKIE) == first
    # New browsers are spread over both processes.
    seen = set()
    for _ in range(4):
        with _client() as fresh:
            fresh.get(f"{deployment.public}/")
            seen.add(fresh.cookies.get(COOKIE))
    assert seen == {"app1", "app2"}
    # Plain HTTP is not served on the TLS port.
    with pytest.raises(httpx.HTTPError):
        httpx.get(deployment.public.replace("https://", "http://") + "/", timeout=5)


def test_a_signed_in_session_survives_the_loss_of_its_app_process(deployment, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{deployment.public}/")
    wait_for_app(page)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name="demo-hq", exact=True).click()
    page.wait_for_url(f"{deployment.public}/**", timeout=30_000)
    wait_for_app(page)
    signed_in = page.get_by_text("としてサインイン中")
    signed_in.wait_for(timeout=30_000)
    node = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
    screenshot(page, "deployment-signed-in-1366")
    # The WebSocket runs through the proxy: the page is live.
    assert (
        page.locator("[data-testid='stApp']").get_attribute("data-test-connection-state")
        == "CONNECTED"
    )

    victim = deployment.apps[node]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    killed_at = time.monotonic()
    # Streamlit's page reconnects by itself; the proxy sends it to the other process.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        cookie = next((c["value"] for c in context.cookies() if c["name"] == COOKIE), None)
        state = page.locator("[data-testid='stApp']").get_attribute("data-test-connection-state")
        if cookie not in (None, node) and state == "CONNECTED":
            break
        page.wait_for_timeout(500)
    other = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
    assert other != node, "the browser was not moved to the other app process"
    wait_for_app(page)
    signed_in.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "サインイン中" in body and "Traceback" not in body
    assert page.get_by_role("button", name="サインイン").count() == 0
    print(f"reconnected to {other} {time.monotonic() - killed_at:.1f} s after {node} was killed")
    screenshot(page, "deployment-after-failover-1366")
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "deployment-after-failover-1920")
    context.close()
