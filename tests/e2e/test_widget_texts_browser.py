"""Streamlit's own English texts written over in Japanese (issue 14, item 12; the module is
``dashboard/widget_texts.py``), in Debian's chromium against ``streamlit run`` on a demo city.

The Japanese text is a ``::after`` pseudo-element, which ``innerText`` does not include: the
tests read it with ``getComputedStyle(el, '::after').content`` and check that the English text
beneath takes no room on the screen (its text node's boxes are zero wide). The English UI keeps
Streamlit's own texts. Screenshots at 1366×768 go to ``test-artifacts/widget-texts-*.png``.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest

from bosai.i18n import t
from tests.e2e.conftest import StreamlitServer, choose, screenshot, wait_for_app

pytestmark = pytest.mark.browser

SMALL = {"width": 1366, "height": 768}
BUTTON = "[data-testid='stBaseButton-secondary'] [data-testid='stMarkdownContainer'] p"
HINT = "[data-testid='stFileUploaderDropzoneInstructions'] span"
DRAGGED = "[data-testid='stFileUploaderDropzone'] > div:not([data-testid]) > span"

#: What an element shows: its ``::after`` text (``none`` if it has none) and the width its own
#: text takes on the screen.
SHOWN = """e => {
  const range = document.createRange();
  range.selectNodeContents(e);
  return {after: getComputedStyle(e, '::after').content, text: e.textContent,
          width: range.getBoundingClientRect().width};
}"""


@pytest.fixture(scope="module")
def server(demo_db) -> Iterator[StreamlitServer]:
    server = StreamlitServer(demo_db)
    yield server
    server.stop()


def css_text(key: str, lang: str = "ja") -> str:
    """The catalog text as ``getComputedStyle(...).content`` gives it back."""
    return json.dumps(t(f"streamlit_widget.{key}", lang), ensure_ascii=False)


def shown(locator) -> dict:
    return locator.evaluate(SHOWN)


def assert_japanese(element: dict, key: str) -> None:
    assert element["after"] == css_text(key), element
    assert element["width"] == 0, element  # the English beneath takes no room


def assert_streamlit_english(element: dict, english: str) -> None:
    assert element["after"] == "none", element
    assert element["text"].startswith(english) and element["width"] > 0, element


def open_as(browser, server, role: str, title_key: str, lang: str = "ja"):
    """A 1366×768 page in the demo, in ``lang``, as ``role``, on the page titled ``title_key``."""
    page = browser.new_page(viewport=SMALL, locale="ja-JP")
    page.goto(server.url)
    wait_for_app(page)
    if lang == "en":
        page.get_by_text("English", exact=True).click()
        page.get_by_text(t("shell.role", "en"), exact=True).wait_for(timeout=30_000)
        wait_for_app(page)
    choose(page, t("shell.role", lang), t(f"role.{role}", lang))
    page.get_by_role("link", name=t(title_key, lang)).click()
    wait_for_app(page)
    return page


def uploader_labelled(page, label: str, opener: str | None = None):
    """The uploader labelled ``label``; ``opener`` (an expander or a tab) is clicked until the
    uploader shows and stays shown (a rerun just after the click can fold an expander again)."""
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text=label).first
    for _ in range(3):
        wait_for_app(page)
        page.wait_for_timeout(1_000)
        if uploader.is_visible() or opener is None:
            break
        page.get_by_text(opener, exact=True).first.click()
    uploader.wait_for(state="visible", timeout=30_000)
    return uploader


def assert_fits(uploader) -> None:
    """The button's text stays inside the button, and the button clear of the hint beside it."""
    button = uploader.locator("[data-testid='stBaseButton-secondary']")
    inside = button.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert inside, "the button's text overflows it"
    a = button.bounding_box()
    b = uploader.locator("[data-testid='stFileUploaderDropzoneInstructions']").bounding_box()
    assert a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"], (a, b)


def dragged_over(page, uploader) -> dict:
    """What the uploader shows while a file is dragged over it (the drag then leaves)."""
    files = page.evaluate_handle(
        "() => { const d = new DataTransfer();"
        " d.items.add(new File(['x'], 'a.csv', {type: 'text/csv'})); return d; }"
    )
    dropzone = uploader.locator("[data-testid='stFileUploaderDropzone']")
    dropzone.dispatch_event("dragenter", {"dataTransfer": files})
    uploader.locator(DRAGGED).wait_for(timeout=10_000)
    seen = shown(uploader.locator(DRAGGED))
    dropzone.dispatch_event("dragleave", {"dataTransfer": files})
    uploader.locator(DRAGGED).wait_for(state="detached", timeout=10_000)
    return seen


def test_the_research_uploader_reads_japanese_and_english_in_english(browser, server):
    page = open_as(browser, server, "researcher", "research.survey.title")
    uploader = uploader_labelled(
        page, t("research.upload.export"), t("research.upload.survey_title")
    )
    assert_japanese(shown(uploader.locator(BUTTON)), "uploader_button")
    assert_japanese(shown(uploader.locator(HINT)), "uploader_hint")
    assert_fits(uploader)
    uploader.scroll_into_view_if_needed()
    screenshot(page, "widget-texts-research-upload-ja-1366x768")
    assert_japanese(dragged_over(page, uploader), "uploader_drop")

    page.close()

    page = open_as(browser, server, "researcher", "research.survey.title", "en")
    uploader = uploader_labelled(
        page, t("research.upload.export", "en"), t("research.upload.survey_title", "en")
    )
    assert_streamlit_english(shown(uploader.locator(BUTTON)), "Upload")
    assert_streamlit_english(shown(uploader.locator(HINT)), "200MB per file")
    uploader.scroll_into_view_if_needed()
    screenshot(page, "widget-texts-research-upload-en-1366x768")
    page.close()


