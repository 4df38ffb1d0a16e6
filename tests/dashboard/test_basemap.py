"""The GSI base-map styles served from dashboard/static/ are current and attributed."""

from __future__ import annotations

import json

from dashboard import basemap


def test_committed_styles_equal_the_generator():
    for name, content in basemap.all_styles().items():
        on_disk = json.loads((basemap.STATIC_DIR / name).read_text(encoding="utf-8"))
        assert on_disk == content, f"run: python -m dashboard.basemap ({name} is stale)"


def test_styles_use_gsi_tiles_with_attribution():
    style = basemap.style("pale", ("flood", "landslide"))
    assert style["version"] == 8
    tiles = [s["tiles"][0] for s in style["sources"].values()]
    assert tiles[0].startswith("https://cyberjapandata.gsi.go.jp/xyz/pale/")
    assert any("01_flood_l2_shinsuishin_data" in t for t in tiles)
    assert sum("05_" in t for t in tiles) == 3
    attributions = {s["attribution"] for s in style["sources"].values()}
    assert attributions == {"地理院タイル", "ハザードマップポータルサイト"}
    assert basemap.attribution(("flood",)) == "出典：地理院タイル、ハザードマップポータルサイト"
    assert basemap.style_url("http://localhost:8501", "std") == (
        "http://localhost:8501/app/static/gsi_std.json"
    )
