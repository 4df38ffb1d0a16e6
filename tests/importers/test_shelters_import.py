"""``bosai import shelters``: the real GSI files of Aizuwakamatsu, the standard list, merging."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.bench_imports import write_standard_csv
from sql.content_hash import content_hash
from sql.engine import get_engine
from sql.models import Shelter

from .conftest import rows, scalar

EMERGENCY = "aizuwakamatsu/gsi_designated_emergency_evacuation_sites_072028.geojson"
SHELTERS = "aizuwakamatsu/gsi_designated_shelters_072028.geojson"


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _metres(a: list[float], b: list[float]) -> float:
    (lon1, lat1), (lon2, lat2) = a[:2], b[:2]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _coinciding(sites: list[dict], shelters: list[dict]) -> int:
    """Shelters that are an emergency site too: same name and address, or same name ≤ 30 m."""
    count = 0
    for shelter in shelters:
        props = shelter["properties"]
        for site in sites:
            other = site["properties"]
            if other["施設・場所名"] != props["施設・場所名"]:
                continue
            if other["住所"] == props["住所"] or (
                _metres(site["geometry"]["coordinates"], shelter["geometry"]["coordinates"]) <= 30
            ):
                count += 1
                break
    return count


def test_aizuwakamatsu_sites_and_shelters_merge_where_they_coincide(db_url, opendata, bosai):
    sites, shelters = _features(opendata / EMERGENCY), _features(opendata / SHELTERS)
    assert (len(sites), len(shelters)) == (199, 102)
    coinciding = _coinciding(sites, shelters)
    assert coinciding == 68  # computed here from the files, independently of the importer

    first = bosai(db_url, "import", "shelters", opendata / EMERGENCY)
    assert first.code == 0, first.err
    assert "追加 199" in first.out and "199 added" in first.out
    second = bosai(db_url, "import", "shelters", opendata / SHELTERS)
    assert second.code == 0, second.err
    assert f"統合 {coinciding}" in second.out and f"{coinciding} merged" in second.out
    assert f"追加 {102 - coinciding}" in second.out

    stored = rows(db_url, sa.select(Shelter))
    assert len(stored) == 199 + 102 - coinciding
    ids = [s.gsi_id for s in stored] + [
        s.local_id.removeprefix("gsi:") for s in stored if s.local_id
    ]
    published = [f["properties"]["共通ID"] for f in sites + shelters]
    assert sorted(ids) == sorted(published)  # every 共通ID kept exactly once
    both = [s for s in stored if s.gsi_id and s.local_id]
    assert len(both) == coinciding
    assert all(s.is_emergency_site and s.is_designated_shelter for s in both)
    assert sum(s.is_emergency_site for s in stored) >= 199
    assert sum(s.is_designated_shelter for s in stored) >= 102
    assert all(s.source == "gsi" and s.municipality_code == "072028" for s in stored)

    # The shelter list has no hazard columns: the emergency list's flags survive the merge.
    by_id = {s.gsi_id: s for s in stored}
    for site in sites:
        stored_site = by_id[site["properties"]["共通ID"]]
        assert stored_site.hazard_flood == (site["properties"]["洪水"] == "1")
        assert stored_site.hazard_landslide == (
            site["properties"]["崖崩れ、土石流及び地滑り"] == "1"
        )
        lon, lat = site["geometry"]["coordinates"][:2]
        assert (stored_site.lat, stored_site.lon) == pytest.approx((lat, lon), abs=1e-9)


def test_reimporting_changes_nothing(db_url, opendata, bosai):
    for name in (EMERGENCY, SHELTERS):
        assert bosai(db_url, "import", "shelters", opendata / name).code == 0
    before = content_hash(get_engine(db_url))
    again = [bosai(db_url, "import", "shelters", opendata / name) for name in (EMERGENCY, SHELTERS)]
    assert [r.code for r in again] == [0, 0]
    assert "変更なし 199" in again[0].out and "追加 0・変更 0" in again[0].out
    assert "変更なし 102" in again[1].out and "統合" not in again[1].out
    assert content_hash(get_engine(db_url)) == before


def test_dry_run_lists_changes_and_writes_nothing(db_url, opendata, bosai):
    assert bosai(db_url, "import", "shelters", opendata / EMERGENCY).code == 0
    before = content_hash(get_engine(db_url))
    dry = bosai(db_url, "import", "shelters", "--dry-run", opendata / SHELTERS)
    assert dry.code == 0, dry.err
    assert dry.out.startswith("+") or dry.out.startswith("~")
    assert "［試行・書き込みなし］" in dry.out and "[dry run, nothing written]" in dry.out
    assert "追加 34・変更 68・変更なし 0・統合 68" in dry.out
    assert sum(line.startswith("+ gsi_id=") for line in dry.out.splitlines()) == 34
    assert sum(line.startswith("~ #") for line in dry.out.splitlines()) == 68
    assert content_hash(get_engine(db_url)) == before
    real = bosai(db_url, "import", "shelters", opendata / SHELTERS)
    assert "追加 34・変更 68・変更なし 0・統合 68" in real.out  # the dry run told the truth


def test_gsi_csv_in_shift_jis_is_the_same_data_as_the_geojson(
    sqlite_url, opendata, bosai, tmp_path
):
    features = _features(opendata / EMERGENCY)
    columns = [k for k in features[0]["properties"] if k != "NO"] + ["緯度", "経度"]
    path = tmp_path / "07202_emergency.csv"
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for feature in features:
            lon, lat = feature["geometry"]["coordinates"][:2]
            props = {**feature["properties"], "緯度": f"{lat}", "経度": f"{lon}"}
            writer.writerow([props.get(c, "") for c in columns])
    assert bosai(sqlite_url, "import", "shelters", opendata / EMERGENCY).code == 0
    before = content_hash(get_engine(sqlite_url))
    result = bosai(sqlite_url, "import", "shelters", "--format", "gsi", path)
    assert result.code == 0, result.err
    assert "追加 0・変更 0・変更なし 199" in result.out
    assert content_hash(get_engine(sqlite_url)) == before


STANDARD_SUBSET = """\
ID,名称,所在地_連結表記,緯度,経度,標高,災害種別_洪水,災害種別_崖崩れ、土石流及び地滑り,災害種別_地震,想定収容人数,備考
{a_id},{a_name},{a_address},{a_lat},{a_lon},212.5,○,△,1.0,"屋内480人／屋外3,350人(面積の1/2)",
{b_id},{b_name},会津若松市 どこか別の書き方 1,{b_lat},{b_lon},,×,,1,約120人,
NEWSITE01,新しい一時避難場所,福島県会津若松市新町1-1,37.4600,139.9000,300,1,1,1,屋外のみ,自主防災組織が管理
"""


def test_standard_list_merges_into_gsi_sites_and_keeps_both_ids(db_url, opendata, bosai, tmp_path):
    sites = [f for f in _features(opendata / EMERGENCY) if f["properties"]["洪水"] == "1"]
    a, b = sites[0], sites[1]
    (a_lon, a_lat), (b_lon, b_lat) = (
        a["geometry"]["coordinates"][:2],
        b["geometry"]["coordinates"][:2],
    )
    path = tmp_path / "072028_evacuation_space.csv"
    path.write_text(
        STANDARD_SUBSET.format(
            a_id="E01",
            a_name=a["properties"]["施設・場所名"],
            a_address=a["properties"]["住所"],
            a_lat=a_lat,
            a_lon=a_lon,
            b_id="E02",
            b_name=b["properties"]["施設・場所名"],
            b_lat=b_lat + 0.0001,  # about 11 m north, address written differently
            b_lon=b_lon,
        ),
        encoding="utf-8-sig",
    )
    assert bosai(db_url, "import", "shelters", opendata / EMERGENCY).code == 0
    result = bosai(db_url, "import", "shelters", path)
    assert result.code == 0, result.err
    assert "追加 1・変更 2・変更なし 0・統合 2" in result.out

    merged_a = rows(db_url, sa.select(Shelter).where(Shelter.standard_id == "072028-E01"))[0]
    assert merged_a.gsi_id == a["properties"]["共通ID"]
    assert (merged_a.capacity, merged_a.capacity_text) == (480, "屋内480人／屋外3,350人(面積の1/2)")
    assert merged_a.elevation_m == 212.5
    assert merged_a.source == "gsi"  # the GSI record created it and keeps its flags
    assert merged_a.hazard_flood is True
    merged_b = rows(db_url, sa.select(Shelter).where(Shelter.standard_id == "072028-E02"))[0]
    assert merged_b.gsi_id == b["properties"]["共通ID"]
    assert (merged_b.capacity, merged_b.capacity_text) == (120, "約120人")
    assert merged_b.address == b["properties"]["住所"]  # the primary's address stays
    new = rows(db_url, sa.select(Shelter).where(Shelter.standard_id == "072028-NEWSITE01"))[0]
    assert (new.capacity, new.capacity_text) == (None, "屋外のみ")
    assert (new.hazard_flood, new.hazard_landslide, new.hazard_earthquake) == (True, True, True)
    assert new.notes == "自主防災組織が管理" and new.source == "standard"
    assert scalar(db_url, sa.select(sa.func.count()).select_from(Shelter)) == 200

    before = content_hash(get_engine(db_url))
    for again in (path, opendata / EMERGENCY):
        result = bosai(db_url, "import", "shelters", again)
        assert result.code == 0 and "追加 0・変更 0" in result.out, result.out
    assert content_hash(get_engine(db_url)) == before


def test_the_39_column_layout_with_every_flag_spelling(db_url, bosai, tmp_path):
    path = tmp_path / "072028_evacuation_space.csv"
    expected = write_standard_csv(path, 60, seed=7, encoding="cp932")
    result = bosai(db_url, "import", "shelters", "--format", "standard", path)
    assert result.code == 0, result.err
    assert "追加 60" in result.out
    stored = {s.standard_id: s for s in rows(db_url, sa.select(Shelter))}
    assert len(stored) == 60
    for row in expected:
        shelter = stored[f"072028-{row['ID']}"]
        assert shelter.name == row["名称"]
        assert shelter.capacity == row["indoor"]
        assert shelter.capacity_text == (row["想定収容人数"] or None)
        assert shelter.hazard_flood == (row["災害種別_洪水"] in ("1", "1.0", "○", "△"))
        assert shelter.hazard_volcano == (row["災害種別_火山現象"] in ("1", "1.0", "○", "△"))


FORMULA_NAMES = (
    '=HYPERLINK("http://example.invalid/x","開く")',
    "<script>alert('避難')</script>",
    "+81-242-39-1111",
    "@SUM(A1:A9)",
    "-1+1 集会所",
    '<img src=x onerror="alert(1)">',
)


def test_formula_and_script_names_are_stored_as_text(db_url, bosai, tmp_path):
    lines = ["ID,名称,緯度,経度"]
    for number, name in enumerate(FORMULA_NAMES, start=1):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"F{number},{quoted},37.49{number},139.92{number}")
    path = tmp_path / "names.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = bosai(db_url, "import", "shelters", path)
    assert result.code == 0, result.err
    stored = {s.standard_id: s.name for s in rows(db_url, sa.select(Shelter))}
    assert stored == {f"072028-F{n}": name for n, name in enumerate(FORMULA_NAMES, start=1)}


def test_skip_invalid_imports_the_valid_rows_and_writes_escaped_rejects(db_url, bosai, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "ID,名称,緯度,経度\n"
        "G1,良い避難所,37.49,139.92\n"
        '"B1","=HYPERLINK(""http://example.invalid"")",139.92,37.49\n'
        "G2,もう一つの避難所,37.50,139.93\n"
        "B2,海外,51.5,-0.12\n",
        encoding="utf-8",
    )
    before = content_hash(get_engine(db_url))
    refused = bosai(db_url, "import", "shelters", path)
    assert refused.code == 2
    assert f"{path}:3:緯度: 緯度と経度が入れ替わっています" in refused.err
    assert f"{path}:5:緯度: 座標が日本の範囲外です" in refused.err
    assert content_hash(get_engine(db_url)) == before
    assert not (tmp_path / "mixed.rejects.csv").exists()

    result = bosai(db_url, "import", "shelters", "--skip-invalid", path)
    assert result.code == 0, result.err
    rejects = tmp_path / "mixed.rejects.csv"
    assert f"不正な 2 行を除外し {rejects} に書き出しました" in result.err
    assert "追加 2" in result.out and "除外 2" in result.out and "2 rejected" in result.out
    assert sorted(s.name for s in rows(db_url, sa.select(Shelter))) == [
        "もう一つの避難所",
        "良い避難所",
    ]
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["行"] for r in table] == ["3", "5"]
    assert table[0]["名称"] == '\'=HYPERLINK("http://example.invalid")'  # never a formula
    assert table[1]["経度"] == "'-0.12"
    assert "入れ替わっています" in table[0]["理由"] and table[0]["ID"] == "B1"
