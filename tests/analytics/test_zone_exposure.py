"""People per hazard-zone rank and status: worst rank per kind, checked against PostGIS."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from analytics.zone_exposure import (
    STATUS_COLUMNS,
    ZoneMembership,
    depth_range_text,
    rank_table,
    state_names,
)
from drills.demo_city import DemoParams, generate
from sql.city_config import active_city
from sql.demo_store import load_demo
from sql.queries import hazards, status_snapshot

SPECIAL = {"2", "4"}


def zones_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["id", "kind", "rank_code", "rank_label", "depth_min_m", "depth_max_m", "box"]
    )
    frame["geom_wkb"] = [shapely.to_wkb(shapely.box(*b)) for b in frame.pop("box")]
    return frame


def test_worst_rank_per_kind_and_every_kind_counted():
    zones = zones_frame(
        [
            (1, "landslide", "1", "土砂災害警戒区域", None, None, (0, 0, 10, 10)),
            (2, "landslide", "2", "土砂災害特別警戒区域", None, None, (0, 0, 2, 2)),
            (3, "flood", "2", "0.5m以上3.0m未満", 0.5, 3.0, (5, 5, 20, 20)),
            (4, "flood", "4", "5.0m以上10.0m未満", 5.0, 10.0, (15, 15, 20, 20)),
            (5, "landslide", "1", "土砂災害警戒区域", None, None, (30, 30, 31, 31)),
        ]
    )
    ids = np.array([7, 3, 5, 9, 1])
    lat = np.array([1.0, 6.0, 16.0, 50.0, 30.5])  # x = lon = lat here
    homes = ZoneMembership(ids, lat, lat.copy(), zones)
    table = homes.counts(np.array([3, 7, 1]), np.array(["needs_rescue", "safe_at_home", "injured"]))
    rows = {(r.kind, r.rank_code): r for r in table.itertuples()}
    # 7 at (1,1): special zone inside the warning zone → counted once, as special.
    assert rows[("landslide", "2")].total == 1 and rows[("landslide", "2")].safe_at_home == 1
    # 3 at (6,6): landslide warning zone and the shallow flood rank (two kinds → both).
    assert rows[("landslide", "1")].total == 2  # 3 and 1 (two polygons of one rank)
    assert rows[("flood", "2")].needs_rescue == 1 and rows[("flood", "2")].total == 1
    # 5 at (16,16): both flood ranks overlap → the deeper one only; no report.
    assert rows[("flood", "4")].total == 1 and rows[("flood", "4")].no_report == 1
    # 9 lies in no zone; every status column adds up to the total.
    assert int(table["total"].sum()) == 5
    assert (table[list(STATUS_COLUMNS)].sum(axis=1) == table["total"]).all()
    # Ranks: flood before landslide, worst first, with the number of polygons.
    assert [(r.kind, r.rank_code, r.zones) for r in homes.ranks.itertuples()] == [
        ("flood", "4", 1),
        ("flood", "2", 1),
        ("landslide", "2", 1),
        ("landslide", "1", 2),
    ]


def test_no_zones_or_no_homes_give_empty_tables():
    empty = ZoneMembership(np.array([1]), np.array([1.0]), np.array([1.0]), zones_frame([]))
    assert empty.ranks.empty and empty.counts(np.array([1]), np.array(["injured"])).empty
    zones = zones_frame([(1, "flood", "2", "x", 0.5, 3.0, (0, 0, 1, 1))])
    nobody = ZoneMembership(np.array([], int), np.array([]), np.array([]), zones)
    assert nobody.counts(np.array([], int), np.array([])).iloc[0].total == 0


def test_rank_texts_and_state_codes():
    assert depth_range_text(0.5, 3.0) == "0.5–3.0 m"
    assert depth_range_text(None, None) == ""
    assert depth_range_text(0.0, 0.5) == "– 0.5 m"
    assert state_names(np.array([-1, 0, 3])).tolist() == ["no_report", "unknown", "at_shelter"]
    assert rank_table(zones_frame([])).empty


def independent_zone_hits(engine) -> list[tuple[int, str, str, float | None]]:
    """(citizen, kind, rank_code, depth_min) for every home in every zone: PostGIS on
    PostgreSQL, one shapely polygon at a time on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT c.id, z.kind, z.rank_code, z.depth_min_m FROM citizens c "
                "JOIN hazard_zones z ON ST_Intersects(z.geom, "
                "ST_SetSRID(ST_MakePoint(c.home_lon, c.home_lat), 4326)) "
                "WHERE c.home_lat IS NOT NULL"
            ).all()
    with engine.connect() as conn:
        homes = conn.exec_driver_sql(
            "SELECT id, home_lat, home_lon FROM citizens WHERE home_lat IS NOT NULL"
        ).all()
        zones = conn.exec_driver_sql(
            "SELECT kind, rank_code, depth_min_m, geom_wkb FROM hazard_zones"
        ).all()
    hits = []
    for kind, code, depth, wkb in zones:
        polygon = shapely.from_wkb(bytes(wkb))
        for cid, lat, lon in homes:
            if polygon.intersects(shapely.Point(lon, lat)):
                hits.append((cid, kind, code, depth))
    return hits


