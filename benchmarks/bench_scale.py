"""Prefecture scale on PostgreSQL/PostGIS: the HQ map and the rescue-queue and shelter queries
on a demo city of 1,200,000 opted-in citizens (120,000 with ``--quick``), each against the
same figure on the 12,000-citizen demo city measured in the same run (``ratio`` = how much
slower 100× — or 10× — the data makes it).

- ``scale.hq_state.hq_ms``: :func:`compositions.hq_map_state.build_hq_state` for HQ staff (every
  layer: status cells, KPIs, shelters, open rescue requests, unconfirmed register people),
  warm (the median of 5 after a first build); target ≤ 1 s;
- ``scale.hq_state.aggregate_ms``: the same for a council member (cells, KPIs and shelters —
  no personal points);
- ``scale.rescue_queue.*``, ``scale.rescue_queue_all.*``, ``scale.rescue_open.*``,
  ``scale.shelter_board.*``, ``scale.register_unconfirmed.*``: the rescue queue page's read
  (its default filter, the open requests, without contact details; and with every status
  chosen), the HQ map's open requests (map points), the shelter board and the HQ map's
  unconfirmed register people (map points) — ``sql_ms`` is the statement's server time
  (``EXPLAIN ANALYZE``), ``frame_ms`` the whole call (policy, audit, DataFrame); target
  ≤ 200 ms;
- ``scale.explain.large_seq_scans``: sequential scans of tables over 100,000 rows in those
  statements' plans (0 = every large table is reached through an index); the note lists the
  indexes used;
- each figure also ``.tuned``: the session settings SCALING.md recommends for SSD storage
  (``random_page_cost=1.1``, ``jit=off``, ``work_mem=32MB``), set through the URL's
  ``options`` (``jit=off`` is also the engine's own default since 2026-11-26).

Generating and loading 1.2 million citizens takes 5 minutes on a quiet machine (25 on a loaded
one) and 8 GB here, so an existing database holding ``bosai demo --citizens N`` can be named
with ``BOSAI_SCALE_PG_URL`` (the size is read from it); otherwise the
demo is generated and its generation and load times and the process's peak memory are reported
too.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .core import BenchContext, Result

BASELINE_CITIZENS = 12_000
TUNED = "-c random_page_cost=1.1 -c jit=off -c work_mem=32MB"
LARGE_TABLE_ROWS = 100_000
#: The reads timed (see the module doc), as the pages make them.
READS = ("rescue_queue", "rescue_queue_all", "rescue_open", "shelter_board", "register_unconfirmed")


def _load_demo(url: str, citizens: int) -> dict[str, float]:
    from drills.demo_city import DemoParams, generate
    from sql.city_config import active_city
    from sql.demo_store import load_demo
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(url)
    prepare_database(engine)
    began = time.perf_counter()
    data = generate(DemoParams(citizens=citizens), active_city(engine))
    generated = time.perf_counter() - began
    load_demo(engine, data.tables, data.params.as_meta())
    loaded = time.perf_counter() - began - generated
    del data
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return {"generate_s": generated, "load_s": loaded}


def _tuned(url: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(TUNED)}"


@contextmanager
def _capture(engine: Engine):
    """The statements (and parameters) an operation sends."""
    seen: list[tuple[str, Any]] = []

    def listen(conn, cursor, statement, params, context, executemany):
        seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def _median_ms(fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _plan(engine: Engine, statement: str, params: Any) -> dict[str, Any]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
        (doc,) = cur.fetchone()
        raw.rollback()
    finally:
        raw.close()
    return (json.loads(doc) if isinstance(doc, str) else doc)[0]


def _nodes(node: dict[str, Any]):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _query_figures(
    engine: Engine, name: str, fn: Callable[[], Any], marker: str, sizes: dict[str, int]
) -> tuple[float, float, list[str], list[str]]:
    """(frame ms, sql ms, large tables scanned sequentially, indexes used) of one read."""
    frame_ms = _median_ms(fn)
    with _capture(engine) as seen:
        fn()
    statements = [
        (s, p) for s, p in seen if marker in s and s.lstrip().upper().startswith("SELECT")
    ]
    if not statements:
        raise RuntimeError(f"{name}: no statement containing {marker!r} was sent")
    statement, params = max(statements, key=lambda sp: len(sp[0]))
    plans = [_plan(engine, statement, params) for _ in range(3)]
    sql_ms = statistics.median(p["Execution Time"] for p in plans)
    seq, indexes = [], []
    for node in _nodes(plans[0]["Plan"]):
        relation = node.get("Relation Name")
        if node["Node Type"] in ("Seq Scan", "Parallel Seq Scan") and (
            sizes.get(relation, 0) > LARGE_TABLE_ROWS
        ):
            seq.append(relation)
        if "Index Name" in node:
            indexes.append(f"{node['Node Type']} {node['Index Name']}")
    return frame_ms, sql_ms, sorted(set(seq)), sorted(set(indexes))


def measure(url: str) -> dict[str, Any]:
    """Every figure of the module doc on the database at ``url`` (one settings variant)."""
    from bosai.vocab import RESCUE_OPEN_STATUSES
    from compositions.hq_map_state import HqMapCache, build_hq_state
    from sql import policy
    from sql.city_config import active_city
    from sql.content_hash import row_counts
    from sql.engine import make_engine
    from sql.queries import shelter_board
    from sql.viewer import Viewer

    engine = make_engine(url)
    sizes = row_counts(engine)
    city = active_city(engine)
    hq = Viewer(role="hq", subject="bench-scale-hq")
    council = Viewer(role="council", subject="bench-scale-council")
    out: dict[str, Any] = {"citizens": sizes["citizens"], "sizes": sizes}
    for label, viewer in (("hq", hq), ("aggregate", council)):
        cache = HqMapCache()
        began = time.perf_counter()
        build_hq_state(engine, cache, viewer, 1, city)
        out[f"hq_state.{label}.first_ms"] = (time.perf_counter() - began) * 1000
        out[f"hq_state.{label}_ms"] = _median_ms(
            lambda v=viewer, c=cache: build_hq_state(engine, c, v, 1, city)
        )
    unconfirmed_register = policy.register_people(engine, hq, 1, unconfirmed_only=True)[
        "citizen_id"
    ].to_numpy()
    reads = {
        "rescue_queue": (
            lambda: policy.rescue_requests(
                engine, hq, 1, statuses=RESCUE_OPEN_STATUSES, fields="queue"
            ),
            "FROM rescue_requests",
        ),
        "rescue_queue_all": (
            lambda: policy.rescue_requests(engine, hq, 1, fields="queue"),
            "FROM rescue_requests",
        ),
        "rescue_open": (
            lambda: policy.rescue_requests(engine, hq, 1, open_only=True, fields="map"),
            "FROM rescue_requests",
        ),
        "shelter_board": (lambda: shelter_board.shelter_board(engine, 1), "FROM shelters"),
        "register_unconfirmed": (
            lambda: policy.register_map_points(engine, hq, 1, unconfirmed_register),
            "FROM support_register",
        ),
    }
    seq_all: set[str] = set()
    index_all: set[str] = set()
    for name, (fn, marker) in reads.items():
        rows = len(fn())
        frame_ms, sql_ms, seq, indexes = _query_figures(engine, name, fn, marker, sizes)
        out[f"{name}.frame_ms"] = frame_ms
        out[f"{name}.sql_ms"] = sql_ms
        out[f"{name}.rows"] = rows
        out[f"{name}.seq"] = seq
        out[f"{name}.indexes"] = indexes
        seq_all.update(f"{name}:{t}" for t in seq)
        index_all.update(indexes)
    out["explain.large_seq_scans"] = sorted(seq_all)
    out["explain.indexes"] = sorted(index_all)
    engine.dispose()
    return out


def _results(big: dict[str, Any], base: dict[str, Any], suffix: str, note: str) -> list[Result]:
    n, b = big["citizens"], base["citizens"]
    size = f"{n:,} citizens vs {b:,}{note}"
    results = []
    for label in ("hq", "aggregate"):
        key = f"hq_state.{label}_ms"
        results.append(
            Result(
                f"scale.{key}{suffix}",
                big[key],
                "ms",
                base[key],
                note=f"{size}; warm median of 5 (first build {big[f'hq_state.{label}.first_ms']:,.0f} ms)"
                + ("; target ≤ 1,000 ms" if label == "hq" else ""),
            )
        )
    for name in READS:
        for part in ("sql_ms", "frame_ms"):
            results.append(
                Result(
                    f"scale.{name}.{part}{suffix}",
                    big[f"{name}.{part}"],
                    "ms",
                    base[f"{name}.{part}"],
                    note=f"{size}; {big[f'{name}.rows']:,} rows (vs {base[f'{name}.rows']:,}); "
                    f"indexes: {', '.join(big[f'{name}.indexes']) or 'none'}; sequential scans "
                    f"of large tables: {', '.join(big[f'{name}.seq']) or 'none'}; target ≤ 200 ms",
                )
            )
    results.append(
        Result(
            f"scale.explain.large_seq_scans{suffix}",
            len(big["explain.large_seq_scans"]),
            "scans",
            note=f"{size}; {', '.join(big['explain.large_seq_scans']) or 'none'}",
        )
    )
    return results


def run(ctx: BenchContext) -> list[Result]:
    citizens = 120_000 if ctx.quick else 1_200_000
    given = os.environ.get("BOSAI_SCALE_PG_URL")
    results: list[Result] = []
    with ctx.pg_database("scale_base") as base_url:
        if base_url is None:
            return []  # no PostgreSQL server configured
        _load_demo(base_url, BASELINE_CITIZENS)
        with ctx.pg_database("scale") as fresh_url:
            url = given or fresh_url
            generation: dict[str, float] = {}
            if not given:
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                generation = _load_demo(url, citizens)
                rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            note = "" if not given else " (the database named by BOSAI_SCALE_PG_URL)"
            for suffix, tune in (("", lambda u: u), (".tuned", _tuned)):
                big = measure(tune(url))
                base = measure(tune(base_url))
                results += _results(big, base, suffix, note)
            if generation:
                results.append(
                    Result(
                        "scale.demo.generate_s",
                        generation["generate_s"],
                        "s",
                        note=f"{citizens:,} citizens: drills.demo_city.generate",
                    )
                )
                results.append(
                    Result(
                        "scale.demo.load_s",
                        generation["load_s"],
                        "s",
                        note=f"{citizens:,} citizens: sql.demo_store.load_demo (one transaction)",
                    )
                )
                results.append(
                    Result(
                        "scale.demo.peak_rss_mb",
                        rss_after / 1024,
                        "MB",
                        note=f"peak resident memory of this process after generating and loading "
                        f"(before: {rss_before / 1024:,.0f} MB)",
                    )
                )
    return results
