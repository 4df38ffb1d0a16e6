"""The HQ picture (compositions/hq_map_state.py) against independent SQL, and its incremental
live status against a full re-read — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from analytics.zone_exposure import ZoneMembership
from bosai.i18n import t
from compositions.hq_map_state import HqMapCache, build_hq_state, expected_arrivals
from dashboard.map_deck import LAYER_CELLS, LAYER_REGISTER, LAYER_RESCUE, LAYER_SHELTERS, build_deck
from reports.parts import report_viewer
from sql.city_config import active_city
from sql.ingest import ingest_status_reports
from sql.models import CitizenLatestStatus, HazardZone, Shelter
from sql.queries import hazards as hazard_queries
from sql.queries import status_snapshot
from sql.queries.incidents import incident_timeline
from sql.viewer import SYSTEM, Viewer

HQ = Viewer(role="hq", subject="hq-1")


def sql_counts(engine) -> dict:
    with engine.connect() as conn:
        q = lambda s: conn.execute(sa.text(s)).scalar()  # noqa: E731
        return {
            "citizens": q("SELECT COUNT(*) FROM citizens"),
            "confirmed": q(
                "SELECT COUNT(*) FROM citizen_latest_status WHERE incident_key = 1 AND state IN "
                "('safe_at_home','at_shelter','elsewhere_safe')"
            ),
            "needs_rescue": q(
                "SELECT COUNT(*) FROM citizen_latest_status WHERE incident_key = 1 AND state = 'needs_rescue'"
            ),
            "rescue_open": q(
                "SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND status IN "
                "('new','triaged','assigned','en_route')"
            ),
            "shelters_open": q(
                "SELECT COUNT(DISTINCT shelter_id) FROM shelter_operations "
                "WHERE incident_id = 1 AND closed_at IS NULL"
            ),
            "register_unconfirmed": q(
                "SELECT COUNT(*) FROM support_register r LEFT JOIN citizen_latest_status s "
                "ON s.citizen_id = r.citizen_id AND s.incident_key = 1 WHERE s.state IS NULL "
                "OR s.state NOT IN ('safe_at_home','at_shelter','elsewhere_safe')"
            ),
            "with_home": q("SELECT COUNT(*) FROM citizens WHERE home_lat IS NOT NULL"),
        }


def test_kpis_and_layers_equal_independent_counts(demo_engine):
    city = active_city(demo_engine)
    state = build_hq_state(demo_engine, HqMapCache(), HQ, 1, city)
    expected = sql_counts(demo_engine)
    kpis = state.kpis
    assert kpis["citizens"] == expected["citizens"]
    assert kpis["confirmed"] == expected["confirmed"]
    assert kpis["needs_rescue"] == expected["needs_rescue"]
    assert kpis["rescue_open_total"] == expected["rescue_open"]
    assert kpis["shelters_open"] == expected["shelters_open"]
    assert kpis["register_unconfirmed"] == expected["register_unconfirmed"]
    assert int(state.cells["citizens"].sum()) == expected["with_home"]
    assert int(state.cells["needs_rescue"].sum()) == expected["needs_rescue"]
    spec = json.loads(
        build_deck(state, t, center=(city.center_lat, city.center_lon), zoom=12).to_json()
    )
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert len(layers[LAYER_RESCUE]["data"]) == expected["rescue_open"]
    assert len(layers[LAYER_REGISTER]["data"]) == expected["register_unconfirmed"]
    assert len(layers[LAYER_SHELTERS]["data"]) == len(state.shelters)
    assert sum(1 for _ in layers[LAYER_CELLS]["data"]) == len(state.cells)
    assert "mapProvider" not in spec  # no base map asked of the internet in tests


def test_register_points_are_drawn_at_their_homes_and_rescue_points_at_the_request(demo_engine):
    state = build_hq_state(demo_engine, HqMapCache(), HQ, 1, active_city(demo_engine))
    with demo_engine.connect() as conn:
        homes = {
            r.id: (r.home_lat, r.home_lon)
            for r in conn.execute(sa.text("SELECT id, home_lat, home_lon FROM citizens"))
        }
        places = {
            r.id: (r.lat, r.lon)
            for r in conn.execute(sa.text("SELECT id, lat, lon FROM rescue_requests"))
        }
    assert len(state.register) > 0 and len(state.rescue) > 0
    for cid, lat, lon in state.register[["citizen_id", "lat", "lon"]].itertuples(index=False):
        assert (lat, lon) == pytest.approx(homes[cid])
    for rid, lat, lon in state.rescue[["id", "lat", "lon"]].itertuples(index=False):
        assert (lat, lon) == pytest.approx(places[rid])
    assert not {"name", "phone", "district"} & set(state.rescue.columns)


def test_normal_mode_draws_no_individual_points_for_hq(demo_engine):
    with demo_engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET emergency_mode = :f"), {"f": False})
    city = active_city(demo_engine)
    state = build_hq_state(demo_engine, HqMapCache(), HQ, 1, city)
    spec = json.loads(build_deck(state, t, center=(37.5, 139.9), zoom=12).to_json())
    ids = {layer["id"] for layer in spec["layers"]}
    assert LAYER_RESCUE not in ids and LAYER_REGISTER not in ids
    assert state.kpis["rescue_open_total"] > 0  # the aggregate is still there


def full_states(engine, cache) -> np.ndarray:
    grid = cache.grid(engine)
    rows = status_snapshot.latest_states(engine, 1)
    out = np.full(len(grid), -1, np.int8)
    pos = grid.index_of(rows.citizen_ids)
    out[pos[pos >= 0]] = rows.states[pos >= 0]
    return out


def test_live_status_is_read_incrementally_and_stays_exact(demo_engine):
    cache = HqMapCache()
    states, _ = cache.live_states(demo_engine, 1)
    np.testing.assert_array_equal(states, full_states(demo_engine, cache))
    at = dt.datetime(2026, 7, 10, 5, 0, tzinfo=dt.UTC)
    new = [
        {
            "idempotency_key": f"t:{i}",
            "citizen_id": i,
            "incident_id": 1,
            "state": "needs_rescue",
            "source": "app",
            "reported_at": at,
        }
        for i in range(1, 30)
    ]
    ingest_status_reports(demo_engine, new)
    states, feed = cache.live_states(demo_engine, 1)
    np.testing.assert_array_equal(states, full_states(demo_engine, cache))
    assert feed.latest_rows == sql_counts(demo_engine)["confirmed"] + int(
        np.count_nonzero((states >= 0) & ~np.isin(states, [1, 3, 4]))
    )
    # A removal (retention, a withdrawn consent) is noticed and read again in full.
    with demo_engine.begin() as conn:
        conn.execute(sa.delete(CitizenLatestStatus).where(CitizenLatestStatus.citizen_id < 10))
    states, _ = cache.live_states(demo_engine, 1)
    np.testing.assert_array_equal(states, full_states(demo_engine, cache))
    assert (states[:9] == -1).all()


def test_replay_at_the_end_equals_live_and_earlier_differs(demo_engine):
    city = active_city(demo_engine)
    cache = HqMapCache()
    live = build_hq_state(demo_engine, cache, HQ, 1, city)
    first, last = status_snapshot.report_time_range(demo_engine, 1)
    at_end = build_hq_state(demo_engine, cache, HQ, 1, city, as_of=last, now=last)
    assert at_end.kpis["confirmed"] == live.kpis["confirmed"]
    assert int(at_end.cells["reported"].sum()) == int(live.cells["reported"].sum())
    early = build_hq_state(
        demo_engine, cache, HQ, 1, city, as_of=first + dt.timedelta(minutes=20), now=last
    )
    assert early.kpis["confirmed"] < live.kpis["confirmed"]


def test_expected_arrivals_never_exceed_unconfirmed_people_in_zones(demo_engine):
    city = active_city(demo_engine)
    cache = HqMapCache()
    state = build_hq_state(demo_engine, cache, HQ, 1, city)
    codes = tuple(state.warnings["kind_code"])
    expected = expected_arrivals(demo_engine, cache, state.shelters, codes, state.states, 1)
    assert len(expected) == len(state.shelters)
    assert (
        expected[~state.shelters["is_open"].to_numpy()].sum()
        == state.shelters.loc[~state.shelters["is_open"], "heading_here"].sum()
    )
    unconfirmed = int(np.count_nonzero(~np.isin(state.states, [1, 3, 4])))
    assert 0 < int(expected.sum()) <= unconfirmed


def independent_unsuitable(engine, city, kind_names: list[str]) -> dict[int, set[str]]:
    """Each shelter's reasons to be unsuitable, from the tables with one shapely polygon at a
    time and the hazards read from the warnings' Japanese names."""
    words = {"大雨": ("landslide", "inland_flood"), "洪水": ("flood",), "高潮": ("storm_surge",)}
    hazards = {h for name in kind_names for w, hs in words.items() if w in name for h in hs}
    low = city.setting("flood_low_elevation_m")
    with engine.connect() as conn:
        shelters = conn.execute(sa.select(Shelter.__table__)).mappings().all()
        zones = conn.exec_driver_sql("SELECT kind, geom_wkb FROM hazard_zones").all()
    polygons = [(kind, shapely.from_wkb(bytes(wkb))) for kind, wkb in zones]
    out = {}
    for s in shelters:
        here = shapely.Point(s["lon"], s["lat"])
        reasons = {f"no_flag:{h}" for h in hazards if not s[f"hazard_{h}"]}
        reasons |= {
            f"in_zone:{k}" for k, poly in polygons if k in hazards and poly.intersects(here)
        }
        if low is not None and "flood" in hazards and (s["elevation_m"] or 1e9) < low:
            reasons.add("low_for_flood")
        out[int(s["id"])] = reasons
    return out


