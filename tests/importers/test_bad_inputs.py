"""The bad-input corpus (tests/importers/bad/): each case names file, row and column, exits 2
and leaves the database exactly as it was — on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import shutil
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bosai.cli import main
from sql.city_config import DEFAULT_CITY_FILE
from sql.content_hash import content_hash
from sql.engine import dispose_engines, get_engine

from .conftest import BAD, DATA, NANAO_CITY, Bosai, telegram_xml

CASES: dict[str, dict] = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
XXE_MARKER = "XXE-MARKER-5d2f"
JUNK_BYTES = 10 * 1024 * 1024


def test_the_corpus_is_complete():
    listed = set(CASES)
    present = {p.name for p in BAD.iterdir()} - {"cases.yaml", "warnings_external_entity.secret"}
    assert listed == present
    assert len(listed) >= 30


def _seed(url: str, folder: Path) -> None:
    """Some of everything, so that "unchanged" means something."""
    telegram = folder / "seed.xml"
    telegram.write_text(
        telegram_xml(
            "2026-07-10T05:00:00+09:00",
            [("0720200", "会津若松市", [("03", "大雨警報", "発表")])],
            office="福島地方気象台",
        ),
        encoding="utf-8",
    )
    zones = folder / "seed_A31.geojson"
    zones.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"A31_201":"2"},'
        '"geometry":{"type":"Polygon","coordinates":[[[139.92,37.48],[139.93,37.48],'
        "[139.93,37.49],[139.92,37.48]]]}}]}",
        encoding="utf-8",
    )
    for args in (
        ["city", "load", str(NANAO_CITY)],
        ["city", "load", str(DEFAULT_CITY_FILE)],
        ["import", "shelters", str(DATA / "aizu_two_sites.csv")],
        ["import", "warnings", str(telegram)],
        ["import", "hazards", str(zones), "--kind", "flood"],
    ):
        assert main(["--database-url", url, *args]) == 0, args


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def seeded_url(request, tmp_path_factory, sqlite_template) -> Iterator[str]:
    folder = tmp_path_factory.mktemp(f"bad_{request.param}")
    if request.param == "sqlite":
        target = folder / "bosai.sqlite"
        shutil.copyfile(sqlite_template, target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("pg_server").new_database()
    _seed(url, folder)
    yield url
    dispose_engines()
    if request.param == "postgresql":
        request.getfixturevalue("pg_server").drop(url)


@pytest.fixture(scope="module")
def junk(tmp_path_factory) -> dict[str, Path]:
    """10 MB of junk in several shapes, made here rather than kept in the repository."""
    folder = tmp_path_factory.mktemp("junk")
    rnd = random.Random(20240101)
    letters = string.ascii_letters + string.digits + ",;<>&' "
    lines = "\n".join(
        "".join(rnd.choices(letters, k=99)) for _ in range(JUNK_BYTES // 100)
    ).encode()
    files = {
        "binary.csv": rnd.randbytes(JUNK_BYTES),
        "one_line.csv": b"x" * JUNK_BYTES,
        "lines.csv": lines,
        "junk.xml": lines,
        "junk.geojson": lines,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, seeded_url: str, bosai: Bosai):
    case = CASES[name]
    path = BAD / name
    before = content_hash(get_engine(seeded_url))
    result = bosai(seeded_url, "import", *case["args"], path)
    assert result.code == 2, result.text
    named = BAD / case["file"] if "file" in case else path
    assert f"{named}:{case['expect']}" in result.err, result.err
    assert result.err.startswith("bosai: error: ")
    assert "（何も書き込んでいません）" in result.err and "Traceback" not in result.err
    assert content_hash(get_engine(seeded_url)) == before
    assert not list(BAD.glob("*.rejects.csv"))
    assert XXE_MARKER not in result.text


@pytest.mark.parametrize(
    ("file", "args", "expect"),
    [
        ("binary.csv", ["shelters"], "-:-: テキストではありません（バイナリデータ）"),
        ("one_line.csv", ["shelters"], "1:-: CSV の書式が壊れています"),
        ("lines.csv", ["shelters"], "1:-: 避難所データの形式が不明です"),
        ("lines.csv", ["occupancy"], "1:ID: 必須の列「ID」がありません"),
        ("junk.xml", ["warnings"], "1:1: XML の書式が壊れています"),
        ("junk.geojson", ["hazards", "--kind", "flood"], "-:-: 内容が GeoJSON ではありません"),
    ],
)
def test_ten_megabytes_of_junk(file, args, expect, junk, seeded_url, bosai):
    before = content_hash(get_engine(seeded_url))
    result = bosai(seeded_url, "import", *args, junk[file])
    assert result.code == 2, result.text
    assert f"{junk[file]}:{expect}" in result.err, result.err[:2000]
    assert len(result.err) < 5_000  # the junk is named, never echoed
    assert content_hash(get_engine(seeded_url)) == before


@pytest.mark.parametrize(
    "name", ["shelters_missing_name.csv", "shelters_euc_jp.csv", "hazards_not_ksj.geojson"]
)
def test_skip_invalid_cannot_skip_a_broken_file(name, sqlite_url, bosai):
    before = content_hash(get_engine(sqlite_url))
    result = bosai(sqlite_url, "import", *CASES[name]["args"], "--skip-invalid", BAD / name)
    assert result.code == 2 and CASES[name]["expect"] in result.err
    assert content_hash(get_engine(sqlite_url)) == before
    assert not list(BAD.glob("*.rejects.csv"))


def test_many_problems_are_capped_then_counted(sqlite_url, bosai, tmp_path):
    path = tmp_path / "many.csv"
    path.write_text(
        "ID,名称,緯度,経度\n" + "".join(f"M{i},避難所{i},139.9,37.4\n" for i in range(120)),
        encoding="utf-8",
    )
    result = bosai(sqlite_url, "import", "shelters", path)
    assert result.code == 2
    problems = [line for line in result.err.splitlines() if line.startswith(f"{path}:")]
    assert len(problems) == 50
    assert problems[0].startswith(f"{path}:2:緯度: 緯度と経度が入れ替わっています")
    assert result.err.rstrip().endswith("... and 70 more problems")


def test_skip_invalid_on_a_folder_writes_the_rejects_beside_it(sqlite_url, bosai, tmp_path):
    assert bosai(sqlite_url, "city", "load", NANAO_CITY).code == 0
    folder = tmp_path / "snapshots"
    folder.mkdir()
    for name in ("occupancy_negative_count.csv", "occupancy_impossible_date.csv"):
        shutil.copyfile(BAD / name, folder / name)
    good = (BAD / "occupancy_negative_count.csv").read_text(encoding="utf-8")
    (folder / "good.csv").write_text(good.replace(",-5,", ",7,").replace("CC1", "CC2"), "utf-8")
    result = bosai(sqlite_url, "import", "occupancy", "--skip-invalid", folder)
    assert result.code == 0, result.err
    rejects = tmp_path / "snapshots.rejects.csv"
    assert f"{rejects}" in result.err and "追加 1" in result.out and "除外 2" in result.out
    text = rejects.read_text(encoding="utf-8-sig")
    assert "occupancy_negative_count.csv" in text and "'-5" in text  # escaped for spreadsheets
    again = bosai(sqlite_url, "import", "occupancy", "--skip-invalid", folder)
    assert "追加 0・変更 0・変更なし 1" in again.out
