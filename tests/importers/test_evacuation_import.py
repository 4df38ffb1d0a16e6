"""Evacuation areas, river stations and water levels: all or nothing, every problem named
FILE:ROW:COLUMN, a re-import changes nothing (issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bosai.errors import InvalidInputError
from importers.evacuation import read_areas, read_observations, read_stations
from sql.imports.evacuation import import_areas, import_observations, import_stations
from sql.models import EvacuationArea, RiverStation, WaterLevelObservation
from sql.viewer import SYSTEM
from tests.conftest import EVACUATION_DATA

OBS_HEADER = "観測所コード,観測日時,水位"


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_areas_and_stations_import_and_a_reimport_changes_nothing(evacuation_engine):
    assert count(evacuation_engine, EvacuationArea) == 6
    assert count(evacuation_engine, RiverStation) == 2
    with evacuation_engine.connect() as conn:
        kinds = dict(conn.execute(sa.select(EvacuationArea.code, EvacuationArea.kind)).all())
        agagawa = conn.execute(
            sa.select(RiverStation).where(RiverStation.code == "agagawa-01")
        ).one()
    assert kinds == {
        "YU-1": "district",
        "YU-2": "district",
        "YU-3": "chocho",
        "AG-1": "hazard",
        "AG-2": "hazard",
        "LS-1": "hazard",
    }
    # the gauge range defaults around the thresholds when the file leaves it out
    assert (agagawa.range_min_m, agagawa.range_max_m) == (-3.0, 14.8)
    again = import_areas(
        evacuation_engine,
        SYSTEM,
        read_areas(EVACUATION_DATA / "areas.geojson"),
        "areas.geojson",
    )
    stations = import_stations(
        evacuation_engine,
        SYSTEM,
        read_stations(EVACUATION_DATA / "stations.csv"),
        "stations.csv",
    )
    assert (again.added, again.changed, again.unchanged) == (0, 0, 4)
    assert (stations.added, stations.changed, stations.unchanged) == (0, 0, 2)


def test_observations_import_and_a_repeat_changes_nothing(evacuation_engine, tmp_path):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = [
        f"yugawa-01,{(now - dt.timedelta(minutes=20)).isoformat()},1.5",
        f"yugawa-01,{(now - dt.timedelta(minutes=10)).isoformat()},2.0",
        # Japan time when no zone is written
        f"agagawa-01,{(now - dt.timedelta(minutes=10)).astimezone(dt.timezone(dt.timedelta(hours=9))).replace(tzinfo=None).isoformat()},3.1",
    ]
    path = write(tmp_path, "levels.csv", "\n".join([OBS_HEADER, *rows]))
    first = import_observations(evacuation_engine, SYSTEM, read_observations(path), path.name)
    again = import_observations(evacuation_engine, SYSTEM, read_observations(path), path.name)
    assert (first.added, first.unchanged) == (3, 0)
    assert (again.added, again.unchanged) == (0, 3)
    with evacuation_engine.connect() as conn:
        stored = (
            conn.execute(
                sa.select(WaterLevelObservation.observed_at).order_by(WaterLevelObservation.id)
            )
            .scalars()
            .all()
        )
    assert stored[2] == now - dt.timedelta(minutes=10)


def _problems(excinfo) -> list[str]:
    return excinfo.value.problems


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("nowhere-9,{t},1.0", "観測所コード", "nowhere-9"),
        ("yugawa-01,{t},9.5", "水位", "9.5"),
        ("yugawa-01,{future},1.0", "観測日時", "未来"),
        ("yugawa-01,{t},abc", "水位", "数値ではありません"),
        ("yugawa-01,2026年2月30日,1.0", "観測日時", ""),
    ],
)
def test_a_bad_observation_refuses_the_file_naming_row_and_column(
    evacuation_engine, tmp_path, row, column, words
):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    good = f"yugawa-01,{(now - dt.timedelta(minutes=30)).isoformat()},1.0"
    bad = row.format(
        t=(now - dt.timedelta(minutes=5)).isoformat(),
        future=(now + dt.timedelta(hours=2)).isoformat(),
    )
    path = write(tmp_path, "levels.csv", "\n".join([OBS_HEADER, good, bad]))
    parsed = read_observations(path)
    with pytest.raises(InvalidInputError) as excinfo:
        import_observations(evacuation_engine, SYSTEM, parsed, path.name)
    problems = _problems(excinfo)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:3:{column}:")
    assert words in problems[0]
    assert count(evacuation_engine, WaterLevelObservation) == 0


def test_a_duplicate_observation_in_the_file_and_a_conflicting_one_are_refused(
    evacuation_engine, tmp_path
):
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).replace(microsecond=0).isoformat()
    path = write(tmp_path, "dup.csv", f"{OBS_HEADER}\nyugawa-01,{at},1.0\nyugawa-01,{at},1.0\n")
    parsed = read_observations(path)
    assert [str(p) for p in parsed.problems] == [
        f"{path}:3:観測日時: 同じ観測所・日時の観測が 2 行目にもあります"
        " / the same station and time is on row 2 too"
    ]
    with pytest.raises(InvalidInputError):
        import_observations(evacuation_engine, SYSTEM, parsed, path.name)
    assert count(evacuation_engine, WaterLevelObservation) == 0
    one = write(tmp_path, "one.csv", f"{OBS_HEADER}\nyugawa-01,{at},1.0\n")
    import_observations(evacuation_engine, SYSTEM, read_observations(one), one.name)
    other = write(tmp_path, "other.csv", f"{OBS_HEADER}\nyugawa-01,{at},1.1\n")
    with pytest.raises(InvalidInputError) as excinfo:
        import_observations(evacuation_engine, SYSTEM, read_observations(other), other.name)
    assert _problems(excinfo)[0].startswith(f"{other}:2:水位:")
    assert count(evacuation_engine, WaterLevelObservation) == 1


@pytest.mark.parametrize(
    ("wkt", "words"),
    [
        # a bow tie: self-intersecting
        (
            "POLYGON ((139.92 37.49, 139.93 37.50, 139.93 37.49, 139.92 37.50, 139.92 37.49))",
            "不正",
        ),
        ("POINT (139.92 37.49)", "Polygon"),
        ("POLYGON ((37.49 139.92, 37.50 139.92, 37.50 139.93, 37.49 139.92))", "日本の範囲外"),
        ("POLYGON ((139.92 37.49, 139.93", "読めません"),
    ],
)
def test_an_invalid_area_geometry_refuses_the_file(evacuation_engine, tmp_path, wkt, words):
    path = write(
        tmp_path,
        "areas.csv",
        "区域コード,区域名,種別,WKT\n"
        'Z-1,良い区域,地区,"POLYGON ((139.92 37.49, 139.93 37.49, 139.93 37.50, 139.92 37.49))"\n'
        f'Z-2,悪い区域,地区,"{wkt}"\n',
    )
    parsed = read_areas(path)
    with pytest.raises(InvalidInputError) as excinfo:
        import_areas(evacuation_engine, SYSTEM, parsed, path.name)
    problems = _problems(excinfo)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:3:WKT:")
    assert words in problems[0]
    assert count(evacuation_engine, EvacuationArea) == 6


def test_a_geojson_feature_is_named_by_its_number(evacuation_engine, tmp_path):
    path = write(
        tmp_path,
        "bad.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"区域コード": "Q-1", "区域名": "Q", "種別": "地区"},'
        ' "geometry": {"type": "LineString", "coordinates": [[139.9, 37.5], [139.91, 37.5]]}},'
        '{"type": "Feature", "properties": {"区域コード": "Q-2", "区域名": "Q2", "種別": "村"},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[139.9, 37.5], [139.91, 37.5],'
        " [139.91, 37.51], [139.9, 37.5]]]}}]}",
    )
    parsed = read_areas(path)
    assert [p.split(": ")[0] for p in map(str, parsed.problems)] == [
        f"{path}:1:geometry",
        f"{path}:2:種別",
    ]


def test_stations_with_thresholds_out_of_order_are_refused(evacuation_engine, tmp_path):
    path = write(
        tmp_path,
        "stations.csv",
        "観測所コード,観測所名,水防団待機水位,氾濫注意水位,避難判断水位,氾濫危険水位\n"
        "s-1,一,1.0,2.0,3.0,4.0\n"
        "s-2,二,1.0,2.0,1.5,4.0\n",
    )
    parsed = read_stations(path)
    assert [str(p).split(": ")[0] for p in parsed.problems] == [f"{path}:3:避難判断水位"]
    with pytest.raises(InvalidInputError):
        import_stations(evacuation_engine, SYSTEM, parsed, path.name)
    assert count(evacuation_engine, RiverStation) == 2


def test_the_cli_imports_and_exits_2_on_bad_input(evacuation_engine, bosai, tmp_path):
    url = evacuation_engine.url.render_as_string(hide_password=False)
    ok = bosai(url, "evacuation", "import-stations", EVACUATION_DATA / "stations.csv")
    assert ok.code == 0 and "変更なし 2" in ok.out
    bad = write(tmp_path, "levels.csv", f"{OBS_HEADER}\nnowhere,2026-07-01T10:00:00+09:00,1.0\n")
    result = bosai(url, "evacuation", "import-levels", bad)
    assert result.code == 2
    assert f"{bad}:2:観測所コード:" in result.text
    assert count(evacuation_engine, WaterLevelObservation) == 0
