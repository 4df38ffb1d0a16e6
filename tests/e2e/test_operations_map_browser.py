"""The HQ map as an operations map, in Debian's chromium at an HQ without internet (the map-tile
check fails, as the GSI tiles do here): the page says so and draws the city's own base map,
credits only what it draws, shows a legend over the map whose toggles hide a layer, and its
layers stay apart in grey-scale. The replay's curve is in Japan time.
Screenshots (colour and grey-scale) go to test-artifacts/."""

from __future__ import annotations

import io

import numpy as np
import pytest

from bosai.i18n import t
from bosai.palette import colour, hex_to_rgb
from dashboard import map_symbols
from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_app

pytestmark = pytest.mark.browser

RESCUE = [hex_to_rgb(colour(f"rescue.{p}")) for p in ("high", "medium")]
LAND = hex_to_rgb(colour("base.land"))


def open_map(browser, server, width=1600, height=1100):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server.url}/hq-map")
    wait_for_app(page)
    page.get_by_role("heading", name="本部マップ").wait_for()
    chart = page.locator("[data-testid='stDeckGlJsonChart']").first
    chart.locator("canvas").first.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(3000)  # deck.gl's first frames and the collision fade-in
    return page, chart


def map_pixels(page, chart) -> np.ndarray:
    """The map as RGB pixels, with the legend over it painted white (it shows the symbols too)."""
    from PIL import Image

    box = chart.bounding_box()
    image = np.array(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")).astype(int)
    legend = page.locator("[class*='st-key-map_legend_hq']").first.bounding_box()
    if legend:
        x0, y0 = int(legend["x"] - box["x"]), int(legend["y"] - box["y"])
        x1, y1 = x0 + int(legend["width"]) + 2, y0 + int(legend["height"]) + 2
        image[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 255
    return image


def share_of(image: np.ndarray, colours: list[list[int]], tolerance: int = 18) -> float:
    hits = np.zeros(image.shape[:2], bool)
    for rgb in colours:
        hits |= (np.abs(image - np.array(rgb)) <= tolerance).all(axis=2)
    return float(hits.mean())


def test_offline_hq_gets_a_local_base_map_a_legend_and_layer_toggles(browser, readonly_demo_server):
    page, chart = open_map(browser, readonly_demo_server)
    body = page.inner_text("body")
    assert "地理院タイルを読み込めません" in body  # the page says why there are no tiles
    assert "背景：市の地理データ" in body and "地理院タイル" not in body.split("背景：")[1]
    assert "出典：地理院タイル" not in body  # credit only what is drawn
    legend = page.locator("[class*='st-key-map_legend_hq']").first
    for layer in ("rescue", "register", "shelters", "cells", "zones", "base"):
        assert legend.get_by_text(t(f"hqmap.layer.{layer}")).is_visible(), layer
    before = map_pixels(page, chart)
    screenshot(page, "operations-map-offline")
    _save(before, "operations-map")
    _save_grey(before, "operations-map-greyscale")
    assert share_of(before, [LAND]) > 0.05  # the city's land between the data layers
    rescue_before = share_of(before, RESCUE)
    assert rescue_before > 0.001

    page.get_by_text("救助要請（大きいほど").first.click()
    wait_for_app(page)
    page.wait_for_timeout(2500)
    after = map_pixels(page, chart)
    _save(after, "operations-map-without-rescue")
    assert share_of(after, RESCUE) < rescue_before * 0.1  # the triangles are gone
    assert share_of(after, [LAND]) > 0.05  # the rest still drawn
    page.close()


def test_layers_differ_in_shape_in_grey_scale(browser):
    """Each layer's symbol, drawn by chromium and turned grey: the silhouettes differ."""
    from PIL import Image

    page = browser.new_page(viewport={"width": 1100, "height": 64})
    atlas, mapping = map_symbols.atlas()
    page.set_content(f'<body style="margin:0;background:#fff"><img src="{atlas}"></body>')
    page.wait_for_timeout(300)
    grey = Image.open(io.BytesIO(page.screenshot())).convert("L")

    def mask(name: str) -> np.ndarray:
        cell = mapping[name]
        part = np.array(grey.crop((cell["x"], 0, cell["x"] + 64, 64)))
        return part < 200  # drawn, whatever its colour

    shapes = {name: mask(name) for name in ("rescue-high", "shelter-full", "register")}
    names = list(shapes)
    for k, a in enumerate(names):
        for b in names[k + 1 :]:
            overlap = (shapes[a] & shapes[b]).sum() / (shapes[a] | shapes[b]).sum()
            assert overlap < 0.75, (a, b, overlap)
    # Within the shelters, congestion reads as how much of the square is dark.
    dark = [mask(f"shelter-{level}").mean() for level in map_symbols.CONGESTION_LEVELS]
    assert dark == sorted(dark)
    grey.save(ARTIFACTS / "map-symbols-greyscale.png")
    page.close()


def test_the_replay_curve_reads_japan_time(browser, readonly_demo_server):
    page = browser.new_page(viewport={"width": 1600, "height": 1100})
    page.goto(f"{readonly_demo_server.url}/replay")
    wait_for_app(page)
    page.get_by_role("heading", name="再生（リプレイ）").wait_for()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    ticks = chart.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
    screenshot(page, "replay-japan-time")
    text = " ".join(ticks)
    assert "7月10日" in text and "Jul" not in text and "7月9日" not in text
    hours = [int(t[:2]) for t in ticks if len(t) >= 5 and t[2] == ":"]
    assert hours and min(hours) >= 4 and max(hours) <= 7  # 04:00–07:00 JST, not 19:00 UTC
    slider = page.get_by_text("7月10日 0").first
    assert slider.is_visible()  # the slider names moments, not step numbers
    page.close()


def _save(image: np.ndarray, name: str) -> None:
    from PIL import Image

    Image.fromarray(image.astype(np.uint8)).save(ARTIFACTS / f"{name}.png")


def _save_grey(image: np.ndarray, name: str) -> None:
    from PIL import Image

    Image.fromarray(image.astype(np.uint8)).convert("L").save(ARTIFACTS / f"{name}.png")
