"""The city's counts per issuance area (issue 17 item 1): 人口/世帯数, residents/households or
e-Stat 小地域 JINKO/SETAI with an optional source; a bad value refuses the file naming
FILE:ROW:COLUMN, an empty one is NULL, a re-import changes nothing and new counts update."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bosai.errors import InvalidInputError
from importers.evacuation import read_areas
from sql.imports.evacuation import import_areas
from sql.models import EvacuationArea
from sql.viewer import SYSTEM
from tests.conftest import EVACUATION_DATA

SQUARE = "POLYGON ((139.92 37.49, 139.93 37.49, 139.93 37.50, 139.92 37.50, 139.92 37.49))"
SQUARE_COORDS = [
    [[139.92, 37.49], [139.93, 37.49], [139.93, 37.50], [139.92, 37.50], [139.92, 37.49]]
]


def _csv(tmp_path, header: tuple[str, str, str], cells: tuple[str, str, str]):
    path = tmp_path / "counts.csv"
    line = ",".join(f'"{c}"' for c in cells)
    path.write_text(
        f'区域コード,区域名,{",".join(header)},WKT\nZ-1,集計区域,{line},"{SQUARE}"\n',
        encoding="utf-8",
    )
    return path


def _geojson(tmp_path, props: dict):
    path = tmp_path / "counts.geojson"
    feature = {
        "type": "Feature",
        "properties": {"区域コード": "Z-1", "区域名": "集計区域", **props},
        "geometry": {"type": "Polygon", "coordinates": SQUARE_COORDS},
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def _stored(engine, code: str = "Z-1"):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(
                EvacuationArea.residents, EvacuationArea.households, EvacuationArea.counts_source
            ).where(EvacuationArea.code == code)
        ).one_or_none()


JAPANESE = ("人口", "世帯数", "集計の出典")
ENGLISH = ("residents", "households", "counts_source")


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        (JAPANESE, ("1,234", "567", "令和2年国勢調査"), (1234, 567, "令和2年国勢調査")),
        (ENGLISH, ("１２３４", "0", ""), (1234, 0, None)),
        (JAPANESE, ("", "", ""), (None, None, None)),
    ],
)
def test_csv_counts_are_read_under_either_naming(
    evacuation_engine, tmp_path, header, cells, expected
):
    path = _csv(tmp_path, header, cells)
    import_areas(evacuation_engine, SYSTEM, read_areas(path), path.name)
    assert tuple(_stored(evacuation_engine)) == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"JINKO": 2480, "SETAI": 1093, "counts_source": "令和2年国勢調査"},
            (2480, 1093, "令和2年国勢調査"),
        ),
        ({"residents": 12.0, "households": None}, (12, None, None)),
        ({}, (None, None, None)),
    ],
)
def test_geojson_counts_take_estat_names(evacuation_engine, tmp_path, props, expected):
    path = _geojson(tmp_path, props)
    import_areas(evacuation_engine, SYSTEM, read_areas(path), path.name)
    assert tuple(_stored(evacuation_engine)) == expected


def test_the_shipped_areas_carry_counts_or_none(evacuation_engine):
    assert tuple(_stored(evacuation_engine, "YU-1")) == (2480, 1093, "令和2年国勢調査")
    assert tuple(_stored(evacuation_engine, "YU-3")) == (1320, 587, "住民基本台帳（令和8年4月1日）")
    assert tuple(_stored(evacuation_engine, "AG-2")) == (None, None, None)


@pytest.mark.parametrize(
    ("header", "cells", "column"),
    [
        (JAPANESE, ("-5", "2", ""), "人口"),
        (JAPANESE, ("10", "2.5", ""), "世帯数"),
        (ENGLISH, ("約千人", "2", ""), "residents"),
        (ENGLISH, ("10", "two", ""), "households"),
    ],
)
def test_a_bad_count_refuses_the_file(evacuation_engine, tmp_path, header, cells, column):
    path = _csv(tmp_path, header, cells)
    with pytest.raises(InvalidInputError) as excinfo:
        import_areas(evacuation_engine, SYSTEM, read_areas(path), path.name)
    assert [p.split(":")[:3] for p in excinfo.value.problems] == [[str(path), "2", column]]
    assert _stored(evacuation_engine) is None


def test_a_bad_geojson_count_names_the_feature(evacuation_engine, tmp_path):
    path = _geojson(tmp_path, {"JINKO": -1})
    with pytest.raises(InvalidInputError) as excinfo:
        import_areas(evacuation_engine, SYSTEM, read_areas(path), path.name)
    assert excinfo.value.problems[0].startswith(f"{path}:1:JINKO:")
    assert _stored(evacuation_engine) is None


def test_a_reimport_changes_nothing_and_new_counts_update(evacuation_engine, tmp_path):
    again = import_areas(
        evacuation_engine,
        SYSTEM,
        read_areas(EVACUATION_DATA / "areas.csv"),
        "areas.csv",
    )
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2)
    path = tmp_path / "areas.csv"
    text = (EVACUATION_DATA / "areas.csv").read_text(encoding="utf-8")
    path.write_text(text.replace('"1,320",587', "1400,600"), encoding="utf-8")
    changed = import_areas(evacuation_engine, SYSTEM, read_areas(path), path.name)
    assert (changed.added, changed.changed, changed.unchanged) == (0, 1, 1)
    assert changed.diff == ["~ YU-3: residents, households"]
    assert tuple(_stored(evacuation_engine, "YU-3"))[:2] == (1400, 600)