def add_overlapping_zones(engine) -> None:
    """A milder zone around every demo zone (the demo's own zones never overlap): a shallow
    flood rank around the deep ones, a 警戒区域 around each 特別警戒区域 — so that the worst
    zone has to be chosen."""
    with engine.begin() as conn:
        zones = conn.execute(sa.select(HazardZone.__table__)).mappings().all()
        milder = {
            "flood": ("2", "0.5m以上3.0m未満", 0.5, 3.0),
            "landslide": ("1", "土砂災害警戒区域", None, None),
        }
        rows = []
        for z in zones:
            code, label, low, high = milder[z["kind"]]
            grown = shapely.from_wkb(bytes(z["geom_wkb"])).buffer(0.004)
            x0, y0, x1, y1 = grown.bounds
            rows.append(
                {
                    **{k: z[k] for k in ("kind", "phenomenon", "source_dataset", "is_synthetic")},
                    "source_key": f"{z['source_key']}:around",
                    "rank_code": code,
                    "rank_label": label,
                    "depth_min_m": low,
                    "depth_max_m": high,
                    "geom_wkb": shapely.to_wkb(grown),
                    "min_lon": x0,
                    "min_lat": y0,
                    "max_lon": x1,
                    "max_lat": y1,
                }
            )
        conn.execute(sa.insert(HazardZone.__table__), rows)


