"""``bosai import warnings``: the JMA sample telegrams, replayed for a city configured to them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import sqlalchemy as sa
import yaml

from sql.city_config import DEFAULT_CITY_FILE
from sql.content_hash import content_hash
from sql.engine import get_engine
from sql.imports.readback import warnings_in_force
from sql.models import JmaTelegram, JmaWarning, SourceHealth

from .conftest import Bosai, rows, telegram_xml

BODY = "{http://xml.kishou.go.jp/jmaxml1/body/meteorology1/}"
MUNICIPALITIES = "気象警報・注意報（市町村等）"

CHIYODA = {
    "municipality_code": "131016",
    "name_ja": "千代田区",
    "name_en": "Chiyoda",
    "prefecture_ja": "東京都",
    "prefecture_en": "Tokyo",
    "jma_municipality_code": "1310100",
    "jma_group_code": "130011",
    "jma_subdivision_code": "130010",
    "jma_prefecture_code": "130000",
    "center_lat": 35.694,
    "center_lon": 139.753,
    "bbox_south": 35.66,
    "bbox_west": 139.72,
    "bbox_north": 35.71,
    "bbox_east": 139.78,
}
MATSUE = {
    **CHIYODA,
    "municipality_code": "322016",
    "name_ja": "松江市",
    "name_en": "Matsue",
    "prefecture_ja": "島根県",
    "prefecture_en": "Shimane",
    "jma_municipality_code": "3220100",
    "jma_group_code": "320011",
    "jma_subdivision_code": "320010",
    "jma_prefecture_code": "320000",
    "center_lat": 35.468,
    "center_lon": 133.048,
    "bbox_south": 35.40,
    "bbox_west": 132.90,
    "bbox_north": 35.60,
    "bbox_east": 133.20,
}


def configure(url: str, bosai: Bosai, folder: Path, city: dict) -> None:
    values = {**yaml.safe_load(DEFAULT_CITY_FILE.read_text(encoding="utf-8")), **city}
    path = folder / f"{city['municipality_code']}.yaml"
    path.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    assert bosai(url, "city", "load", path).code == 0


def expected_warnings(path: Path, area_code: str) -> list[tuple[str, str]]:
    """(kind code, status) of one municipality, read here with ElementTree (trusted samples)."""
    found = []
    for warning in ET.parse(path).getroot().iter(f"{BODY}Warning"):
        if warning.get("type") != MUNICIPALITIES:
            continue
        for item in warning.findall(f"{BODY}Item"):
            if item.findtext(f"{BODY}Area/{BODY}Code") != area_code:
                continue
            for kind in item.findall(f"{BODY}Kind"):
                found.append((kind.findtext(f"{BODY}Code") or "00", kind.findtext(f"{BODY}Status")))
    return sorted(found)


def stored_warnings(url: str) -> dict[str, list[tuple[str, str, str]]]:
    """file name → sorted (kind code, status, area level), telegrams in the order stored."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for file_name, code, status, level in rows(
        url,
        sa.select(
            JmaTelegram.file_name, JmaWarning.kind_code, JmaWarning.status, JmaWarning.area_level
        )
        .join(JmaWarning, JmaWarning.telegram_id == JmaTelegram.id)
        .order_by(JmaTelegram.id, JmaWarning.kind_code),
    ):
        out.setdefault(file_name, []).append((code, status, level))
    return out


def test_tokyo_telegrams_replay_in_report_time_order(db_url, opendata, bosai, tmp_path):
    configure(db_url, bosai, tmp_path, CHIYODA)
    result = bosai(db_url, "import", "warnings", opendata / "jma")
    assert result.code == 0, result.err
    assert "追加 2・変更 0・変更なし 0・対象外 4" in result.out
    assert "VPWW53" in result.err  # recognised and skipped, said so
    stored = stored_warnings(db_url)
    # Replayed in report-time order (February before December), whatever the file names say.
    assert list(stored) == ["15_12_02_161130_VPWW54.xml", "15_13_01_161226_VPWW54.xml"]
    for name, warnings in stored.items():
        assert [(c, s) for c, s, _ in warnings] == expected_warnings(
            opendata / "jma" / name, "1310100"
        )
        assert {level for *_, level in warnings} == {"municipality"}
    assert ("03", "発表") in [(c, s) for c, s, _ in stored["15_12_02_161130_VPWW54.xml"]]
    in_force = warnings_in_force(get_engine(db_url))
    assert [(w.kind_code, w.kind_name, w.status) for w in in_force] == [("05", "暴風警報", "発表")]
    health = rows(db_url, sa.select(SourceHealth).where(SourceHealth.source == "jma"))
    assert health[0].stale is False and health[0].details["telegrams_added"] == 2

    before = content_hash(get_engine(db_url))
    again = bosai(db_url, "import", "warnings", opendata / "jma")
    assert again.code == 0 and "追加 0・変更 0・変更なし 2" in again.out
    assert content_hash(get_engine(db_url)) == before


