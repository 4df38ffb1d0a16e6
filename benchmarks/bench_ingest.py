"""Status reports through our write path vs raw executemany into the same database."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from .core import BenchContext, Result

T0 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC)


def _prepare(url: str, citizens: int):
    from sql.bulk import bulk_insert
    from sql.engine import make_engine
    from sql.models import Citizen
    from sql.setup import prepare_database

    engine = make_engine(url)
    prepare_database(engine)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            Citizen.__table__,
            [
                {
                    "id": i,
                    "subject": f"b{i}",
                    "is_synthetic": True,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for i in range(1, citizens + 1)
            ],
        )
    return engine


def _reports(prefix: str, n: int, citizens: int) -> list[dict]:
    states = ("safe_at_home", "evacuating", "at_shelter", "needs_rescue")
    return [
        {
            "idempotency_key": f"{prefix}{i}",
            "citizen_id": 1 + i % citizens,
            "incident_id": None,
            "state": states[i % 4],
            "shelter_id": None,
            "message": None,
            "source": "app",
            "reported_at": T0 + dt.timedelta(seconds=i),
            "received_at": T0 + dt.timedelta(seconds=i),
        }
        for i in range(n)
    ]


def raw_rate(engine, rows: list[dict]) -> float:
    """Bare driver executemany of the same rows (no idempotency, no derived table)."""
    dialect = engine.dialect.name
    cols = list(rows[0])
    mark = "?" if dialect == "sqlite" else "%s"
    sql = f"INSERT INTO status_reports ({', '.join(cols)}) VALUES ({', '.join(mark for _ in cols)})"  # noqa: S608

    def fmt(v):
        if dialect == "sqlite" and isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return v

    with engine.begin() as conn:
        cur = conn.connection.driver_connection.cursor()
        start = time.perf_counter()
        cur.executemany(sql, [tuple(fmt(r[c]) for c in cols) for r in rows])
        elapsed = time.perf_counter() - start
    return len(rows) / elapsed


def _our_rate(engine, rows: list[dict]) -> float:
    from sql.ingest import ingest_status_reports

    start = time.perf_counter()
    result = ingest_status_reports(engine, rows)
    elapsed = time.perf_counter() - start
    assert result.inserted == len(rows)
    return len(rows) / elapsed


def run(ctx: BenchContext) -> list[Result]:
    n = 20_000 if ctx.quick else 200_000
    citizens = 10_000
    results = []
    targets = [("sqlite", ctx.sqlite_url("ingest"))]
    with ctx.pg_database("ingest") as pg_url:
        if pg_url:
            targets.append(("postgresql", pg_url))
        for backend, url in targets:
            engine = _prepare(url, citizens)
            raw = raw_rate(engine, _reports("raw-", n, citizens))
            ours = _our_rate(engine, _reports("ours-", n, citizens))
            with engine.connect() as conn:
                total = conn.execute(sa.text("SELECT COUNT(*) FROM status_reports")).scalar_one()
            assert total == 2 * n
            engine.dispose()
            results.append(
                Result(
                    f"ingest.status_reports.{backend}",
                    ours,
                    "rows/s",
                    baseline=raw,
                    note=f"{n:,} reports in batches of 5,000: idempotent insert + latest-status upsert; "
                    "baseline = bare executemany of the same rows into the same table",
                )
            )
    return results
