"""``bosai import occupancy``: every Nanao snapshot of the 2024 Noto earthquake."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from sql.city_config import DEFAULT_CITY_FILE
from sql.content_hash import content_hash
from sql.engine import get_engine
from sql.models import Incident, Shelter, ShelterOccupancy, ShelterOperation

from .conftest import NANAO_CITY, Bosai, rows

HISTORY = "nanao_noto2024/history"


def _read_files(folder: Path) -> dict[str, list[dict[str, str]]]:
    """Each snapshot file's rows, read here with the csv module (independently of importers)."""
    files = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            files[path.name] = list(csv.DictReader(handle))
    return files


def _count(row: dict[str, str]) -> int:
    (column,) = [c for c in row if c == "人数" or c.startswith("人数_")]
    return int(row[column])


def _configure_nanao_but_keep_aizuwakamatsu_active(url: str, bosai: Bosai) -> None:
    assert bosai(url, "city", "load", NANAO_CITY).code == 0
    assert bosai(url, "city", "load", DEFAULT_CITY_FILE).code == 0  # the data names its city


def test_all_nanao_snapshots_make_a_series_per_shelter(db_url, opendata, bosai):
    files = _read_files(opendata / HISTORY)
    assert len(files) == 117
    _configure_nanao_but_keep_aizuwakamatsu_active(db_url, bosai)
    result = bosai(db_url, "import", "occupancy", opendata / HISTORY)
    assert result.code == 0, result.err
    observations = sum(len(r) for r in files.values())
    shelter_ids = {row["ID"] for r in files.values() for row in r}
    assert f"追加 {observations}" in result.out and f"時点 {len(files)}" in result.out
    assert f"新規避難所 {len(shelter_ids)}" in result.out
    assert "読み込み中 / Reading" in result.err  # 117 files: a progress bar

    stored = rows(
        db_url,
        sa.select(
            ShelterOccupancy.entered_by,
            ShelterOccupancy.observed_at,
            ShelterOccupancy.head_count,
            Shelter.standard_id,
        ).join(Shelter, Shelter.id == ShelterOccupancy.shelter_id),
    )
    assert len(stored) == observations
    # Totals per snapshot equal the files' sums.
    totals: dict[str, int] = defaultdict(int)
    moments: dict[str, set] = defaultdict(set)
    for entered_by, observed_at, head_count, _ in stored:
        totals[entered_by] += head_count
        moments[entered_by].add(observed_at)
    assert dict(totals) == {name: sum(map(_count, r)) for name, r in files.items()}
    assert all(len(m) == 1 for m in moments.values())  # one moment per file
    assert len({next(iter(m)) for m in moments.values()}) == 117
    first = next(iter(moments["open_shelter_Nanao-shi_2024-01-09-1800.csv"]))
    assert first.replace(tzinfo=dt.UTC) == dt.datetime(2024, 1, 9, 9, 0, tzinfo=dt.UTC)

    # The series of each shelter, in time order, is its counts in the files' (time) order.
    series: dict[str, list[tuple]] = defaultdict(list)
    for _, _observed_at, head_count, standard_id in sorted(stored, key=lambda r: r[1]):
        series[standard_id].append(head_count)
    expected: dict[str, list[int]] = defaultdict(list)
    for name in sorted(files):
        for row in files[name]:
            expected[f"172022-{row['ID']}"].append(_count(row))
    assert series == expected
    assert len(series) == len(shelter_ids)

    (incident,) = rows(db_url, sa.select(Incident))
    assert (incident.kind, incident.municipality_code, incident.emergency_mode) == (
        "real",
        "172022",
        False,
    )
    assert incident.name_ja.startswith("七尾市 避難所開設状況（令和6年1月9日")
    still_open = rows(
        db_url,
        sa.select(Shelter.standard_id)
        .join(ShelterOperation, ShelterOperation.shelter_id == Shelter.id)
        .where(ShelterOperation.closed_at.is_(None)),
    )
    last = files[max(files)]
    assert sorted(s for (s,) in still_open) == sorted(f"172022-{r['ID']}" for r in last)
    capacity = rows(
        db_url,
        sa.select(Shelter.capacity, Shelter.capacity_text).where(
            Shelter.standard_id == "172022-CC0000000518"
        ),
    )
    assert capacity == [(480, "屋内480人／屋外3,350人(面積の1/2)")]


def test_reimport_and_dry_run_change_nothing(db_url, opendata, bosai):
    _configure_nanao_but_keep_aizuwakamatsu_active(db_url, bosai)
    before = content_hash(get_engine(db_url))
    dry = bosai(db_url, "import", "occupancy", "--dry-run", opendata / HISTORY)
    assert dry.code == 0, dry.err
    assert "［試行・書き込みなし］ 避難者数: 追加 1466" in dry.out
    assert "+ #" in dry.out and "山王小学校 2024-01-09 18:00 180人" in dry.out
    assert content_hash(get_engine(db_url)) == before

    assert bosai(db_url, "import", "occupancy", opendata / HISTORY).code == 0
    after_first = content_hash(get_engine(db_url))
    again = bosai(db_url, "import", "occupancy", opendata / HISTORY)
    assert again.code == 0 and "追加 0・変更 0・変更なし 1466" in again.out
    assert content_hash(get_engine(db_url)) == after_first

    latest = opendata / "nanao_noto2024" / "open_shelter_Nanao-shi_latest.geojson"
    one_more = bosai(db_url, "import", "occupancy", latest)  # GeoJSON in JGD2011 zone VII
    assert one_more.code == 0, one_more.err
    assert "追加 1・変更 0・変更なし 0" in one_more.out
    counts = rows(
        db_url,
        sa.select(ShelterOccupancy.head_count).where(ShelterOccupancy.entered_by == latest.name),
    )
    assert counts == [(40,)]


def test_a_city_that_is_not_configured_is_named_and_nothing_is_written(sqlite_url, opendata, bosai):
    before = content_hash(get_engine(sqlite_url))
    result = bosai(sqlite_url, "import", "occupancy", opendata / HISTORY)
    assert result.code == 2
    assert "「石川県七尾市」は設定済みの市区町村ではありません" in result.err
    assert "bosai city load" in result.err
    assert content_hash(get_engine(sqlite_url)) == before
