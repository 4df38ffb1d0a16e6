"""Evacuation rules per observation batch: 100 river stations, 50 issuance areas.

- ``evacuation.rules_batch_ms``: :func:`analytics.evacuation_rules.evaluate` on one batch —
  every station's last six hours (36 readings each, 3,600 rows) against 200 rules (each
  station's 避難判断水位 → level 3 and 氾濫危険水位 → level 4 for two or three of the 50 areas),
  with levels in force in some areas — against the naive per-area loop in the same run
  (:func:`~analytics.evacuation_rules.evaluate_naive`: for each area, each rule naming it, the
  station's readings found by a scan). ``ratio`` = ours / naive. Both give the same proposals
  (checked here, and in the tests on random batches). The issue's target is ≤ 50 ms.
- ``evacuation.issue_30k_ms``: one decision for four areas holding a demo city of 30,000
  citizens (3,000 with --quick), on SQLite: what the confirmation dialog shows (people,
  households, register people, shelters per area: :func:`sql.policy.evacuation_coverage`),
  the decision recorded (:func:`sql.actions.evacuation.issue`: rows, activity log, audit
  chain), the push's recipients (:func:`sql.policy.evacuation_recipients`: consent checked,
  audited) and the CAP message — against the same with coverage and recipients found by a
  naive per-area loop over every home with a shapely point each. The push request itself
  (the city OS's answer) is not in the figure. ``ratio`` = ours / naive. The issue's target
  is ≤ 2 s.
- ``evacuation.city_counts_ms``: the four areas' residents and households by the city's
  counts as the confirmation dialog adds them up (:func:`sql.queries.evacuation.areas_frame`
  then :func:`reports.evacuation_parts.city_counts`) against the opted-in citizens' coverage
  of the same areas (:func:`sql.policy.evacuation_coverage`) in the same run. ``ratio`` =
  city counts / coverage (what showing both adds to the dialog).
- ``evacuation.demo_generate_s``: generating the demo city of 12,000 citizens (3,000 with
  --quick) with its evacuation part (:mod:`drills.demo_evacuation`: gauges, areas, readings,
  the decisions the rules propose) against the same demo without it in the same run.
  ``ratio`` = with / without (what the part costs ``bosai demo --evacuation``; the tests'
  demo leaves it out).
- ``evacuation.map_proposals_ms``: the HQ map's layer of pending proposals, once per refresh
  (:mod:`dashboard.map_proposals`: the board's own evaluation,
  :func:`dashboard.evacuation_state.pending_proposals`, and the dashed outlines with their
  tooltips) on a demo city of 30,000 citizens (3,000 with --quick) with the tests' areas,
  gauges and the 湯川 past its 避難判断水位 — against the decision board's whole picture
  (:func:`dashboard.evacuation_state.build_board`, which also counts who each area covers)
  in the same run: what the map would cost each refresh by reusing the board. ``ratio`` =
  map layer / board.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .core import BenchContext, Result, best_of


def workload(stations: int = 100, areas: int = 50, readings: int = 36, seed: int = 17):
    from analytics.evacuation_rules import Thresholds, parse_rules

    rng = np.random.default_rng(seed)
    thresholds = {
        f"S{i:03d}": Thresholds(1.0, 1.5, 2.0 + (i % 5) * 0.1, 2.8 + (i % 5) * 0.1)
        for i in range(stations)
    }
    lines = ["rules:"]
    for i in range(stations):
        targets = ", ".join(f"A{(i * 3 + k) % areas:02d}" for k in range(2 + i % 2))
        lines.append(
            f"  - {{id: j{i}, trigger: {{kind: river_level, station: S{i:03d}, "
            f"threshold: judgement_m}}, level: 3, areas: [{targets}]}}"
        )
        lines.append(
            f"  - {{id: d{i}, trigger: {{kind: river_level, station: S{i:03d}, "
            f"threshold: danger_m}}, level: 4, areas: [{targets}]}}"
        )
    rules = parse_rules("\n".join(lines), "bench.yaml")
    t0 = dt.datetime(2026, 7, 10, 0, 0, tzinfo=dt.UTC)
    rise = np.linspace(0.8, 3.2, readings)
    rows = [
        (f"S{i:03d}", t0 + dt.timedelta(minutes=10 * k), float(rise[k] * rng.uniform(0.6, 1.1)))
        for i in range(stations)
        for k in range(readings)
    ]
    observations = pd.DataFrame(rows, columns=["station", "observed_at", "level_m"])
    in_force = {f"A{a:02d}": 3 for a in range(0, areas, 4)}
    return rules, thresholds, observations, in_force


def _quadrant_areas(tmp: Path) -> Path:
    """Four areas (the city's quarters around its centre) as a CSV with WKT."""
    west, east, south, north, mid_lon, mid_lat = 139.84, 140.06, 37.40, 37.60, 139.93, 37.495
    boxes = {
        "Q-NW": (west, mid_lat, mid_lon, north),
        "Q-NE": (mid_lon, mid_lat, east, north),
        "Q-SW": (west, south, mid_lon, mid_lat),
        "Q-SE": (mid_lon, south, east, mid_lat),
    }
    lines = ["区域コード,区域名,種別,人口,世帯数,集計の出典,WKT"]
    for code, (x0, y0, x1, y1) in boxes.items():
        lines.append(
            f'{code},{code},地区,30000,12500,国勢調査,"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"'
        )
    path = tmp / "quadrants.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _naive_counts(engine, wkbs: dict[int, bytes]) -> tuple[dict[int, int], list[int]]:
    """People per area and the citizens inside any area, one shapely point per home."""
    import shapely
    import sqlalchemy as sa

    from sql.models import Citizen

    with engine.connect() as conn:
        homes = conn.execute(
            sa.select(Citizen.id, Citizen.home_lon, Citizen.home_lat).where(
                Citizen.home_lat.is_not(None)
            )
        ).all()
    counts, inside = {}, set()
    for area_id, wkb in wkbs.items():
        geom = shapely.from_wkb(wkb)
        n = 0
        for h in homes:
            if geom.intersects(shapely.Point(h.home_lon, h.home_lat)):
                n += 1
                inside.add(h.id)
        counts[area_id] = n
    return counts, sorted(inside)


def _issuance(ctx: BenchContext) -> list[Result]:
    import time

    import sqlalchemy as sa

    from importers.evacuation import read_areas
    from reports.cap import decision_message
    from sql import policy
    from sql.actions.evacuation import issue
    from sql.engine import make_engine
    from sql.imports.evacuation import import_areas
    from sql.models import EvacuationArea
    from sql.viewer import SYSTEM, Viewer

    from .core import load_demo_city

    citizens = 3_000 if ctx.quick else 30_000
    url = ctx.sqlite_url("evacuation")
    load_demo_city(url, citizens)
    engine = make_engine(url)
    import_areas(engine, SYSTEM, read_areas(_quadrant_areas(ctx.workdir)), "quadrants.csv")
    with engine.connect() as conn:
        wkbs = {
            int(i): bytes(w)
            for i, w in conn.execute(sa.select(EvacuationArea.id, EvacuationArea.geom_wkb))
        }
    hq = Viewer(role="hq", subject="bench-hq")
    rounds = iter(range(1000))

    def decide(naive: bool) -> int:
        k = next(rounds)
        if naive:
            _, inside = _naive_counts(engine, wkbs)
            recipients = policy.notification_recipients(engine, hq, 1, inside, "home_location")
        else:
            policy.evacuation_coverage(engine, hq, wkbs)
            recipients, _ = policy.evacuation_recipients(engine, hq, 1, wkbs)
        policy.forget_recent_views()
        issue(engine, hq, 1, list(wkbs), 3 + k % 3, "bench", idempotency_key=f"bench-{k}")
        decision_message(engine, f"bench-{k}")
        return len(recipients)

    reached = decide(False)
    if reached != decide(True):
        raise AssertionError("the naive and our recipients differ")
    timings = {}
    for naive in (False, True):
        best = float("inf")
        for _ in range(3 if not naive else 2):
            start = time.perf_counter()
            decide(naive)
            best = min(best, time.perf_counter() - start)
        timings[naive] = best
    counts = _city_counts(engine, hq, wkbs)
    engine.dispose()
    return [
        Result(
            "evacuation.issue_30k_ms",
            timings[False] * 1000,
            "ms",
            baseline=timings[True] * 1000,
            note=f"{citizens:,} citizens, 4 areas, {reached:,} consenting recipients; push request "
            "not included; ratio = ours / naive per-area point loop",
        ),
        counts,
    ]


def _city_counts(engine, hq, wkbs: dict[int, bytes]) -> Result:
    from reports.evacuation_parts import city_counts
    from sql import policy
    from sql.queries.evacuation import areas_frame

    found = city_counts(areas_frame(engine), list(wkbs))
    if found is None or found.counted != len(wkbs):
        raise AssertionError("the quadrants' counts were not imported")
    ours = best_of(lambda: city_counts(areas_frame(engine), list(wkbs)), repeat=5)
    coverage = best_of(lambda: policy.evacuation_coverage(engine, hq, wkbs), repeat=3)
    return Result(
        "evacuation.city_counts_ms",
        ours * 1000,
        "ms",
        baseline=coverage * 1000,
        note=f"{len(wkbs)} areas, {found.residents:,} residents by the city's counts; "
        "ratio = city counts / opted-in coverage of the same areas",
    )


def run(ctx: BenchContext) -> list[Result]:
    from analytics.evacuation_rules import evaluate, evaluate_naive

    rules, thresholds, observations, in_force = workload(
        stations=30 if ctx.quick else 100, areas=15 if ctx.quick else 50
    )
    ours = evaluate(rules, thresholds, observations, {}, in_force)
    naive = evaluate_naive(rules, thresholds, observations, {}, in_force)
    if ours != naive:
        raise AssertionError("the vectorised and the naive evaluation disagree")
    fast = best_of(lambda: evaluate(rules, thresholds, observations, {}, in_force), repeat=5)
    slow = best_of(lambda: evaluate_naive(rules, thresholds, observations, {}, in_force), repeat=2)
    return [
        Result(
            "evacuation.rules_batch_ms",
            fast * 1000,
            "ms",
            baseline=slow * 1000,
            note=f"{len(rules)} rules, {len(observations)} readings, {len(ours)} proposals; "
            "ratio = ours / naive per-area loop",
        ),
        *_issuance(ctx),
        _demo_part(ctx),
        _map_proposals(ctx),
    ]


def _demo_part(ctx: BenchContext) -> Result:
    from bosai.cli.demo import city_evacuation_rules
    from drills.demo_city import DemoParams, generate
    from sql.city_config import active_city
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(ctx.sqlite_url("evacuation_demo"))
    prepare_database(engine)
    city = active_city(engine)
    engine.dispose()
    rules = city_evacuation_rules(city)
    citizens = 3_000 if ctx.quick else 12_000

    def build(evacuation: bool):
        params = DemoParams(citizens=citizens, evacuation=evacuation)
        return generate(params, city, evacuation_rules=rules if evacuation else None)

    decisions = len({r["decision_key"] for r in build(True).tables["evacuation_issuances"]})
    # interleaved, so both see the same warm caches and the same garbage to collect
    times: dict[bool, list[float]] = {True: [], False: []}
    for evacuation in (False, True) * 3:
        times[evacuation].append(best_of(lambda e=evacuation: build(e), repeat=1))
    with_part, without = min(times[True]), min(times[False])
    return Result(
        "evacuation.demo_generate_s",
        with_part,
        "s",
        baseline=without,
        note=f"{citizens:,} citizens, {decisions} decisions; ratio = with the evacuation part "
        "/ without",
    )


#: The tests' issuance areas and gauges (their codes are the demo city's rules').
EVACUATION_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "evacuation"


def _map_proposals(ctx: BenchContext) -> Result:
    from bosai.cli import main
    from dashboard import map_proposals
    from dashboard.context import PageContext
    from dashboard.evacuation_state import build_board
    from sql.city_config import active_city
    from sql.engine import make_engine
    from sql.incident_clock import incident_clock
    from sql.viewer import Viewer

    from .core import load_demo_city

    citizens = 3_000 if ctx.quick else 30_000
    url = ctx.sqlite_url("evacuation_map")
    load_demo_city(url, citizens)
    for command, name in (
        ("import-areas", "areas.geojson"),
        ("import-areas", "areas.csv"),
        ("import-stations", "stations.csv"),
    ):
        main(["--database-url", url, "evacuation", command, str(EVACUATION_DATA / name)])
    engine = make_engine(url)
    now = incident_clock(engine, 1)
    levels = ctx.workdir / "map-levels.csv"
    levels.write_text(
        "観測所コード,観測日時,水位\n"
        + "".join(
            f"yugawa-01,{(now - dt.timedelta(minutes=m)).isoformat()},{level}\n"
            for m, level in ((30, 2.1), (20, 2.45), (10, 2.6))
        ),
        encoding="utf-8",
    )
    main(["--database-url", url, "evacuation", "import-levels", str(levels)])
    city = active_city(engine)
    hq = Viewer(role="hq", subject="bench-hq")
    page = PageContext(engine, url, hq, "ja", city)

    def layer() -> int:
        return len(map_proposals.proposal_layers(page, map_proposals.pending(engine, 1, city)))

    proposals = len(build_board(engine, hq, 1, city).proposals)
    if not proposals or layer() != 2:
        raise AssertionError("the rules proposed nothing to draw")
    ours = best_of(layer, repeat=5)
    board = best_of(lambda: build_board(engine, hq, 1, city), repeat=5)
    engine.dispose()
    return Result(
        "evacuation.map_proposals_ms",
        ours * 1000,
        "ms",
        baseline=board * 1000,
        note=f"{citizens:,} citizens, {proposals} proposed areas; ratio = map layer / the "
        "board's whole picture",
    )