def test_the_admin_import_uploader_reads_japanese(browser, server):
    page = open_as(browser, server, "admin", "safety.plans.title")
    uploader = uploader_labelled(page, t("safety.plans.import_file"), t("safety.plans.import"))
    assert_japanese(shown(uploader.locator(BUTTON)), "uploader_button")
    assert_japanese(shown(uploader.locator(HINT)), "uploader_hint")
    assert_fits(uploader)
    screenshot(page, "widget-texts-plan-import-ja-1366x768")
    page.close()


def hover_tooltip(page, english: str):
    """Hover the first table's toolbar button labelled ``english``; its tooltip paragraph."""
    page.locator("[data-testid='stDataFrame']").first.hover()
    button = "[data-testid='stElementToolbarButton'] button"
    page.locator(f"{button}[aria-label^='{english}']").first.hover()
    paragraph = page.locator("[data-testid='stTooltipContent'] p")
    paragraph.wait_for(timeout=10_000)
    return paragraph


def test_table_toolbar_tooltips_read_japanese_and_english_in_english(browser, server):
    page = open_as(browser, server, "hq", "queue.title")
    assert_japanese(shown(hover_tooltip(page, "Download as CSV")), "table_download")
    screenshot(page, "widget-texts-table-tooltip-ja-1366x768")
    assert_japanese(shown(hover_tooltip(page, "Search")), "table_search")
    page.close()
    page = open_as(browser, server, "hq", "queue.title", "en")
    assert_streamlit_english(shown(hover_tooltip(page, "Download as CSV")), "Download as CSV")
    page.close()


def chart_button_tooltip(page) -> str:
    """The tooltip of the first plotly chart's download button, hovered."""
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    chart.hover()
    button = page.locator(".modebar-btn[data-title='Download plot as a PNG']").first
    button.hover()
    return button.evaluate("e => getComputedStyle(e, '::after').content")


def test_chart_button_tooltips_read_japanese_and_english_in_english(browser, server):
    page = open_as(browser, server, "hq", "warnings.title")
    assert chart_button_tooltip(page) == css_text("chart_download")
    screenshot(page, "widget-texts-chart-tooltip-ja-1366x768")
    page.close()
    page = open_as(browser, server, "hq", "warnings.title", "en")
    assert chart_button_tooltip(page) == '"Download plot as a PNG"'
    page.close()


def hold_the_run(page, server: StreamlitServer, seconds: float = 1.5) -> None:
    """Make the run just started take ``seconds`` longer: the server process is paused
    (SIGSTOP) once the browser says the script is running, then resumed. On a quiet machine
    the pages' runs end before Streamlit draws its Stop button at all."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector("[data-test-script-state='running']", timeout=5_000)
    except PlaywrightTimeout:
        return  # the run was over before the browser saw it: the next page tries again
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        page.wait_for_timeout(seconds * 1000)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


def test_the_stop_button_reads_japanese_while_a_page_runs(browser, server):
    """The Stop button beside the running man shows while a run takes over half a second
    (each run here is held, :func:`hold_the_run`): every time it is drawn with our style in
    the page, it reads 停止."""
    page = browser.new_page(viewport=SMALL)
    page.add_init_script(
        "window.__stop = []; new MutationObserver(() => {"
        " const b = document.querySelector('[data-testid=stStatusWidget] button');"
        " const ours = [...document.querySelectorAll('style')]"
        "   .some(s => s.textContent.includes('stStatusWidget'));"
        " if (b && ours) window.__stop.push(getComputedStyle(b, '::after').content);"
        "}).observe(document, {subtree: true, childList: true, attributes: true});"
    )
    page.goto(server.url)
    wait_for_app(page)
    # A run can end before the browser reports it (then it is not held): up to 12 page
    # changes, until one run was held long enough to draw the button.
    for attempt in range(12):
        page.get_by_role("link", name=t("queue.title" if attempt % 2 else "hqmap.title")).click()
        hold_the_run(page, server)
        wait_for_app(page)
        if page.evaluate("window.__stop.length"):
            break
    seen = set(page.evaluate("window.__stop"))
    assert seen, "the Stop button was never drawn"
    assert seen <= {css_text("status_stop"), css_text("status_stopping")}, seen
    page.close()


def test_the_date_range_quick_select_is_hidden_in_japanese_only(browser, server):
    page = open_as(browser, server, "admin", "admin.audit.title")
    field = page.locator("[data-testid='stDateInputField']").first
    field.locator("[role='spinbutton']").first.click()
    page.keyboard.press("Alt+ArrowDown")
    quick = page.locator("[data-testid='stDateInputQuickSelect']")
    quick.wait_for(state="attached", timeout=10_000)
    assert not quick.is_visible()
    page.close()
    page = open_as(browser, server, "admin", "admin.audit.title", "en")
    quick = page.locator("[data-testid='stDateInputQuickSelect']")
    field = page.locator("[data-testid='stDateInputField']").first
    field.locator("[role='spinbutton']").first.click()
    page.keyboard.press("Alt+ArrowDown")
    quick.wait_for(state="visible", timeout=10_000)
    assert "Date range" in quick.inner_text()
    page.close()
