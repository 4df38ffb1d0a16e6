"""The HQ night shift in a real browser (issue 14): Debian's chromium against ``streamlit run``
on a demo city, as at an HQ without internet. Assign the most urgent request; close an occupied
shelter (a dialog; the panel stays on it, the message under its name) and reopen it; record a
count over capacity (a warning); end the demo incident, declare and end a drill (the pages are
back to normal time); English on the HQ pages without Japanese label text.

Assertions read the page's text. Screenshots at 1366×768 (and the shelter board and HQ map at
1920×1080) go to ``test-artifacts/night-shift-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sql.engine import make_engine
from tests.e2e.conftest import StreamlitServer, choose, screenshot, wait_for_app

pytestmark = pytest.mark.browser

SMALL = {"width": 1366, "height": 768}
WALL = {"width": 1920, "height": 1080}
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff、。「」（）：]")


@pytest.fixture(scope="module")
def night_server(demo_db) -> Iterator[StreamlitServer]:
    """The dashboard on the module's demo city, with the map tiles unreachable."""
    from cityos.reference_server.runner import free_port

    closed = f"http://127.0.0.1:{free_port()}/tile.png"
    server = StreamlitServer(demo_db, {"BOSAI_BASEMAP_PROBE": closed})
    yield server
    server.stop()


def rows(url: str, statement: str, **params) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement), params).all()
    finally:
        engine.dispose()


def open_page(browser, server, path: str, viewport=SMALL):
    page = browser.new_page(viewport=viewport)
    page.goto(f"{server.url}/{path}")
    wait_for_app(page)
    return page


def body(page) -> str:
    return page.inner_text("body")


