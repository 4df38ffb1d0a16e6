"""Outside text is text, in a real browser (issue 13, finding 9), and Streamlit's own surface
(finding 14): a JMA telegram whose headline carries bold, a link, a remote image, raw HTML and
Streamlit directives is imported through ``bosai import warnings``; the warnings page shows
its characters literally, renders none of it, and the image's server is never asked for it.
The server tells the browser to trust no embedding origin."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from bosai.cli import main
from cityos.reference_server.runner import free_port
from tests.conftest import hostile_headline, write_hostile_telegram
from tests.e2e.conftest import StreamlitServer, screenshot, wait_for_app

pytestmark = pytest.mark.browser


class Beacon:
    """A loopback HTTP server that records every request made to it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        beacon = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                beacon.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def beacon() -> Iterator[Beacon]:
    server = Beacon()
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(demo_db, beacon, tmp_path_factory) -> Iterator[StreamlitServer]:
    """The demo city (DEMO mode) with the hostile telegram imported the way staff would."""
    path = write_hostile_telegram(tmp_path_factory.mktemp("telegram") / "hostile.xml", beacon.url)
    assert main(["--database-url", demo_db, "import", "warnings", str(path)]) == 0
    srv = StreamlitServer(demo_db)
    yield srv
    srv.stop()


def test_a_hostile_telegram_renders_as_literal_text_and_fetches_nothing(browser, server, beacon):
    for width, height in ((1366, 768), (1920, 1080)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{server.url}/warnings")
        wait_for_app(page)
        page.get_by_role("heading", name="警報・ハザード").wait_for(timeout=30_000)
        page.get_by_text("最新の発表").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # give any image time to load
        caption = page.get_by_text("最新の発表").inner_text()
        # What a person reads: the headline's characters (the word joiners are invisible).
        assert hostile_headline(beacon.url) in caption.replace("\u2060", ""), caption
        main_area = page.locator("[data-testid='stMain']")
        assert main_area.locator(f"img[src^='{beacon.url}']").count() == 0
        assert main_area.locator(f"a[href^='{beacon.url}']").count() == 0
        assert main_area.locator("strong", has_text="至急").count() == 0
        assert main_area.locator("a[href*='example.com'], a[href^='mailto']").count() == 0
        screenshot(page, f"outside-text-warnings-{width}")
        context.close()
    assert beacon.requests == [], "the browser fetched the beacon"


def test_the_server_trusts_no_embedding_origin(server):
    with urllib.request.urlopen(f"{server.url}/_stcore/host-config", timeout=10) as resp:
        config = json.loads(resp.read())
    assert config["allowedOrigins"] == [], config
