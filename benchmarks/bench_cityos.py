"""Status updates through the whole city-OS path vs raw executemany into the same database.

A real OpenID Connect provider process and the reference city OS (on loopback) hold N status
updates of consenting citizens in the feed; one ``cityos.sync`` pulls them (HTTP pages with real
tokens), checks consent at the boundary and writes them through :mod:`sql.ingest` in one
transaction. Figures per backend:

* ``whole_path``: N / (fetch + prepare + write) seconds;
* ``db_side``: N / write seconds (idempotent insert + latest-status upsert + audit row);

both with ratio = figure / bare driver ``executemany`` of the same rows into ``status_reports``.
Each backend runs ``ROUNDS`` rounds (new events, a sync, then the baseline of the same size);
the figures are the medians and the note lists every round, because one 200,000-row write on a
2-vCPU virtual machine varies by ±15 % from run to run (WAL flushes and checkpoints).
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess

import sqlalchemy as sa

from .bench_ingest import raw_rate
from .core import BenchContext, Result

CLIENT = "bosai-ops-bench"
PAGE = 10_000
ROUNDS = 3


def _provider() -> tuple[subprocess.Popen, str]:
    from cityos.identity_provider import spawn
    from cityos.reference_server.runner import free_port

    port = free_port()
    process = spawn(
        port,
        [{"client_id": CLIENT, "roles": ["cityos:read", "cityos:admin"]}],
        client_secret_env="BOSAI_BENCH_IDP_SECRET",
        env={"BOSAI_BENCH_IDP_SECRET": "bench"},
    )
    return process, f"http://127.0.0.1:{port}"


def run(ctx: BenchContext) -> list[Result]:
    from cityos.client import CityOSClient
    from cityos.config import parse_config
    from cityos.reference_server.app import create_app
    from cityos.reference_server.population import build_state
    from cityos.reference_server.runner import ThreadedServer
    from cityos.reference_server.settings import ServerSettings
    from cityos.sync import sync
    from sql.engine import make_engine
    from sql.models import Citizen
    from sql.setup import prepare_database

    n = 20_000 if ctx.quick else 200_000
    citizens = 2_000 if ctx.quick else 10_000
    provider, issuer = _provider()
    results: list[Result] = []
    try:
        base_state = build_state(citizens, 20220311)
        now = dt.datetime.now(dt.UTC)
        subjects = sorted(
            s for s, u in base_state.users.items() if u.allowed("safety_status", "city_hq", now)
        )
        states = ("safe_at_home", "evacuating", "at_shelter", "needs_rescue")
        rounds = 1 if ctx.quick else ROUNDS

        def events_of(round_: int) -> list[dict]:
            t0 = now - dt.timedelta(hours=rounds - round_)
            return [
                {
                    "kind": "status",
                    "subject": subjects[i % len(subjects)],
                    "at": (t0 + dt.timedelta(milliseconds=10 * i)).isoformat(),
                    "status": {"state": states[i % 4]},
                }
                for i in range(n)
            ]

        targets = [("sqlite", ctx.sqlite_url("cityos"))]
        with ctx.pg_database("cityos") as pg_url:
            if pg_url:
                targets.append(("postgresql", pg_url))
            for backend, url in targets:
                state = base_state.clone()
                server = ThreadedServer(
                    create_app(ServerSettings(issuer=issuer, clients=(CLIENT,)), state)
                ).start()
                config = parse_config(
                    {
                        "name": "bench",
                        "base_url": server.url,
                        "page_size": PAGE,
                        "http": {"timeout_s": 120},
                        "auth": {"issuer": issuer, "client_id": CLIENT},
                    },
                    "bench",
                )
                engine = make_engine(url)
                prepare_database(engine)
                whole, db_side, raw, parts = [], [], [], []
                try:
                    with CityOSClient(config, client_secret="bench") as client:
                        sync(engine, client, events=False)  # the citizens, not timed
                        with engine.connect() as conn:
                            ids = dict(conn.execute(sa.select(Citizen.subject, Citizen.id)).all())
                        for round_ in range(rounds):
                            events = events_of(round_)
                            for start in range(0, n, 20_000):
                                client.post_events(events[start : start + 20_000])
                            timings: dict[str, float] = {}
                            result = sync(
                                engine, client, users=False, shelters=False, timings=timings
                            )
                            assert result.written.status_reports == n, result.summary()
                            raw_rows = [
                                {
                                    "idempotency_key": f"raw-{round_}-{i}",
                                    "citizen_id": ids[e["subject"]],
                                    "incident_id": None,
                                    "state": e["status"]["state"],
                                    "shelter_id": None,
                                    "message": None,
                                    "source": "city_os",
                                    "reported_at": dt.datetime.fromisoformat(e["at"]),
                                    "received_at": now,
                                }
                                for i, e in enumerate(events)
                            ]
                            raw.append(raw_rate(engine, raw_rows))
                            whole.append(n / sum(timings.values()))
                            db_side.append(n / timings["write_s"])
                            parts.append(timings)
                finally:
                    engine.dispose()
                    server.stop()
                baseline = statistics.median(raw)
                each = "; ".join(
                    f"round {i + 1}: whole {w:,.0f}/s, db side {d:,.0f}/s, raw {r:,.0f}/s "
                    f"(fetch {t['fetch_s']:.2f} s, prepare {t['prepare_s']:.2f} s, "
                    f"write {t['write_s']:.2f} s)"
                    for i, (w, d, r, t) in enumerate(zip(whole, db_side, raw, parts, strict=True))
                )
                results.append(
                    Result(
                        f"cityos.status_updates.whole_path.{backend}",
                        statistics.median(whole),
                        "rows/s",
                        baseline=baseline,
                        note=f"median of {rounds} rounds of {n:,} status updates each: city-OS "
                        f"feed over HTTP (pages of {PAGE:,}, real tokens) + consent check + "
                        f"one-transaction write; baseline = bare executemany of the same rows; "
                        f"{each}",
                    )
                )
                results.append(
                    Result(
                        f"cityos.status_updates.db_side.{backend}",
                        statistics.median(db_side),
                        "rows/s",
                        baseline=baseline,
                        note="median; the database write of the same syncs "
                        "(sql.cityos_store.apply_sync: idempotent insert + latest-status upsert + "
                        "audit, committed) vs bare executemany",
                    )
                )
    finally:
        provider.terminate()
        provider.wait(timeout=10)
    return results