def test_the_night_shift(browser, night_server, demo_db):
    # ------------------------------------------------ 1. assign the most urgent request
    page = open_page(browser, night_server, "rescue-queue")
    page.get_by_role("heading", name="救助要請").wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    box = page.get_by_label("対応する要請", exact=True).first
    box.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    labels = [options.nth(i).inner_text() for i in range(min(options.count(), 5))]
    scores = [float(re.search(r"スコア ([\d.]+)", label).group(1)) for label in labels]
    assert scores == sorted(scores, reverse=True), labels  # the most urgent comes first
    assert re.fullmatch(r"#\d+｜スコア [\d.]+｜.+｜\d+ 人｜待ち [\d,]+ 分", labels[0]), labels
    rid = int(re.match(r"#(\d+)", labels[0]).group(1))
    options.first.click()
    wait_for_app(page)
    page.get_by_text(f"救助要請 #{rid}", exact=True).wait_for()
    screenshot(page, "night-shift-1-queue-1366x768")
    # Streamlit's own English stays out of the Japanese page (item 12).
    page.get_by_label("担当隊で絞り込み", exact=True).fill("消")
    text = body(page)
    for english in ("Choose options", "Select all", "View ", "Press Enter", "None", "empty"):
        assert english not in text, english
    # The rescuer's columns fit beside the panel: no horizontal scrolling at 1366 px.
    grid = page.locator("[data-testid='stDataFrame']").first
    overflow = grid.evaluate(
        "e => { const s = e.querySelector('.dvn-scroller') || e;"
        " return s.scrollWidth - s.clientWidth; }"
    )
    assert overflow <= 1, overflow
    choose(page, "次の状態", "隊割当済")
    choose(page, "担当隊", "消防1隊")
    page.get_by_role("button", name="保存する").click()
    page.get_by_text(f"救助要請 #{rid} を「隊割当済」にしました。").wait_for(timeout=60_000)
    assert rows(demo_db, "SELECT status, assigned_team FROM rescue_requests WHERE id = :i", i=rid)[
        0
    ] == ("assigned", "消防1隊")
    page.close()

    # ------------------------------------------------ 2. close an occupied shelter, reopen it
    sid, name, capacity = rows(
        demo_db,
        "SELECT s.id, s.name, s.capacity FROM shelters s "
        "JOIN shelter_operations o ON o.shelter_id = s.id AND o.incident_id = 1 "
        "AND o.closed_at IS NULL "
        "WHERE s.capacity > 0 AND s.id NOT IN "
        "(SELECT shelter_id FROM evacuee_stays WHERE shelter_id IS NOT NULL) "
        "AND (SELECT head_count FROM shelter_occupancy c WHERE c.shelter_id = s.id "
        "     AND c.incident_id = 1 ORDER BY observed_at DESC, id DESC LIMIT 1) > 0 "
        "ORDER BY s.id LIMIT 1",
    )[0]
    page = open_page(browser, night_server, "shelters")
    page.get_by_role("heading", name="避難所", exact=True).wait_for()
    choose(page, "避難所を選択", name)
    page.get_by_role("heading", name=name).wait_for()
    page.get_by_role("button", name="閉鎖する").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(
        re.compile(rf"{re.escape(name)} を閉鎖します。現在 [\d,]+ 人が避難しています。")
    ).wait_for()
    screenshot(page, "night-shift-2-close-dialog-1366x768")
    dialog.get_by_role("button", name="閉鎖する").click()
    page.get_by_text(f"{name} を閉鎖しました。", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    # The panel stays on the closed shelter (it left the "open only" list), message under it.
    assert page.get_by_role("heading", name=name).is_visible()
    message = page.get_by_text(f"{name} を閉鎖しました。", exact=True)
    heading_y = page.get_by_role("heading", name=name).bounding_box()["y"]
    assert message.bounding_box()["y"] > heading_y
    assert "開設中" not in page.locator("[data-testid='stDataFrame']").last.inner_text()
    screenshot(page, "night-shift-3-closed-1366x768")
    page.get_by_role("button", name="開設する").click()
    page.get_by_text(f"{name} を開設しました。", exact=True).wait_for(timeout=60_000)
    assert (
        rows(
            demo_db,
            "SELECT COUNT(*) FROM shelter_operations WHERE shelter_id = :s AND incident_id = 1 "
            "AND closed_at IS NULL",
            s=sid,
        )[0][0]
        == 1
    )

    # ------------------------------------------------ 3. a count over capacity warns
    count = page.get_by_label("現在の避難者数", exact=True)
    assert int(count.input_value().replace(",", "")) >= 0  # starts at the current count
    count.fill(str(capacity + 12))
    page.get_by_role("button", name="避難者数を記録").click()
    warning = f"{name} の避難者数 {capacity + 12:,} 人を記録しました。収容人数 {capacity:,} 人を 12 人超えています"
    page.get_by_text(re.compile(re.escape(warning))).wait_for(timeout=60_000)
    wait_for_app(page)
    screenshot(page, "night-shift-4-over-capacity-1366x768")
    page.set_viewport_size(WALL)
    page.wait_for_timeout(1000)
    screenshot(page, "night-shift-4-shelters-1920x1080")
    assert "Traceback" not in body(page)
    page.close()

    # ------------------------------------------------ 4. end the incident; a drill; end it
    open_requests = rows(
        demo_db,
        "SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 "
        "AND status IN ('new','triaged','assigned','en_route')",
    )[0][0]
    open_shelters = rows(
        demo_db,
        "SELECT COUNT(DISTINCT shelter_id) FROM shelter_operations WHERE incident_id = 1 "
        "AND closed_at IS NULL",
    )[0][0]
    page = open_page(browser, night_server, "incidents")
    page.get_by_role("button", name="事案を終了する").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(
        f"未完了の救助要請が {open_requests:,} 件、開設中の避難所が {open_shelters:,} か所あります"
    ).wait_for()
    screenshot(page, "night-shift-5-end-dialog-1366x768")
    dialog.get_by_label("終了の理由・メモ").fill("夜間の引継ぎ")
    dialog.get_by_role("button", name="終了を確定").click()
    page.get_by_text("事案を終了しました。平時モードに戻りました。").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text("訓練", exact=True).click()
    page.get_by_label("名称（日本語）").fill("夜間参集訓練")
    page.get_by_role("button", name="発令する").click()
    page.get_by_text("訓練中：夜間参集訓練").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="事案を終了する").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("夜間参集訓練（訓練）を終了します。").wait_for()
    dialog.get_by_role("button", name="終了を確定").click()
    page.get_by_text("事案を終了しました。平時モードに戻りました。").wait_for(timeout=60_000)
    page.close()
    for path in ("hq-map", "shelters", "rescue-queue"):
        page = open_page(browser, night_server, path)
        page.wait_for_timeout(1500)
        wait_for_app(page)
        text = body(page)
        assert "訓練中" not in text and "夜間参集訓練" not in text, path
        assert "有事モード" not in text and "デモ事案の時刻" not in text, path
        assert "発表中" not in text, path  # no warnings of the incident or drill that ended
        assert "Traceback" not in text, path
        if path == "hq-map":
            assert "事案はありません（平時）" in text
            screenshot(page, "night-shift-6-normal-hq-map-1366x768")
        page.close()

    # ------------------------------------------------ 5. English on the HQ pages
    page = open_page(browser, night_server, "hq-map", WALL)
    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    page.get_by_role("heading", name="HQ map").wait_for()
    for path, heading in (
        ("hq-map", "HQ map"),
        ("rescue-queue", "Rescue queue"),
        ("shelters", "Shelters"),
        ("incidents", "Incidents"),
        ("notifications", "Notifications"),
    ):
        page.get_by_role("link", name=heading, exact=True).click()
        wait_for_app(page)
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        page.wait_for_timeout(1000)
        labels = page.evaluate(LABELS)
        japanese = [label for label in labels if JAPANESE.search(label)]
        assert japanese == [], (path, japanese)
        screenshot(page, f"night-shift-7-en-{path}-1920x1080")
    page.close()


#: The page's own words: headings, metric and widget labels, buttons, the navigation, alerts
#: and captions — not table cells or the names of places and people (outside text), nor the
#: language switch, which names 日本語 in Japanese on purpose.
LABELS = """() => {
  const pick = 'h1, h2, h3, [data-testid=stMetricLabel], [data-testid=stWidgetLabel], '
    + 'button, [data-testid=stSidebarNav] a, [data-testid=stAlertContainer], '
    + '[data-testid=stCaptionContainer], [data-baseweb=tab], [data-testid=stExpander] summary';
  return Array.from(document.querySelectorAll(pick))
    .filter(e => !e.closest('.st-key-lang'))
    .map(e => e.innerText.trim()).filter(t => t);
}"""
