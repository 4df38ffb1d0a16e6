"""Uploads on the research pages in a real browser (AppTest cannot upload): a researcher
signed in through the OpenID Connect provider uploads a questionnaire export with errors (the
report names file, row, column and reason; nothing is written, no import offered), then a good
one (no problems, dry-run counts), imports it through the confirmation dialog (the responses
are in the database, the import in the audit chain), imports it again (nothing added), and
uploads a UI/UX timing sheet the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sql.engine import make_engine
from tests.e2e.conftest import screenshot, sign_in, wait_for_app

pytestmark = pytest.mark.browser
SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"


def scalar(url: str, query: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(query)).scalar_one()
    engine.dispose()
    return int(value)


def open_section(page, title: str, label: str) -> None:
    """Open the upload expander ``title`` unless its uploader ``label`` already shows."""
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text=label).first
    if not uploader.is_visible():
        page.get_by_text(title).first.click()
    uploader.wait_for(state="visible", timeout=30_000)


def upload(page, label: str, path: Path) -> None:
    """Set a file on the uploader whose label reads ``label``."""
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text=label).first
    uploader.locator("input[type='file']").set_input_files(str(path))


def import_through_dialog(page, key: str) -> None:
    """Press the import button (widget ``key``) and confirm in the dialog."""
    wait_for_app(page)  # the run after the upload has finished: the button is the new one
    page.locator(f".st-key-{key} button").click()
    dialog = page.get_by_role("dialog")
    try:
        dialog.wait_for(timeout=30_000)
    except Exception:
        screenshot(page, "research-upload-no-dialog")
        raise
    dialog.get_by_text("すべて取り込むか、何も取り込まないか").wait_for(timeout=30_000)
    dialog.get_by_role("button", name="取り込む").click()
    page.get_by_text("を取り込みました").wait_for(timeout=60_000)


def test_upload_check_and_import_in_the_browser(browser, app_url, demo_db):
    responses = "SELECT COUNT(*) FROM survey_responses WHERE instrument_id = 'drill-2022'"
    imports = "SELECT COUNT(*) FROM audit_log WHERE action = 'import'"
    before = scalar(demo_db, responses)
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    sign_in(page, app_url, "demo-researcher")
    page.goto(f"{app_url}/research-survey")
    wait_for_app(page)
    open_section(page, "アンケートの回答ファイルを取り込む", "回答ファイル")

    # A bad export: the report as a table, no import button, nothing written.
    upload(page, "回答ファイル", SAMPLES / "bad_google_forms_drill_2022.csv")
    page.get_by_text("エラーがあると取り込めません").wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "bad_google_forms_drill_2022.csv" in body
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30_000)
    screenshot(page, "research-upload-bad")
    assert page.locator(".st-key-survey_upload_go button").count() == 0
    assert scalar(demo_db, responses) == before

    # A good export: no problems, the dry-run counts, then the import through the dialog.
    upload(page, "回答ファイル", SAMPLES / "google_forms_drill_2022.csv")
    page.get_by_text("問題はありません").wait_for(timeout=60_000)
    page.get_by_text("新規 24 件").first.wait_for(timeout=30_000)
    screenshot(page, "research-upload-ready")
    import_through_dialog(page, "survey_upload_go")
    screenshot(page, "research-upload-done")
    assert scalar(demo_db, responses) == before + 24
    assert scalar(demo_db, imports) == 1

    # The same file again: idempotent, nothing added.
    open_section(page, "アンケートの回答ファイルを取り込む", "回答ファイル")
    upload(page, "回答ファイル", SAMPLES / "google_forms_drill_2022.csv")
    page.get_by_text("変更なし 24 件").first.wait_for(timeout=60_000)
    import_through_dialog(page, "survey_upload_go")
    assert scalar(demo_db, responses) == before + 24

    # A UI/UX timing sheet on its page.
    timings = "SELECT COUNT(*) FROM uiux_task_timings"
    timings_before = scalar(demo_db, timings)
    page.goto(f"{app_url}/research-uiux")
    wait_for_app(page)
    open_section(page, "UI/UXテストの計測シートを取り込む", "計測シート")
    upload(page, "計測シート", SAMPLES / "uiux_timings_2021.csv")
    page.get_by_text("問題はありません").wait_for(timeout=60_000)
    import_through_dialog(page, "timings_upload_go")
    assert scalar(demo_db, timings) == timings_before + 72
    assert scalar(demo_db, imports) == 3
    context.close()
