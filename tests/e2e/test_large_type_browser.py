"""大きな文字 in a real browser at 1366×768 and on a 1920×1080 wall screen: every KPI number is
larger than its label, no label or number is cut, the page names in the sidebar are whole, and
tables grow with the text (screenshots in test-artifacts/)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

# The key figures a person sees (those in a closed expander are not drawn).
METRICS = """() => Array.from(document.querySelectorAll('[data-testid=stMetric]'))
  .filter(m => m.checkVisibility()).map(m => {
  const label = m.querySelector('[data-testid=stMetricLabel] p');
  const value = m.querySelector('[data-testid=stMetricValue] p');
  const cut = e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
  return {label: label.innerText, value: value.innerText,
          labelPx: parseFloat(getComputedStyle(label).fontSize),
          valuePx: parseFloat(getComputedStyle(value).fontSize),
          labelCut: cut(label) || cut(label.parentElement), valueCut: cut(value),
          right: m.getBoundingClientRect().right};
})"""
NAV_CUT = """() => Array.from(document.querySelectorAll('[data-testid=stSidebarNav] a span'))
  .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.innerText)"""


def switch_large_type_on(page) -> None:
    wait_for_app(page)
    # A loaded machine may still be drawing the map beside it: give the click time.
    page.get_by_text("大きな文字", exact=True).click(timeout=90_000)
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    wait_for_app(page)


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_large_type_keeps_kpis_legible(browser, readonly_demo_server, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{readonly_demo_server.url}/hq-map")
    wait_for_app(page)
    page.get_by_role("heading", name="本部マップ").wait_for()
    page.get_by_text("要支援者 未確認").first.wait_for()
    # On a loaded machine the key figures are drawn one after another: wait for all of them.
    page.wait_for_function(f"() => ({METRICS})().length >= 10", timeout=90_000)
    wait_for_app(page)
    normal = {m["label"]: m for m in page.evaluate(METRICS)}
    assert len(normal) >= 10  # every key figure of the HQ map, each with its own label
    switch_large_type_on(page)
    page.get_by_text("オプトイン市民").first.wait_for()
    page.wait_for_function(f"() => ({METRICS})().length >= {len(normal)}", timeout=90_000)
    page.wait_for_timeout(1000)
    metrics = page.evaluate(METRICS)
    screenshot(page, f"large-type-hq-map-{width}x{height}")
    assert len(metrics) == len(normal)
    for m in metrics:
        assert m["valuePx"] > m["labelPx"] * 1.5, m  # the number reads first
        assert not m["labelCut"] and not m["valueCut"], m
        assert m["right"] <= width, m  # nothing runs off the screen
        assert m["labelPx"] > normal[m["label"]]["labelPx"], m  # it did grow
        assert m["valuePx"] > normal[m["label"]]["valuePx"] * 1.1, m
    assert page.evaluate(NAV_CUT) == []
    # Tables are drawn afresh in the larger type (a canvas takes it when first drawn).
    page.get_by_role("link", name="救助要請").click()
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, f"large-type-rescue-queue-{width}x{height}")
    body = page.inner_text("body")
    assert "Traceback" not in body
    page.close()
