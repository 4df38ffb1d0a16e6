"""Demo generation at 120,000 citizens, and its database load against raw executemany."""

from __future__ import annotations

import time

from sql.bulk import _converter
from sql.models import Base

from .core import BenchContext, Result


def _raw_load_seconds(url: str, tables: dict) -> float:
    """The floor: the same rows through the bare driver (sqlite3 / psycopg executemany)."""
    import sqlalchemy as sa

    from sql.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        dialect = conn.dialect.name
        start = time.perf_counter()
        cur = raw.cursor()
        for name, rows in tables.items():
            if not rows:
                continue
            table = Base.metadata.tables[name]
            cols = list(rows[0])
            conv = [_converter(table.c[c], dialect) for c in cols]
            mark = "?" if dialect == "sqlite" else "%s"
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join(mark for _ in cols)})"  # noqa: S608
            cur.executemany(
                sql,
                [
                    tuple(f(r[c]) if f else r[c] for f, c in zip(conv, cols, strict=True))
                    for r in rows
                ],
            )
        elapsed = time.perf_counter() - start
        conn.execute(sa.text("SELECT 1"))
    engine.dispose()
    return elapsed


def _fresh(url: str) -> None:
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(url)
    prepare_database(engine)
    engine.dispose()


def run(ctx: BenchContext) -> list[Result]:
    from drills.demo_city import DemoParams, generate
    from sql.city_config import active_city
    from sql.demo_store import load_demo
    from sql.engine import make_engine

    n = 12_000 if ctx.quick else 120_000
    url = ctx.sqlite_url("demo")
    _fresh(url)
    engine = make_engine(url)
    city = active_city(engine)
    start = time.perf_counter()
    demo = generate(DemoParams(citizens=n), city)
    generation = time.perf_counter() - start
    rows = sum(len(v) for v in demo.tables.values())
    start = time.perf_counter()
    load_demo(engine, demo.tables, demo.params.as_meta())
    load = time.perf_counter() - start
    engine.dispose()
    raw_url = ctx.sqlite_url("demo_raw")
    _fresh(raw_url)
    raw = _raw_load_seconds(raw_url, demo.tables)
    results = [
        Result(f"demo.generate.{n}_citizens", generation, "s", note=f"{rows:,} rows generated"),
        Result(
            f"demo.total.{n}_citizens.sqlite",
            generation + load,
            "s",
            note="generate + load + derived tables, one transaction",
        ),
        Result(
            f"demo.load.{n}_citizens.sqlite",
            load,
            "s",
            baseline=raw,
            note="ratio = our load (incl. consent/latest-status rebuild) / bare sqlite3 executemany of the same rows",
        ),
    ]
    with ctx.pg_database("demo") as pg_url:
        if pg_url:
            _fresh(pg_url)
            engine = make_engine(pg_url)
            start = time.perf_counter()
            load_demo(engine, demo.tables, demo.params.as_meta())
            pg_load = time.perf_counter() - start
            engine.dispose()
            with ctx.pg_database("demo_raw") as pg_raw:
                _fresh(pg_raw)
                pg_baseline = _raw_load_seconds(pg_raw, demo.tables)
            results.append(
                Result(
                    f"demo.load.{n}_citizens.postgresql",
                    pg_load,
                    "s",
                    baseline=pg_baseline,
                    note="ratio = our load (COPY + rebuilds) / bare psycopg executemany",
                )
            )
    return results
