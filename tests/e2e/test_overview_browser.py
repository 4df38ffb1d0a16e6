"""The first screen in a real browser: Japanese renders, the KPIs show, no traceback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StreamlitServer, screenshot, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(demo_sqlite_e2e):
    srv = StreamlitServer(demo_sqlite_e2e)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def demo_sqlite_e2e(tmp_path_factory, demo_city_file):

    path = tmp_path_factory.mktemp("e2e") / "demo.sqlite"
    url = demo_city_file(1000, path)
    return url


def test_overview_renders_in_japanese(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_text("市の概況").first.wait_for()
    body = page.inner_text("body")
    assert "オプトイン市民" in body and "1,000" in body
    assert "DEMO" in body
    assert "Traceback" not in body
    shot = screenshot(page, "overview-ja")
    assert shot.stat().st_size > 20_000
    # Japanese glyphs must render (fonts-noto-cjk), not as boxes: the title's width is sane.
    box = page.get_by_role("heading", name="市の概況").bounding_box()
    assert box and box["width"] > 80
    page.close()


def test_a_deep_link_goes_through_the_entry_point(browser, server):
    page = browser.new_page()
    page.goto(f"{server.url}/overview")
    wait_for_app(page)
    assert "DEMO" in page.inner_text("body"), "the shell (and its gate) ran for a deep link"
    page.close()
