"""sql.imports.readback: imported shelters and zones come back in the shape analytics takes."""

from __future__ import annotations

import pandas as pd
import shapely
from shapely.geometry import box

from analytics.hazard_exposure import classify_citizens
from bosai.cli import main
from sql.engine import get_engine
from sql.imports.readback import hazard_zones_frame, shelters_frame, warnings_in_force
from tests.importers.conftest import NANAO_CITY

SNAPSHOT = """\
ID,名称,人数,時点,所在地_都道府県,所在地_市区町村,緯度,経度,災害種別_洪水,災害種別_地震,標高
N1,高台の小学校,12,令和6年1月11日午後6時,石川県,七尾市,37.050,136.960,1,1,30.5
N2,川沿いの公民館,3,令和6年1月11日午後6時,石川県,七尾市,37.040,136.970,,1,2.0
"""
LATER = SNAPSHOT.replace("令和6年1月11日", "令和6年1月12日").splitlines()
ZONES = (
    '{"type":"FeatureCollection","features":['
    '{"type":"Feature","properties":{"A31_201":"3"},"geometry":'
    + shapely.to_geojson(box(136.965, 37.035, 136.975, 37.045))
    + "}]}"
)


def test_shelters_and_zones_read_back_and_classify(db_url, tmp_path, capsys):
    first, second = tmp_path / "s1.csv", tmp_path / "s2.csv"
    first.write_text(SNAPSHOT, encoding="utf-8")
    second.write_text("\n".join([LATER[0], LATER[1]]) + "\n", encoding="utf-8")  # N2 closed
    zones = tmp_path / "A31.geojson"
    zones.write_text(ZONES, encoding="utf-8")
    for args in (
        ["city", "load", str(NANAO_CITY)],
        ["import", "occupancy", str(first), str(second)],
        ["import", "hazards", str(zones), "--kind", "flood"],
    ):
        assert main(["--database-url", db_url, *args]) == 0, capsys.readouterr().err
    engine = get_engine(db_url)

    shelters = shelters_frame(engine)
    assert shelters["name"].tolist() == ["高台の小学校", "川沿いの公民館"]
    assert shelters["is_open"].tolist() == [True, False]
    assert shelters["hazard_flood"].tolist() == [True, False]
    assert shelters["elevation_m"].tolist() == [30.5, 2.0]
    frame = hazard_zones_frame(engine)
    assert frame.crs.to_epsg() == 4326
    assert frame.loc[0, ["kind", "rank_label", "depth_min_m"]].tolist() == [
        "flood",
        "3.0m以上5.0m未満",
        3.0,
    ]
    assert frame.geometry[0].equals(box(136.965, 37.035, 136.975, 37.045))
    assert hazard_zones_frame(engine, kinds=["landslide"]).empty
    assert warnings_in_force(engine) == []

    citizens = pd.DataFrame({"id": [1, 2], "lat": [37.040, 37.060], "lon": [136.970, 136.950]})
    result = classify_citizens(citizens, shelters, frame, ["04"])
    assert result["zone_level"].tolist() == [3, 0]
    assert result["shelter_id"].tolist() == [shelters["id"][0]] * 2
    assert result["shelter_elevation_m"].tolist() == [30.5, 30.5]
