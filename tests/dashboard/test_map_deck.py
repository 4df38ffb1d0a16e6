"""The HQ map as an operations map: one colour per meaning, one shape per layer, layers the
legend can switch off, the city's own base map when tiles cannot load, and an attribution of
only what is drawn."""

from __future__ import annotations

import http.server
import json
import re
import threading

import pytest
import shapely

from bosai import palette
from bosai.i18n import t
from compositions.hq_map_state import HqMapCache, build_hq_state
from dashboard import basemap, map_deck, map_symbols
from dashboard.local_basemap import local_base
from sql.city_config import active_city
from sql.engine import make_engine
from sql.viewer import Viewer
from tests.conftest import ROOT

HQ = Viewer(role="hq", subject="demo-hq", demo=True)
MAP_MODULES = (
    "dashboard/map_deck.py",
    "dashboard/map_symbols.py",
    "dashboard/local_basemap.py",
    "dashboard/map_view.py",
    "compositions/hq_map_state.py",
)


@pytest.fixture(scope="module")
def hq_state(demo_sqlite):
    engine = make_engine(demo_sqlite)
    city = active_city(engine)
    state = build_hq_state(engine, HqMapCache(), HQ, 1, city)
    engine.dispose()
    return state, city


def layers_of(deck) -> dict[str, dict]:
    return {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}


def test_each_meaning_on_the_map_has_its_own_colour():
    colours = [palette.colour(m) for m in palette.MAP_MEANINGS]
    assert len(set(colours)) == len(colours)
    # Orange is a medium-priority request and nothing else on the map (it also meant a
    # crowded shelter before).
    orange = palette.OKABE_ITO["orange"]
    assert [m for m in palette.MAP_MEANINGS if palette.colour(m) == orange] == ["rescue.medium"]


def test_map_modules_take_every_colour_from_the_meaning_table():
    for name in MAP_MODULES:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "OKABE_ITO" not in text, name
        if name != "dashboard/map_symbols.py":  # the symbols draw black outlines and white bodies
            assert not re.search(r'"#[0-9A-Fa-f]{6}"', text), name


def test_each_layer_has_its_own_shape():
    icons = map_symbols.icons()
    shapes = {
        "rescue": {
            re.sub(r'fill="[^"]+"', "", icons[f"rescue-{p}"]) for p in map_symbols.PRIORITIES
        },
        "register": {icons["register"]},
    }
    assert len(shapes["rescue"]) == 1  # one triangle, only its colour and size differ
    assert all(
        '<polygon points="32,5 60,57 4,57"' in icons[f"rescue-{p}"] for p in map_symbols.PRIORITIES
    )
    assert '<polygon points="32,4 60,32 32,60 4,32"' in icons["register"]
    assert all("<rect" in icons[f"shelter-{lv}"] for lv in map_symbols.CONGESTION_LEVELS)
    # Congestion is told by how much of the square is filled, not only by its colour.
    heights = [
        float(re.search(r'height="([\d.]+)" fill="#', icons[f"shelter-{lv}"]).group(1))
        for lv in map_symbols.CONGESTION_LEVELS
    ]
    assert heights == sorted(heights) and heights[-1] == 44
    sizes = [map_symbols.RESCUE_SIZE[p] for p in map_symbols.PRIORITIES]
    assert sizes == sorted(sizes, reverse=True)  # more urgent = larger


def test_the_legend_switches_layers_off(hq_state):
    state, _ = hq_state
    everything = layers_of(map_deck.build_deck(state, t, center=(37.5, 139.9), zoom=12))
    assert {map_deck.LAYER_RESCUE, map_deck.LAYER_SHELTERS, map_deck.LAYER_CELLS} <= set(everything)
    without = layers_of(
        map_deck.build_deck(
            state, t, center=(37.5, 139.9), zoom=12, layers={"shelters", "cells", "zones"}
        )
    )
    assert map_deck.LAYER_RESCUE not in without and map_deck.LAYER_REGISTER not in without
    assert map_deck.LAYER_SHELTERS in without and map_deck.LAYER_SHELTER_NAMES in without


def test_symbols_are_thinned_by_priority_within_deck_gl_range(hq_state):
    state, _ = hq_state
    layers = layers_of(map_deck.build_deck(state, t, center=(37.5, 139.9), zoom=12))
    for layer_id in (map_deck.LAYER_RESCUE, map_deck.LAYER_SHELTERS, map_deck.LAYER_SHELTER_NAMES):
        layer = layers[layer_id]
        assert layer["extensions"] == [{"@@type": "CollisionFilterExtension"}]
        assert all(-1000 <= r["r"] <= 1000 for r in layer["data"])
    rescue = sorted(layers[map_deck.LAYER_RESCUE]["data"], key=lambda r: -r["r"])
    assert rescue[0]["i"] == "rescue-high"
    shelters = layers[map_deck.LAYER_SHELTERS]["data"]
    closed = [s for s in shelters if s["i"].startswith("shelter-closed")]
    open_ = [s for s in shelters if not s["i"].startswith("shelter-closed")]
    assert closed and open_ and max(s["r"] for s in closed) < min(s["r"] for s in open_)


def test_the_local_base_map_is_the_citys_own_geography(hq_state):
    state, city = hq_state
    base = local_base(city)
    assert base is not None
    names = {d["name"] for d in base.districts}
    assert {"鶴城", "謹教", "城北", "河東"} <= names
    # Each district's label lies in its own area.
    areas = {d["name"]: shapely.Polygon(d["polygon"]) for d in base.districts}
    for label in base.labels:
        assert areas[label["name"]].contains(shapely.Point(label["p"]))
    assert {r["name"] for r in base.rivers} == {"阿賀川", "湯川"}
    assert any(r["kind"] == "expressway" for r in base.roads)
    layers = layers_of(
        map_deck.build_deck(state, t, center=(37.5, 139.9), zoom=12, local_base=base)
    )
    assert {
        map_deck.LAYER_BASE,
        f"{map_deck.LAYER_BASE}-rivers",
        f"{map_deck.LAYER_BASE}-roads",
    } <= set(layers)
    assert list(layers).index(map_deck.LAYER_BASE) == 0  # under everything else
    without = layers_of(
        map_deck.build_deck(
            state, t, center=(37.5, 139.9), zoom=12, local_base=base, layers={"rescue"}
        )
    )
    assert map_deck.LAYER_BASE not in without


class _Tiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(b"\x89PNG")

    def log_message(self, *args):
        pass


def test_tiles_are_probed_where_they_would_load_from():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert basemap.tiles_reachable(f"http://127.0.0.1:{server.server_port}/12/3640/1607.png")
    finally:
        server.shutdown()
    assert not basemap.tiles_reachable(f"http://127.0.0.1:{server.server_port}/x.png", timeout=1)
    assert basemap.probe_url("pale", 37.495, 139.93).startswith(
        "https://cyberjapandata.gsi.go.jp/xyz/pale/12/"
    )
