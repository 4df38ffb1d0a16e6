"""``bosai import hazards``: 国土数値情報 A31 (flood depth) and A33 (landslide) zones.

No real KSJ file is in the shared open data, so the files are made here in the published
layouts: GeoJSON without a CRS (taken as JGD2011), a zipped Shift_JIS shapefile without a
``.cpg`` as downloaded, and one in a projected JGD2011 zone to prove the reprojection.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import Point, box

from sql.content_hash import content_hash
from sql.engine import get_engine
from sql.imports.readback import hazard_zones_frame
from sql.models import HazardZone

from .conftest import rows

#: Three flood zones near Tsuruga castle (lon, lat boxes) and their depth rank codes.
FLOOD = [
    ((139.925, 37.485, 139.935, 37.492), "2"),
    ((139.935, 37.485, 139.945, 37.492), "4"),
    ((139.925, 37.492, 139.935, 37.499), "1"),
]


def _feature(bounds, props) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": shapely.geometry.mapping(box(*bounds)),
    }


def write_geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    data: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def a31_geojson(path: Path) -> Path:
    return write_geojson(path, [_feature(b, {"A31_201": code}) for b, code in FLOOD])


def zipped_shapefile(folder: Path, frame: geopandas.GeoDataFrame, name: str, *, cpg: bool) -> Path:
    """A shapefile in Shift_JIS zipped as 国土数値情報 ships it (without ``.cpg`` unless asked)."""
    shp = folder / f"{name}.shp"
    frame.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="cp932")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for part in folder.glob(f"{name}.*"):
            if part.suffix.lower() == ".zip" or (part.suffix.lower() == ".cpg" and not cpg):
                continue
            handle.write(part, f"{name}/{part.name}")
    return archive


def test_flood_depth_ranks_keep_their_meaning(db_url, bosai, tmp_path):
    path = a31_geojson(tmp_path / "A31-20_07_202.geojson")
    result = bosai(db_url, "import", "hazards", path, "--kind", "flood")
    assert result.code == 0, result.err
    assert "追加 3・変更 0・変更なし 0" in result.out
    stored = {
        z.rank_code: z for z in rows(db_url, sa.select(HazardZone).order_by(HazardZone.rank_code))
    }
    assert set(stored) == {"1", "2", "4"}
    assert (stored["2"].rank_label, stored["2"].depth_min_m, stored["2"].depth_max_m) == (
        "0.5m以上3.0m未満",
        0.5,
        3.0,
    )
    assert (stored["1"].rank_label, stored["1"].depth_min_m) == ("0.5m未満", 0.0)
    assert (stored["4"].depth_min_m, stored["4"].depth_max_m) == (5.0, 10.0)
    assert all(z.kind == "flood" and z.source_dataset == "A31" for z in stored.values())
    assert stored["2"].attributes["scenario"] == "max"
    geometry = shapely.from_wkb(bytes(stored["2"].geom_wkb))
    assert geometry.equals(box(*FLOOD[0][0]))
    assert (stored["2"].min_lon, stored["2"].max_lat) == pytest.approx((139.925, 37.492))

    before = content_hash(get_engine(db_url))
    again = bosai(db_url, "import", "hazards", path, "--kind", "flood")
    assert again.code == 0 and "追加 0・変更 0・変更なし 3" in again.out
    dry = bosai(db_url, "import", "hazards", "--dry-run", path, "--kind", "flood")
    assert dry.code == 0 and "［試行・書き込みなし］" in dry.out
    assert content_hash(get_engine(db_url)) == before


@pytest.mark.pg
def test_postgis_geometry_agrees_with_the_stored_polygons(pg_url, bosai, tmp_path):
    assert bosai(pg_url, "db", "upgrade").code == 0
    path = a31_geojson(tmp_path / "A31.geojson")
    assert bosai(pg_url, "import", "hazards", path, "--kind", "flood").code == 0
    castle = (139.9298, 37.4875)  # inside the first zone only
    with get_engine(pg_url).connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT rank_code FROM hazard_zones "
                "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            ),
            {"lon": castle[0], "lat": castle[1]},
        ).all()
    assert found == [("2",)]
    frame = hazard_zones_frame(get_engine(pg_url))
    assert frame[frame.contains(Point(*castle))]["rank_code"].tolist() == ["2"]


def test_zipped_shift_jis_shapefile_without_cpg(db_url, bosai, tmp_path):
    frame = geopandas.GeoDataFrame(
        {
            "A31a_201": ["8305040001", "8305040001"],
            "A31a_202": ["阿賀川", "阿賀川"],
            "A31a_205": ["3", "6"],
        },
        geometry=[box(*FLOOD[0][0]), box(*FLOOD[1][0])],
        crs="EPSG:6668",
    )
    archive = zipped_shapefile(tmp_path, frame, "A31a-23_07_8305040001", cpg=False)
    result = bosai(db_url, "import", "hazards", archive, "--kind", "flood")
    assert result.code == 0, result.err
    stored = rows(db_url, sa.select(HazardZone).order_by(HazardZone.rank_code))
    assert [(z.source_dataset, z.name, z.rank_label) for z in stored] == [
        ("A31a", "阿賀川", "3.0m以上5.0m未満"),
        ("A31a", "阿賀川", "20.0m以上"),
    ]
    assert stored[1].depth_max_m is None


def test_projected_jgd2011_is_reprojected_to_wgs84(sqlite_url, bosai, tmp_path):
    lonlat = box(*FLOOD[0][0])
    projected = geopandas.GeoSeries([lonlat], crs="EPSG:6668").to_crs("EPSG:6677")  # zone IX
    frame = geopandas.GeoDataFrame({"A31_201": ["2"]}, geometry=projected, crs="EPSG:6677")
    archive = zipped_shapefile(tmp_path, frame, "A31_plane", cpg=True)
    result = bosai(sqlite_url, "import", "hazards", archive, "--kind", "flood")
    assert result.code == 0, result.err
    (zone,) = rows(sqlite_url, sa.select(HazardZone))
    west, south, east, north = shapely.from_wkb(bytes(zone.geom_wkb)).bounds
    assert (west, south, east, north) == pytest.approx(FLOOD[0][0], abs=1e-6)


def test_landslide_zones_and_replace(db_url, bosai, tmp_path):
    features = [
        _feature(
            (139.95, 37.50, 139.951, 37.501),
            {"A33_001": "1", "A33_002": "1", "A33_003": "07", "A33_004": "0001", "A33_005": "東山"},
        ),
        _feature(
            (139.951, 37.50, 139.952, 37.501),
            {"A33_001": "2", "A33_002": "2", "A33_003": "07", "A33_004": "0002", "A33_005": "湯川"},
        ),
        _feature(
            (139.952, 37.50, 139.953, 37.501),
            {"A33_001": "3", "A33_002": "1", "A33_003": "07", "A33_004": "0003", "A33_005": ""},
        ),
    ]
    path = write_geojson(tmp_path / "A33-23_07.geojson", features, crs="urn:ogc:def:crs:EPSG::6668")
    flood = bosai(db_url, "import", "hazards", path, "--kind", "flood")
    assert flood.code == 2 and "--kind flood ですが、このファイルは A33 です" in flood.err
    result = bosai(db_url, "import", "hazards", path, "--kind", "landslide")
    assert result.code == 0, result.err
    stored = rows(db_url, sa.select(HazardZone).order_by(HazardZone.source_key))
    assert [(z.phenomenon, z.rank_label, z.name) for z in stored] == [
        ("急傾斜地の崩壊", "土砂災害警戒区域", "東山"),
        ("土石流", "土砂災害特別警戒区域", "湯川"),
        ("地すべり", "土砂災害警戒区域", None),
    ]
    assert {z.kind for z in stored} == {"landslide"}

    write_geojson(path, features[:2], crs="urn:ogc:def:crs:EPSG::6668")
    kept = bosai(db_url, "import", "hazards", path, "--kind", "landslide")
    assert kept.code == 0 and "変更なし 2" in kept.out and "削除" not in kept.out
    assert len(rows(db_url, sa.select(HazardZone))) == 3  # without --replace nothing is removed
    replaced = bosai(db_url, "import", "hazards", path, "--kind", "landslide", "--replace")
    assert replaced.code == 0 and "削除 1" in replaced.out
    assert [z.name for z in rows(db_url, sa.select(HazardZone).order_by(HazardZone.name))] == [
        "東山",
        "湯川",
    ]


@pytest.mark.parametrize(
    ("attributes", "dataset", "label", "scenario"),
    [
        ({"A31b_201": "5", "A31b_202": "x"}, "A31b", "10.0m以上20.0m未満", "max"),
        (
            {"A31a_105": "1", "A31a_101": "8305040001", "A31a_102": "湯川"},
            "A31a",
            "0.5m未満",
            "planned",
        ),
        ({"A31_001": "13", "A31_002": "阿賀野川"}, "A31", "1.0m以上2.0m未満", "planned"),
    ],
)
def test_other_editions(attributes, dataset, label, scenario, sqlite_url, bosai, tmp_path):
    path = write_geojson(tmp_path / f"{dataset}.geojson", [_feature(FLOOD[0][0], attributes)])
    result = bosai(sqlite_url, "import", "hazards", path, "--kind", "flood")
    assert result.code == 0, result.err
    (zone,) = rows(sqlite_url, sa.select(HazardZone))
    assert (zone.source_dataset, zone.rank_label) == (dataset, label)
    assert zone.source_key.startswith(f"{dataset}:{scenario}:")


class _Listener:
    """A loopback HTTP server that only records whether anyone asked it anything."""

    def __init__(self):
        import http.server
        import threading

        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.hits = hits
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SECRET_CSV = "name,secret\nadmin,hunter2-do-not-print\n"


def _vrt(csv: Path, port: int) -> str:
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="secret"><SrcDataSource>{csv}</SrcDataSource></OGRVRTLayer>
  <OGRVRTLayer name="beacon">
    <SrcDataSource>/vsicurl/http://127.0.0.1:{port}/beacon.geojson</SrcDataSource>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "inside a zip"])
def test_a_gdal_vrt_named_geojson_is_refused_before_gdal_reads_anything(
    db_url, bosai, tmp_path, packed
):
    """Issue 13, finding 7: before the fix a GDAL VRT named ``.geojson`` made the importer
    read a local CSV (its content printed in the error) and send HTTP requests to a loopback
    port. Now the content is sniffed first: refused naming the file, nothing read, nothing
    fetched, nothing written."""
    csv = tmp_path / "secret.csv"
    csv.write_text(SECRET_CSV)
    listener = _Listener()
    try:
        path = tmp_path / "zones.geojson"
        path.write_text(_vrt(csv, listener.port))
        if packed:
            archive = tmp_path / "zones.zip"
            with zipfile.ZipFile(archive, "w") as handle:
                handle.write(path, "zones.geojson")
            path = archive
        result = bosai(db_url, "import", "hazards", path, "--kind", "flood")
        assert result.code != 0
        assert "内容が GeoJSON ではありません" in result.text
        assert str(path) in result.text
        assert "hunter2" not in result.text
        assert listener.hits == []
        assert rows(db_url, sa.select(HazardZone)) == []
    finally:
        listener.close()


def test_a_csv_or_a_virtual_path_is_not_read_as_geodata(db_url, bosai, tmp_path):
    """Issue 13, finding 7: only GeoJSON and shapefiles, only local files."""
    csv = tmp_path / "zones.geojson"
    csv.write_text(SECRET_CSV)
    result = bosai(db_url, "import", "hazards", csv, "--kind", "flood")
    assert result.code != 0 and "内容が GeoJSON ではありません" in result.text
    assert "hunter2" not in result.text
    fake_shp = tmp_path / "zones.shp"
    fake_shp.write_text(SECRET_CSV)
    result = bosai(db_url, "import", "hazards", fake_shp, "--kind", "flood")
    assert result.code != 0 and "内容が Shapefile ではありません" in result.text
    virtual = "/vsicurl/http://127.0.0.1:9/zones.geojson"
    result = bosai(db_url, "import", "hazards", virtual, "--kind", "flood")
    assert result.code != 0
    assert rows(db_url, sa.select(HazardZone)) == []


def test_a_zip_bomb_is_refused_by_its_declared_size_and_entry_count(
    db_url, bosai, tmp_path, monkeypatch
):
    """Issue 13, finding 7: a ZIP is bounded by uncompressed size and entry count before any
    of it is unpacked (the limits are lowered here so that the test files stay small)."""
    from importers import hazard_zones

    good = a31_geojson(tmp_path / "A31.geojson")
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.write(good, "A31.geojson")
        handle.writestr("padding.txt", b"\0" * 5_000_000)  # compresses to a few kB
    assert big.stat().st_size < 100_000
    monkeypatch.setattr(hazard_zones, "ZIP_MAX_UNCOMPRESSED", 1_000_000)
    result = bosai(db_url, "import", "hazards", big, "--kind", "flood")
    assert result.code != 0 and "ZIP の展開後の大きさが大きすぎます" in result.text
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as handle:
        handle.write(good, "A31.geojson")
        for i in range(30):
            handle.writestr(f"empty/{i}.txt", b"")
    monkeypatch.setattr(hazard_zones, "ZIP_MAX_ENTRIES", 20)
    result = bosai(db_url, "import", "hazards", many, "--kind", "flood")
    assert result.code != 0 and "ZIP のファイル数が多すぎます（31 個、上限 20 個）" in result.text
    assert rows(db_url, sa.select(HazardZone)) == []