def test_demo_city_counts_equal_an_independent_spatial_join(engine):
    city = active_city(engine)
    data = generate(DemoParams(citizens=600, shelters=40), city)
    load_demo(engine, data.tables, data.params.as_meta())
    points = status_snapshot.home_points(engine)
    homes = ZoneMembership(points.ids, points.lat, points.lon, hazards.hazard_zones(engine))
    states = status_snapshot.latest_states(engine, 1)
    table = homes.counts(states.citizen_ids, state_names(states.states))

    with engine.connect() as conn:
        latest = dict(
            conn.execute(
                sa.text(
                    "SELECT citizen_id, state FROM citizen_latest_status WHERE incident_key = 1"
                )
            ).all()
        )
    worst: dict[tuple[int, str], tuple] = {}
    for cid, kind, code, depth in independent_zone_hits(engine):
        severity = depth if depth is not None else (1.0 if code in SPECIAL else 0.0)
        key = (cid, kind)
        if key not in worst or severity > worst[key][0]:
            worst[key] = (severity, code)
    expected = collections.Counter(
        (kind, code, latest.get(cid, "no_report")) for (cid, kind), (_, code) in worst.items()
    )
    got = collections.Counter()
    for row in table.itertuples():
        for status in STATUS_COLUMNS:
            if getattr(row, status):
                got[(row.kind, row.rank_code, status)] = getattr(row, status)
    assert got == expected
    assert sum(expected.values()) > 50  # the demo puts people along its rivers


@pytest.mark.parametrize("kinds", [("flood",), ("landslide",)])
def test_a_kind_alone_counts_the_same_as_within_all_kinds(kinds):
    zones = zones_frame(
        [
            (1, "flood", "2", "a", 0.5, 3.0, (0, 0, 2, 2)),
            (2, "landslide", "1", "b", None, None, (1, 1, 3, 3)),
        ]
    )
    lat = np.array([0.5, 1.5, 2.5])
    all_kinds = ZoneMembership(np.array([1, 2, 3]), lat, lat, zones).counts(np.array([]), [])
    alone = ZoneMembership(np.array([1, 2, 3]), lat, lat, zones[zones["kind"].isin(kinds)]).counts(
        np.array([]), []
    )
    merged = all_kinds[all_kinds["kind"].isin(kinds)].reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, alone)


def test_state_codes_and_state_names_count_the_same():
    zones = zones_frame([(1, "flood", "2", "a", 0.5, 3.0, (0, 0, 10, 10))])
    lat = np.arange(1.0, 9.0)
    homes = ZoneMembership(np.arange(1, 9), lat, lat, zones)
    codes = np.array([0, 1, 2, 3, 4, 5, 6, -1], dtype=np.int8)
    by_code = homes.counts(np.arange(1, 9), codes)
    by_name = homes.counts(np.arange(1, 9), state_names(codes))
    pd.testing.assert_frame_equal(by_code, by_name)
    assert by_code.iloc[0][list(STATUS_COLUMNS)].tolist() == [1] * len(STATUS_COLUMNS)
