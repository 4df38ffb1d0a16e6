"""The survey upload as the issue states its target: in a real browser, the time from the upload
of a 10,000 respondents × 40 items export to the scored table on the survey page (at most 5 s),
against the command line on the same file in the same run.

A demo city (300 citizens, DEMO mode) is served by the real Streamlit server; Debian's chromium
(Playwright) picks the researcher role, opens アンケート分析, chooses "upload an instrument" and
gives the bench's 40-item instrument YAML, then the clock starts: the export is set on the
uploader, the check report says 問題はありません, the import button and the dialog's 取り込む are
pressed at once (a person's reading time is not measured), the page says 新規 10,000 件, and the
clock stops when the page shows the scored instrument's response count (10,000) with its subscale table and has finished
running. The baseline is :func:`benchmarks.bench_research_upload.command_line` (``bosai survey
import`` + ``bosai analyze survey`` in-process, page options). Ratio = browser / command line.
Needs chromium and Playwright (as the browser tests); ``--quick`` uses 2,000 respondents.
"""

from __future__ import annotations

import re
import time

from .bench_research_upload import bench_files, command_line
from .core import BenchContext, Result

ROLE_BOX = "表示する役割（デモ）"
SECTION = "アンケートの回答ファイルを取り込む"
EXPORT_LABEL = "回答ファイル"
INSTRUMENT_BOX = "調査票"
OWN_INSTRUMENT = "調査票（YAML）をアップロードする"
INSTRUMENT_LABEL = "調査票の定義（YAML）"


def _wait_for_app(page, timeout: float = 120_000) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout
    )
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)


def _choose(page, label: str, option: str) -> None:
    box = page.get_by_label(label, exact=True).first
    box.wait_for(state="visible", timeout=60_000)
    if box.input_value() == option:
        return
    box.click()
    box.fill(option)
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}$")).first.click()
    _wait_for_app(page)


def _uploader(page, label: str):
    return page.locator("[data-testid='stFileUploader']").filter(has_text=label).first


def _ready_page(page, base: str, instrument) -> None:
    """Researcher on the survey page, the upload section open, the instrument given."""
    page.goto(base)
    _wait_for_app(page)
    _choose(page, ROLE_BOX, "研究者")
    page.get_by_role("link", name="アンケート分析").click()  # a new URL would be a new session
    _wait_for_app(page)
    page.get_by_role("heading", name="アンケート分析").wait_for(timeout=60_000)
    if not _uploader(page, EXPORT_LABEL).is_visible():
        page.get_by_text(SECTION).first.click()
        _wait_for_app(page)  # the expander reruns the page when it opens
    _uploader(page, EXPORT_LABEL).wait_for(state="visible", timeout=60_000)
    _choose(page, INSTRUMENT_BOX, OWN_INSTRUMENT)
    _uploader(page, INSTRUMENT_LABEL).locator("input[type='file']").set_input_files(str(instrument))
    _wait_for_app(page)


def _upload_to_scored_table(page, export, respondents: int) -> tuple[float, float]:
    """Seconds from setting the export on the uploader to the checked report, and to the
    scored table."""
    start = time.perf_counter()
    _uploader(page, EXPORT_LABEL).locator("input[type='file']").set_input_files(str(export))
    page.get_by_text("問題はありません").first.wait_for(timeout=300_000)
    _wait_for_app(page, 300_000)
    checked = time.perf_counter() - start
    page.locator(".st-key-survey_upload_go button").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="取り込む").click()
    page.get_by_text(f"新規 {respondents:,} 件").first.wait_for(timeout=300_000)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text(f"{respondents:,}", exact=True).first.wait_for(timeout=300_000)
    page.get_by_role("heading", name="下位尺度の得点と信頼性").first.wait_for(timeout=300_000)
    _wait_for_app(page, 300_000)
    return checked, time.perf_counter() - start


def run(ctx: BenchContext) -> list[Result]:
    from playwright.sync_api import sync_playwright

    from dashboard.launch import CHROMIUM, CHROMIUM_ARGS

    from .soak import prepare_demo, streamlit_server

    respondents, export, instrument = bench_files(ctx, "research_upload_browser")
    folder = export.parent
    url = ctx.sqlite_url("research_upload_browser")
    prepare_demo(url, 300)
    with (
        streamlit_server(url, folder / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            try:
                _ready_page(page, base, instrument)
                checked, scored = _upload_to_scored_table(page, export, respondents)
            finally:
                page.screenshot(path=str(folder / "page.png"), full_page=True)
        finally:
            browser.close()
    cli = command_line(ctx, export, instrument)
    size = f"{respondents:,} x 40"
    return [
        Result(
            f"survey upload in the browser: upload to the scored table ({size})",
            scored,
            "s",
            cli,
            note=(
                "value: chromium on the real Streamlit server, from setting the export on the "
                "uploader to the scored table (check, import through the dialog at once, "
                "scoring, drawing); baseline: `bosai survey import` + `bosai analyze survey` "
                "in-process on the same file; ratio < 1 = browser faster; target value <= 5 s"
            ),
        ),
        Result(f"survey upload in the browser: upload to the check report ({size})", checked, "s"),
    ]
