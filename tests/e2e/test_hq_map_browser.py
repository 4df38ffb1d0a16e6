"""The HQ map in a real browser (Debian chromium, the real Streamlit server, a real demo file):
the deck draws its canvas, a rescue request picked on the map opens its panel, assigning a team
persists, and two staff changing the same request get a conflict, not a lost update."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sql.engine import make_engine
from tests.e2e.conftest import StreamlitServer, choose, screenshot, wait_for_app

pytestmark = pytest.mark.browser

CENTRE = (37.495, 139.930)  # the configured city's map centre


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_city_file):

    path = tmp_path_factory.mktemp("e2e-hq") / "demo.sqlite"
    url = demo_city_file(1000, path)
    engine = make_engine(url)
    with engine.begin() as conn:
        # Nothing else to pick near the centre of the map (at zoom 12 a dot covers ~40 m)...
        conn.execute(
            sa.text(
                "UPDATE rescue_requests SET lat = lat + 0.03 WHERE abs(lat - :lat) < 0.005 "
                "AND abs(lon - :lon) < 0.005"
            ),
            {"lat": CENTRE[0], "lon": CENTRE[1]},
        )
        # ...and a request exactly under it, to pick with a click.
        rid = conn.execute(
            sa.text(
                "INSERT INTO rescue_requests (idempotency_key, incident_id, lat, lon, "
                "people_count, injured_count, priority, status, source, requested_at, updated_at, "
                "version) VALUES ('e2e:centre', 1, :lat, :lon, 3, 1, 'high', 'new', 'app', :t, :t, 1) "
                "RETURNING id"
            ),
            {
                "lat": CENTRE[0],
                "lon": CENTRE[1],
                "t": dt.datetime(2026, 7, 10, 1, 0).isoformat(" "),
            },
        ).scalar_one()
    engine.dispose()
    return url, rid


@pytest.fixture(scope="module")
def server(demo_db):
    srv = StreamlitServer(demo_db[0])
    yield srv
    srv.stop()


def request_row(url: str, rid: int):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT status, assigned_team, version FROM rescue_requests WHERE id = :i"),
                {"i": rid},
            ).one()
    finally:
        engine.dispose()


def open_hq_map(browser, server):
    page = browser.new_page(viewport={"width": 1600, "height": 1100})
    page.goto(f"{server.url}/hq-map")
    wait_for_app(page)
    page.get_by_role("heading", name="本部マップ").wait_for()
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=60_000)
    return page


def test_the_map_draws_and_a_click_on_a_request_opens_its_panel(browser, server, demo_db):
    url, rid = demo_db
    page = open_hq_map(browser, server)
    body = page.inner_text("body")
    assert "オプトイン市民" in body and "Traceback" not in body
    # The GSI tiles with their credit, or (no internet, as here) a notice and the city's map.
    assert "出典：地理院タイル" in body or (
        "地理院タイルを読み込めません" in body and "背景：市の地理データ" in body
    )
    chart = page.locator("[data-testid='stDeckGlJsonChart']").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 400
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_timeout(2000)  # let deck.gl finish its first frame
    screenshot(page, "hq-map")
    panel = page.get_by_text(f"救助要請 #{rid}").first
    for _attempt in range(5):  # a loaded machine may still be drawing: click again if needed
        wait_for_app(page)  # a refresh in flight redraws the deck under the pointer
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            panel.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            continue
    panel.wait_for(timeout=1_000)
    wait_for_app(page)
    # The pick shows in the list first; the panel follows when the run has drawn it.
    page.get_by_text("スコア = 30").first.wait_for(timeout=30_000)
    assert "スコア = 30" in page.inner_text("body")  # the formula beside the panel
    screenshot(page, "hq-map-rescue-panel")
    page.close()


def test_assigning_a_team_in_the_browser_persists(browser, server, demo_db):
    url, rid = demo_db
    page = open_hq_map(browser, server)
    choose(page, "詳細を表示", f"救助要請 #{rid}")
    page.get_by_text(f"救助要請 #{rid}").first.wait_for()
    wait_for_app(page)
    choose(page, "次の状態", "隊割当済")
    choose(page, "担当隊", "消防3隊")
    page.get_by_role("button", name="保存する").click()
    page.get_by_text(f"救助要請 #{rid} を「隊割当済」にしました").wait_for(timeout=60_000)
    row = request_row(url, rid)
    assert (row.status, row.assigned_team) == ("assigned", "消防3隊")
    page.close()


def test_two_staff_changing_the_same_request_get_a_conflict(browser, server, demo_db):
    url, _ = demo_db
    engine = make_engine(url)
    with engine.connect() as conn:  # a request nobody has touched yet, whatever ran before
        rid = conn.execute(
            sa.text(
                "SELECT id FROM rescue_requests WHERE incident_id = 1 AND status = 'new' "
                "AND idempotency_key <> 'e2e:centre' ORDER BY id LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    before = request_row(url, rid)
    first_ctx, second_ctx = browser.new_context(), browser.new_context()
    first, second = first_ctx.new_page(), second_ctx.new_page()
    for page in (first, second):
        page.set_viewport_size({"width": 1600, "height": 1100})
        page.goto(f"{server.url}/rescue-queue")
        wait_for_app(page)
        choose(page, "対応する要請", f"#{rid}")
        page.get_by_text(f"救助要請 #{rid}").first.wait_for()
        wait_for_app(page)
    choose(first, "次の状態", "トリアージ済")
    first.get_by_role("button", name="保存する").click()
    first.get_by_text("を「トリアージ済」にしました").wait_for(timeout=60_000)
    choose(second, "次の状態", "取消")
    second.get_by_label("理由・メモ", exact=True).fill("重複した要請")
    second.get_by_role("button", name="保存する").click()
    # Cancelling takes the request off the list: asked in a dialog first.
    second.get_by_role("dialog").get_by_role("button", name="「取消」にする").click()
    second.get_by_text("競合").first.wait_for(timeout=60_000)
    screenshot(second, "rescue-conflict")
    row = request_row(url, rid)
    assert row.status == "triaged" and row.version == before.version + 1  # nothing lost
    first_ctx.close()
    second_ctx.close()