def test_vpww53_is_never_counted_twice(db_url, opendata, bosai, tmp_path):
    configure(db_url, bosai, tmp_path, MATSUE)
    jma = opendata / "jma"
    before = content_hash(get_engine(db_url))
    old = bosai(db_url, "import", "warnings", jma / "15_12_01_161130_VPWW53.xml")
    assert old.code == 0 and "追加 0・変更 0・変更なし 0・対象外 1" in old.out
    assert "旧形式（VPWW53）の電文は読みません" in old.err
    assert content_hash(get_engine(db_url)) == before

    result = bosai(db_url, "import", "warnings", jma)
    assert result.code == 0, result.err
    assert "追加 1・変更 0・変更なし 0・対象外 5" in result.out
    stored = stored_warnings(db_url)
    assert list(stored) == ["15_12_01_161130_VPWW54.xml"]
    expected = expected_warnings(jma / "15_12_01_161130_VPWW54.xml", "3220100")
    assert [(c, s) for c, s, _ in stored["15_12_01_161130_VPWW54.xml"]] == expected
    assert len(expected) == len(set(expected))  # each kind once


def test_falls_back_from_municipality_to_group_to_subdivision(
    sqlite_url, opendata, bosai, tmp_path
):
    sample = opendata / "jma" / "15_12_01_161130_VPWW54.xml"
    configure(sqlite_url, bosai, tmp_path, {**MATSUE, "jma_municipality_code": "3299900"})
    assert bosai(sqlite_url, "import", "warnings", sample).code == 0
    levels = {level for ws in stored_warnings(sqlite_url).values() for *_, level in ws}
    assert levels == {"group"}

    other = tmp_path / "other"
    other.mkdir()
    url = f"sqlite:///{other / 'db.sqlite'}"
    assert bosai(url, "db", "upgrade").code == 0
    configure(
        url,
        bosai,
        other,
        {**MATSUE, "jma_municipality_code": "3299900", "jma_group_code": "329999"},
    )
    assert bosai(url, "import", "warnings", sample).code == 0
    stored = stored_warnings(url)
    assert {level for ws in stored.values() for *_, level in ws} == {"subdivision"}


def test_statuses_and_a_cancellation_replayed_from_a_folder(db_url, bosai, tmp_path):
    configure(db_url, bosai, tmp_path, CHIYODA)
    folder = tmp_path / "telegrams"
    folder.mkdir()
    # File names in the wrong order on purpose: replay follows ReportDateTime.
    (folder / "a.xml").write_text(
        telegram_xml(
            "2026-07-10T09:00:00+09:00",
            [("1310100", "千代田区", [("03", "大雨警報", "解除"), ("10", "大雨注意報", "発表")])],
        ),
        encoding="utf-8",
    )
    (folder / "b.xml").write_text(
        telegram_xml(
            "2026-07-10T05:00:00+09:00",
            [("1310100", "千代田区", [("03", "大雨警報", "発表"), ("04", "洪水警報", "発表")])],
        ),
        encoding="utf-8",
    )
    (folder / "c.xml").write_text(
        telegram_xml(
            "2026-07-10T12:00:00+09:00",
            [("1310100", "千代田区", [(None, None, "発表警報・注意報はなし")])],
        ),
        encoding="utf-8",
    )
    (folder / "test.xml").write_text(
        telegram_xml(
            "2026-07-10T13:00:00+09:00",
            [("1310100", "千代田区", [("33", "大雨特別警報", "発表")])],
            control_status="試験",
        ),
        encoding="utf-8",
    )
    engine = get_engine(db_url)
    assert bosai(db_url, "import", "warnings", folder / "b.xml").code == 0
    assert [w.kind_code for w in warnings_in_force(engine)] == ["03", "04"]
    result = bosai(db_url, "import", "warnings", folder)
    assert result.code == 0, result.err
    assert "追加 2・変更 0・変更なし 1・対象外 1" in result.out
    assert "試験電文は読みません" in result.err
    stored = stored_warnings(db_url)
    assert list(stored) == ["b.xml", "a.xml", "c.xml"]
    assert stored["c.xml"] == [("00", "発表警報・注意報はなし", "municipality")]
    assert warnings_in_force(engine) == []
