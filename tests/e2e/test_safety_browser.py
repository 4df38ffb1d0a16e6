"""The safety loop in a real browser (Debian chromium, the real Streamlit server, a demo file):
a reception desk on a tablet searches a person, checks their household in and registers a
walk-in; headquarters pick someone from the unaccounted-for list, assign a caller and record
that they were reached and safe. Screenshots at 1024×768 (tablet), 1366×768 and 1920×1080."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sql.engine import make_engine
from tests.e2e.conftest import StreamlitServer, choose, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = {"reception": "避難所受付", "unaccounted": "安否未確認者"}
SIZES = {"tablet": (1024, 768), "laptop": (1366, 768), "desktop": (1920, 1080)}
#: Glide data grid geometry (Streamlit's defaults): header and row height in pixels.
HEADER_PX, ROW_PX = 35, 35


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_city_file) -> str:

    path = tmp_path_factory.mktemp("e2e-safety") / "demo.sqlite"
    url = demo_city_file(1000, path)
    return url


@pytest.fixture(scope="module")
def server(demo_db):
    srv = StreamlitServer(demo_db)
    yield srv
    srv.stop()


def query(url: str, statement: str, **values):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement), values).all()
    finally:
        engine.dispose()


def open_as(browser, server, role_label: str, path: str, size: str):
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url)
    wait_for_app(page)
    if role_label != "災害対策本部":
        choose(page, "表示する役割（デモ）", role_label)
    # Through the navigation: a new URL would start a new session (and the default role).
    page.get_by_role("link", name=PAGES[path]).first.click()
    wait_for_app(page)
    return page


def click_row(page, grid_index: int, row: int, column_x: float = 18) -> None:
    """Click a row of the ``grid_index``-th data grid on the page (its first column)."""
    grid = page.locator("[data-testid='stDataFrame']").nth(grid_index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box, "the table is visible"
    page.mouse.click(box["x"] + column_x, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)
    wait_for_app(page)


def a_family(url: str):
    household = query(
        url,
        "SELECT household_id FROM citizens WHERE id NOT IN (SELECT citizen_id FROM "
        "evacuee_stays WHERE citizen_id IS NOT NULL) GROUP BY household_id "
        "HAVING COUNT(*) = 3 ORDER BY household_id LIMIT 1",
    )[0][0]
    return query(
        url, "SELECT id, name, kana FROM citizens WHERE household_id = :h ORDER BY id", h=household
    )


def test_a_reception_desk_on_a_tablet(browser, server, demo_db):
    page = open_as(browser, server, "避難所職員", "reception", "tablet")
    page.get_by_role("heading", name="避難所受付").wait_for()
    screenshot(page, "reception-tablet")
    family = a_family(demo_db)
    first = family[0]
    # Search by the name as typed, with a space.
    page.get_by_label("氏名・ふりがな（2文字以上）").fill(first.name)
    page.get_by_role("button", name="検索").click()
    page.get_by_text("人が見つかりました").wait_for(timeout=60_000)
    wait_for_app(page)
    names = [
        r.name
        for r in query(
            demo_db,
            "SELECT name FROM citizens WHERE replace(name, ' ', '') LIKE :n ORDER BY kana, id",
            n="%" + first.name.replace(" ", "") + "%",
        )
    ]
    click_row(page, 0, names.index(first.name))
    page.get_by_text("一緒に受付する世帯員").wait_for(timeout=60_000)
    # Tick the other two members (the first is ticked already) in the household grid.
    for row in (1, 2):
        click_row(page, 1, row, column_x=38)  # the checkbox in the first column
    page.get_by_role("button", name="受付する（3）").wait_for(timeout=60_000)
    screenshot(page, "reception-household-tablet")
    page.get_by_role("button", name="受付する（3）").click()
    page.get_by_text("3 人を受付しました").wait_for(timeout=60_000)
    stays = query(
        demo_db,
        "SELECT COUNT(*) FROM evacuee_stays WHERE left_at IS NULL AND citizen_id IN "
        f"({','.join(str(m.id) for m in family)})",
    )[0][0]
    assert stays == 3
    # A walk-in.
    page.get_by_role("tab", name="未登録の来所者").click()
    page.get_by_label("氏名（代表者）").fill("来訪 太郎")
    page.get_by_test_id("stNumberInputStepUp").first.click()  # 1 → 2 people
    page.get_by_role("button", name="登録済みの方か確認する").click()
    wait_for_app(page)
    page.get_by_text("登録済みの方に該当はありません").wait_for(timeout=60_000)
    screenshot(page, "reception-walk-in-tablet")
    page.get_by_role("button", name="未登録として受付（2 人）").click()
    page.get_by_text("未登録の来所者として 2 人を受付しました").wait_for(timeout=60_000)
    assert query(demo_db, "SELECT household_size FROM walk_ins WHERE name = '来訪 太郎'") == [(2,)]
    page.get_by_role("tab", name="在所者・退所").click()
    wait_for_app(page)
    body = page.inner_text("body")
    assert "Traceback" not in body and "safety." not in body
    screenshot(page, "reception-here-tablet")
    for size in ("laptop", "desktop"):
        page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
        wait_for_app(page)
        screenshot(page, f"reception-{size}")
    page.close()


def test_headquarters_follow_up_someone_unaccounted_for(browser, server, demo_db):
    page = open_as(browser, server, "災害対策本部", "unaccounted", "laptop")
    page.get_by_role("heading", name="安否未確認者").wait_for()
    page.get_by_text("人を表示（全").wait_for(timeout=60_000)
    wait_for_app(page)
    screenshot(page, "unaccounted-laptop")
    click_row(page, 1, 0)  # the first person of the list (grid 0 is the district table)
    page.get_by_text("安否の記録（新しい順）").wait_for(timeout=60_000)
    heading = page.locator("h3", has_text="番号").first.inner_text()
    person = int("".join(ch for ch in heading if ch.isdigit()))
    page.get_by_label("担当者・訪問班").fill("電話班A")
    page.get_by_role("button", name="担当を割り当てる").click()
    page.get_by_text("電話班A（電話）に割り当てました").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("tab", name="結果", exact=True).last.click()
    wait_for_app(page)
    # (the live list refreshes every few seconds: take the newest copy of the form)
    page.get_by_role("button", name="結果を記録").last.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("について「無事を確認」を記録します").wait_for(timeout=60_000)
    screenshot(page, "unaccounted-outcome-dialog")
    dialog.get_by_role("button", name="記録する").click()
    page.get_by_text("無事を確認として記録しました").wait_for(timeout=60_000)
    rows = query(demo_db, "SELECT status, assignee FROM follow_ups WHERE citizen_id = :p", p=person)
    assert rows == [("reached_safe", "電話班A")]
    for size in ("tablet", "desktop"):
        page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
        wait_for_app(page)
        screenshot(page, f"unaccounted-{size}")
    page.close()
