"""Evacuation information in a real browser (Debian chromium, the real Streamlit server, a
demo file): headquarters take the rules' proposal for the 湯川 areas, confirm レベル3 in the
dialog that states who is covered, see what was recorded, then lift one area (issue 17)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sql.engine import make_engine
from tests.conftest import prepare_evacuation_board
from tests.e2e.conftest import ARTIFACTS, StreamlitServer, screenshot, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_city_file) -> str:

    folder = tmp_path_factory.mktemp("e2e-evacuation")
    path = folder / "demo.sqlite"
    url = demo_city_file(1000, path)
    return prepare_evacuation_board(url, folder)


@pytest.fixture(scope="module")
def feed_dir(tmp_path_factory):
    """Where the board republishes the feed (instead of dashboard/static/evacuation)."""
    return tmp_path_factory.mktemp("evacuation-feed")


@pytest.fixture(scope="module")
def server(demo_db, feed_dir):
    from dashboard.evacuation_panels import FEED_DIR_ENV

    srv = StreamlitServer(demo_db, extra_env={FEED_DIR_ENV: str(feed_dir)})
    yield srv
    srv.stop()


def feed_links(folder) -> list[str]:
    from lxml import etree

    from reports.cap import ATOM_NS

    doc = etree.parse(str(folder / "feed.atom"))
    return doc.xpath("//a:entry/a:link/@href", namespaces={"a": ATOM_NS})


def issuances(url: str):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT action, level, area_id, lifts_id, id FROM evacuation_issuances ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()


def look_at_the_proposals_on_the_hq_map(browser, server) -> None:
    """The HQ map, before any decision, outlines the proposed areas and names the layer in its
    legend (screenshot at 1366×768, what a laptop at HQ shows)."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server.url}/hq-map")
    wait_for_app(page)
    page.get_by_role("heading", name="本部マップ").wait_for()
    page.get_by_text("提案中の避難情報").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stDeckGlJsonChart']").first.scroll_into_view_if_needed()
    page.wait_for_timeout(2000)  # let deck.gl finish its first frame
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hq-map-proposals.png"))
    page.close()


def test_issue_and_lift_in_the_browser(browser, server, demo_db, feed_dir):
    look_at_the_proposals_on_the_hq_map(browser, server)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("link", name="避難情報").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="基準による提案").wait_for(timeout=60_000)
    screenshot(page, "evacuation-proposals")
    page.get_by_role("button", name="提案を採用: 警戒レベル3 高齢者等避難（3 区域）").click()
    wait_for_app(page)
    page.get_by_role("button", name="発令内容を確認").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("警戒レベル3 高齢者等避難 を次の区域に発令します。").wait_for(timeout=60_000)
    dialog.get_by_text("要支援者").wait_for()
    screenshot(page, "evacuation-confirm")
    assert issuances(demo_db) == []
    dialog.get_by_role("button", name="警戒レベル3 高齢者等避難 を発令する").click()
    page.get_by_text("警戒レベル3 高齢者等避難 を 3 区域に発令しました").wait_for(timeout=60_000)
    wait_for_app(page)
    issued = issuances(demo_db)
    assert [(r.action, r.level) for r in issued] == [("issue", 3)] * 3
    # the feed was republished, its links under this app's static address
    page.get_by_text("避難情報のフィード（Atom）と CAP メッセージを更新しました").wait_for()
    (link,) = feed_links(feed_dir)
    assert link.startswith(f"{server.url.rstrip('/')}/app/static/evacuation/")
    assert (feed_dir / link.rsplit("/", 1)[-1]).is_file()
    screenshot(page, "evacuation-issued")

    box = page.get_by_label("解除する区域").first
    box.click()
    page.get_by_role("option", name="謹教地区（湯川沿い） (YU-1)").first.click(timeout=60_000)
    page.keyboard.press("Escape")
    wait_for_app(page)
    page.get_by_label("解除の理由").fill("水位が下がったため")
    page.get_by_label("解除の理由").press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="解除内容を確認").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("次の区域の避難情報を解除します。").wait_for(timeout=60_000)
    screenshot(page, "evacuation-confirm-lift")
    dialog.get_by_role("button", name="解除する").click()
    page.get_by_text("1 区域の避難情報を解除しました").wait_for(timeout=60_000)
    after = issuances(demo_db)
    assert len(after) == 4 and after[-1].action == "lift"
    assert after[-1].lifts_id in {r.id for r in issued}
    assert len(feed_links(feed_dir)) == 2  # the issue, still in force in two areas, and the lift
    screenshot(page, "evacuation-lifted")
    page.close()