def test_hq_map_shelter_board_and_reports_agree_on_people_per_zone_and_unsuitable_shelters(
    demo_engine,
):
    """One hazards module: the HQ map (and the shelter board, which draws the same picture),
    the reports' picture of the last moment and the warnings page's people per zone rank read
    the same city the same way."""
    add_overlapping_zones(demo_engine)
    city = active_city(demo_engine)
    cache = HqMapCache()
    live = build_hq_state(demo_engine, cache, HQ, 1, city)
    end = incident_timeline(demo_engine, 1)["end"]
    reported = build_hq_state(
        demo_engine, HqMapCache(), report_viewer(SYSTEM), 1, city, as_of=end, now=end
    )
    assert live.hazards == reported.hazards == ("flood", "landslide", "inland_flood")

    def unsuitable(board) -> dict[int, set[str]]:
        return {
            int(i): set(r) for i, r in zip(board["id"], board["unsuitable_reasons"], strict=True)
        }

    expected = independent_unsuitable(demo_engine, city, live.warnings["kind_name"].tolist())
    assert unsuitable(live.shelters) == unsuitable(reported.shelters) == expected
    assert any(any(r.startswith("in_zone:") for r in rs) for rs in expected.values())

    # People per zone: the HQ map's zone of each home (the worst of the warnings' hazards)
    # is, for its kind, the rank the warnings page counts the home in.
    codes = tuple(live.warnings["kind_code"])
    exposure = cache.nearest_shelters(demo_engine, live.shelters, codes)
    points = status_snapshot.home_points(demo_engine)
    per_rank = ZoneMembership(
        points.ids, points.lat, points.lon, hazard_queries.hazard_zones(demo_engine)
    )
    labels = per_rank.ranks["rank_label"].to_numpy()
    position = dict(zip(per_rank.ids.tolist(), range(len(per_rank.ids)), strict=True))
    in_zone = exposure[exposure["zone_level"] > 0]
    assert len(in_zone) > 20
    deep = in_zone["zone_rank"].isin(
        ["3.0m以上5.0m未満", "5.0m以上10.0m未満", "土砂災害特別警戒区域"]
    )
    assert deep.sum() > 5  # homes in two zones of a kind: the worse one is shown and counted
    for home, kind, rank in zip(
        in_zone["id"], in_zone["zone_kind"], in_zone["zone_rank"], strict=True
    ):
        assert labels[per_rank.rank_of[kind][position[int(home)]]] == rank
    counted = np.zeros(len(per_rank.ids), bool)
    for kind in live.hazards:
        counted |= per_rank.rank_of.get(kind, np.full(len(per_rank.ids), -1)) >= 0
    assert int(counted.sum()) == len(in_zone)
