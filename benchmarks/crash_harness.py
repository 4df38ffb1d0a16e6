"""Crash harness: SIGKILL the write paths at seeded random moments, restart, re-run, check content.

Three victims, each a real subprocess writing to a real database (SQLite file or PostgreSQL):

- ``ingest``: ``python -m benchmarks.crash_harness feed ...`` feeds deterministic status
  reports through :func:`sql.ingest.ingest_status_reports` in batches and prints
  ``committed <batch>`` after each batch is committed;
- ``import``: ``bosai import shelters FILE`` of a generated Digital Agency standard list;
- ``sync``: ``bosai cityos sync`` against the reference city OS (in this process, with a local
  OpenID Connect provider) holding users, shelters and a feed of events.

For each victim an uninterrupted *reference* run gives the expected content and its duration
``D``. Then, for each kill point ``t`` drawn from ``random.Random(seed)`` in ``[0, D)``: a fresh
database (a copy of the same starting point), the victim started, ``SIGKILL`` after ``t``,
and two content checks:

1. *after the kill* — nothing half-written: every table's canonical content (below) is either
   the starting point's or the reference's (import, sync: one transaction each); for the
   ingest, every batch is wholly there or wholly absent, every batch the victim reported
   committed is there, every stored report equals the report sent, and the derived latest
   status equals what the stored reports imply;
2. *after a re-run* to completion (the restart) — the content equals the reference's:
   every update exactly once.

The canonical content of a table is its rows without surrogate ids and wall-clock columns,
foreign keys replaced by the referenced row's canonical content, sorted — so two databases
that hold the same facts compare equal whatever ids their sequences handed out (PostgreSQL
sequences are not rolled back by a killed transaction). The audit chain must verify at every
step.

``python -m benchmarks.crash_harness run --kills 20`` runs the full soak (20 kill points per
victim on SQLite and PostgreSQL); the test suite runs 5 (``tests/reliability``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from benchmarks.core import STATES, synthetic_report

ROOT = Path(__file__).resolve().parents[1]
VICTIMS = ("ingest", "import", "sync")
T0 = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
#: Columns that hold when a row was written (or a surrogate id), not what it says.
VOLATILE_COLUMNS = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "received_at",
        "recorded_at",
        "imported_at",
        "loaded_at",
        "last_success_at",
        "last_attempt_at",
        "synced_at",
    }
)
#: The audit log is checked by verifying its chain (its rows carry wall-clock times); its
#: checkpoints (written by the sync when due) anchor whatever head the run had.
UNCOMPARED_TABLES = frozenset({"audit_log", "audit_checkpoints"})
BOSAI = [sys.executable, "-c", "import sys; from bosai.cli import main; sys.exit(main())"]


# ------------------------------------------------------------------ sizes


@dataclasses.dataclass(frozen=True)
class Sizes:
    reports: int = 20_000
    batch: int = 500
    citizens: int = 2_000
    shelters: int = 6_000
    cityos_citizens: int = 1_000
    events: int = 6_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            reports=6_000,
            batch=200,
            citizens=500,
            shelters=2_000,
            cityos_citizens=300,
            events=2_000,
        )


# ------------------------------------------------------------------ canonical content


def canonical_rows(engine: Engine) -> dict[str, list[str]]:
    """Every model table's canonical rows (see the module doc), as sorted JSON lines."""
    from sql.models import Base

    with engine.connect() as conn:
        by_id: dict[str, dict[Any, Any]] = {}

        def rows_of(name: str) -> list[tuple[Any, tuple]]:
            table = Base.metadata.tables[name]
            refs = {
                fk.parent.name: fk.column.table.name
                for fk in table.foreign_keys
                if fk.column.table.name != name
            }
            for ref in refs.values():
                if ref not in by_id:
                    by_id[ref] = dict(rows_of(ref))
            cols = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
            key = table.c.id if "id" in table.c else None
            stmt = sa.select(*([key] if key is not None else []), *cols)
            out = []
            for row in conn.execute(stmt):
                values = list(row)
                ident = values.pop(0) if key is not None else None
                canon = tuple(
                    by_id[refs[c.name]].get(v) if c.name in refs and v is not None else _plain(v)
                    for c, v in zip(cols, values, strict=True)
                )
                out.append((ident, canon))
            return out

        return {
            name: sorted(json.dumps(c, default=str, ensure_ascii=False) for _, c in rows_of(name))
            for name in sorted(Base.metadata.tables)
            if name not in UNCOMPARED_TABLES
        }


def canonical_content(engine: Engine) -> dict[str, str]:
    """SHA-256 per model table over its canonical rows."""
    return {
        name: hashlib.sha256("\n".join(rows).encode()).hexdigest()
        for name, rows in canonical_rows(engine).items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def differing(a: dict[str, list[str]], b: dict[str, list[str]]) -> str:
    """Which tables differ, with a row each side holds that the other does not."""
    out = []
    for name in sorted(a.keys() | b.keys()):
        left, right = set(a.get(name, [])), set(b.get(name, []))
        if left != right:
            only_a = sorted(left - right)[:1]
            only_b = sorted(right - left)[:1]
            out.append(f"{name} (here {only_a}, expected {only_b})")
    return "; ".join(out)


# ------------------------------------------------------------------ databases


class Databases:
    """Fresh copies of a starting point: a SQLite file copied, or a PostgreSQL template."""

    def __init__(self, backend: str, workdir: Path, pg_url: str | None):
        self.backend = backend
        self.workdir = workdir
        self.pg_url = pg_url
        self.count = 0
        self.created: list[str] = []
        self.template: str | None = None
        if backend == "postgresql":
            if not pg_url:
                raise ValueError("PostgreSQL runs need a server URL")
            base = make_url(pg_url).set(drivername="postgresql+psycopg")
            self.base = base
            self.admin = sa.create_engine(
                base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
            )
            self.prefix = f"bosai_crash_{os.getpid()}_{random.randrange(16**6):06x}"

    def start(self, prepare: Callable[[str], None]) -> None:
        """Build the starting point once (``prepare(url)`` gets a migrated database)."""
        from sql.engine import make_engine
        from sql.setup import prepare_database

        url = self._new("start")
        engine = make_engine(url)
        prepare_database(engine)
        engine.dispose()
        prepare(url)
        self.template = url
        if self.backend == "sqlite":
            engine = make_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()

    def copy(self) -> str:
        """A new database holding exactly the starting point."""
        assert self.template is not None
        if self.backend == "sqlite":
            source = Path(make_url(self.template).database or "")
            self.count += 1
            target = self.workdir / f"run{self.count}.sqlite"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        return self._new(f"r{len(self.created)}", template=make_url(self.template).database)

    def _new(self, tag: str, template: str | None = None) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / f'{tag}.sqlite'}"
        name = f"{self.prefix}_{tag}"
        from_template = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{from_template}')
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        if self.backend == "postgresql":
            with self.admin.connect() as conn:
                for name in reversed(self.created):
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin.dispose()


# ------------------------------------------------------------------ victims


def status_report(i: int, citizens: int) -> dict[str, Any]:
    """The ``i``-th report the ingest victim sends (deterministic; unique times per citizen)."""
    message = f"report {i}" if i % 5 == 0 else None
    at = T0 + dt.timedelta(seconds=i)
    return {**synthetic_report(f"crash:{i}", i, citizens, None, at, message), "received_at": T0}


def feed(url: str, reports: int, batch: int, citizens: int, first: int = 0) -> int:
    """The ingest victim: reports ``first..reports-1`` in batches, one transaction each; prints
    ``committed <batch>`` once a batch is committed. Returns how many were new."""
    from sql.engine import make_engine
    from sql.ingest import ingest_status_reports

    engine = make_engine(url)
    new = 0
    print("ready", flush=True)
    try:
        for start in range(first, reports, batch):
            rows = [status_report(i, citizens) for i in range(start, min(start + batch, reports))]
            new += ingest_status_reports(engine, rows, batch_size=batch).inserted
            print(f"committed {start // batch}", flush=True)
    finally:
        engine.dispose()
    return new


def add_citizens(url: str, citizens: int) -> None:
    """The ingest victim's starting point: citizens to report about."""
    from sql.bulk import bulk_insert
    from sql.engine import make_engine
    from sql.models import Citizen

    engine = make_engine(url)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            Citizen.__table__,
            [
                {
                    "id": i,
                    "subject": f"crash-{i}",
                    "is_synthetic": True,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for i in range(1, citizens + 1)
            ],
        )
    engine.dispose()


@dataclasses.dataclass
class Victim:
    """How to start one victim, and what its starting point is."""

    name: str
    command: Callable[[str], list[str]]
    env: dict[str, str]
    prepare: Callable[[str], None]
    #: The victim prints ``ready`` before it writes (kill points count from then).
    ready: bool = False


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "BOSAI_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


class CityOS:
    """A local OpenID Connect provider (subprocess) and the reference city OS (thread)."""

    CLIENT = "bosai-ops-crash"

    def __init__(self, citizens: int, events: int, workdir: Path):
        from cityos.identity_provider import spawn
        from cityos.reference_server.app import create_app
        from cityos.reference_server.population import build_state
        from cityos.reference_server.runner import ThreadedServer, free_port
        from cityos.reference_server.settings import ServerSettings

        port = free_port()
        self.provider = spawn(
            port,
            [{"client_id": self.CLIENT, "roles": ["cityos:read", "cityos:admin"]}],
            client_secret_env="BOSAI_CRASH_IDP_SECRET",
            env={"BOSAI_CRASH_IDP_SECRET": "crash"},
        )
        self.issuer = f"http://127.0.0.1:{port}"
        state = build_state(citizens, 20220311)
        self.server = ThreadedServer(
            create_app(ServerSettings(issuer=self.issuer, clients=(self.CLIENT,)), state)
        ).start()
        self.config = workdir / "cityos.yaml"
        self.config.write_text(
            "\n".join(
                [
                    "name: crash",
                    f"base_url: {self.server.url}",
                    "page_size: 500",
                    "http: {timeout_s: 60, retries: 1}",
                    f"auth: {{issuer: '{self.issuer}', client_id: {self.CLIENT}}}",
                ]
            ),
            encoding="utf-8",
        )
        self._post_events(state, events)

    def _post_events(self, state, n: int) -> None:
        from cityos.client import CityOSClient
        from cityos.config import load_config

        now = dt.datetime.now(dt.UTC)
        subjects = sorted(
            s for s, u in state.users.items() if u.allowed("safety_status", "city_hq", now)
        )
        events = [
            {
                "kind": "status",
                "subject": subjects[i % len(subjects)],
                "at": (
                    now - dt.timedelta(hours=1) + dt.timedelta(milliseconds=100 * i)
                ).isoformat(),
                "status": {"state": STATES[i % len(STATES)]},
            }
            for i in range(n)
        ]
        with CityOSClient(load_config(self.config), client_secret="crash") as client:
            for start in range(0, n, 5_000):
                client.post_events(events[start : start + 5_000])

    def env(self, url: str) -> dict[str, str]:
        return {**_env(url), "BOSAI_CITYOS_CLIENT_SECRET": "crash"}

    def close(self) -> None:
        self.server.stop()
        self.provider.terminate()
        try:
            self.provider.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.provider.kill()


def victims(sizes: Sizes, workdir: Path, city_os: CityOS | None) -> dict[str, Victim]:
    from benchmarks.bench_imports import write_standard_csv

    shelters_file = workdir / "shelters.csv"
    if not shelters_file.exists():
        write_standard_csv(shelters_file, sizes.shelters, seed=7)
    out = {
        "ingest": Victim(
            "ingest",
            lambda url: [
                sys.executable,
                "-m",
                "benchmarks.crash_harness",
                "feed",
                url,
                "--reports",
                str(sizes.reports),
                "--batch",
                str(sizes.batch),
                "--citizens",
                str(sizes.citizens),
            ],
            {},
            lambda url: add_citizens(url, sizes.citizens),
            ready=True,
        ),
        "import": Victim(
            "import",
            lambda url: [*BOSAI, "import", "shelters", str(shelters_file)],
            {},
            lambda url: None,
        ),
    }
    if city_os is not None:
        out["sync"] = Victim(
            "sync",
            lambda url: [*BOSAI, "cityos", "sync", "--config", str(city_os.config)],
            {"cityos": "1"},
            lambda url: None,
        )
    return out


# ------------------------------------------------------------------ running and killing


@dataclasses.dataclass
class Run:
    returncode: int | None
    #: From the start (or from the ``ready`` line, for a victim that prints one) to the exit.
    seconds: float
    committed: list[int]
    stderr: str


def start_and_kill(
    command: list[str], env: dict[str, str], kill_after: float | None, ready: bool = False
) -> Run:
    """Run ``command``; SIGKILL it ``kill_after`` seconds after it started — or after it
    printed ``ready`` (its interpreter and imports loaded), when ``ready`` — None: let it
    finish."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    committed: list[int] = []
    err: list[str] = []
    is_ready = threading.Event()
    ready_at = [began]

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("committed "):
                committed.append(int(line.split()[1]))
            elif line.strip() == "ready":
                ready_at[0] = time.perf_counter()
                is_ready.set()
        is_ready.set()

    def read_err() -> None:
        assert proc.stderr is not None
        err.append(proc.stderr.read())

    readers = [threading.Thread(target=read_out), threading.Thread(target=read_err)]
    for reader in readers:
        reader.start()
    if kill_after is None:
        proc.wait(timeout=900)
    else:
        if ready:
            is_ready.wait(timeout=120)
        try:
            proc.wait(timeout=max(0.0, kill_after - (time.perf_counter() - ready_at[0])))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    for reader in readers:
        reader.join()
    seconds = time.perf_counter() - (ready_at[0] if ready else began)
    return Run(proc.returncode, seconds, committed, "".join(err))


def _verify_chain(url: str) -> None:
    from sql import audit
    from sql.engine import make_engine

    engine = make_engine(url)
    try:
        report = audit.verify(engine)
    finally:
        engine.dispose()
    if not report.ok:
        raise CrashCheckFailed(f"audit chain broken at row {report.first_bad_id}: {report.reason}")


class CrashCheckFailed(AssertionError):
    pass


def check_ingest_after_kill(url: str, sizes: Sizes, committed: list[int]) -> int:
    """Nothing half-written by the killed ingest; returns how many batches were stored."""
    from sql.engine import make_engine
    from sql.models import CitizenLatestStatus, StatusReport

    engine = make_engine(url)
    sr = StatusReport.__table__
    ls = CitizenLatestStatus.__table__
    cols = [c for c in sr.columns if c.name not in ("id",)]
    try:
        with engine.connect() as conn:
            stored = {r.idempotency_key: r for r in conn.execute(sa.select(sr.c.id, *cols))}
            latest = {
                r.citizen_id: (r.state, r.report_key)
                for r in conn.execute(
                    sa.select(ls.c.citizen_id, ls.c.state, sr.c.idempotency_key.label("report_key"))
                    .join(sr, sr.c.id == ls.c.report_id)
                    .where(ls.c.incident_key == 0)
                )
            }
    finally:
        engine.dispose()
    per_batch: dict[int, int] = {}
    for key, row in stored.items():
        i = int(key.split(":")[1])
        sent = status_report(i, sizes.citizens)
        got = {c.name: getattr(row, c.name) for c in cols}
        if any(_plain(got[k]) != _plain(v) for k, v in sent.items()):
            raise CrashCheckFailed(f"report {key} differs from what was sent: {got} != {sent}")
        per_batch[i // sizes.batch] = per_batch.get(i // sizes.batch, 0) + 1
    for b, n in per_batch.items():
        expected = min(sizes.batch, sizes.reports - b * sizes.batch)
        if n != expected:
            raise CrashCheckFailed(f"batch {b} half-written: {n} of {expected} reports stored")
    missing = sorted(set(committed) - set(per_batch))
    if missing:
        raise CrashCheckFailed(f"batches reported committed but not stored: {missing[:10]}")
    newest: dict[int, tuple[dt.datetime, str, str]] = {}
    for key, row in stored.items():
        when = row.reported_at
        if row.citizen_id not in newest or when > newest[row.citizen_id][0]:
            newest[row.citizen_id] = (when, row.state, key)
    expected_latest = {c: (state, key) for c, (_, state, key) in newest.items()}
    if latest != expected_latest:
        wrong = [
            c
            for c in expected_latest.keys() | latest.keys()
            if latest.get(c) != expected_latest.get(c)
        ]
        raise CrashCheckFailed(
            f"latest status disagrees with the stored reports for citizens {wrong[:10]}"
        )
    return len(per_batch)


def rerun(victim: Victim, url: str, env: dict[str, str]) -> None:
    """The restart: the same command again, to completion."""
    run = start_and_kill(victim.command(url), env, None)
    if run.returncode != 0:
        raise CrashCheckFailed(
            f"{victim.name} re-run failed ({run.returncode}): {run.stderr[-500:]}"
        )


@dataclasses.dataclass
class KillOutcome:
    victim: str
    backend: str
    kill_after_s: float
    state_after_kill: str  # "start", "complete", "partial (k of n batches)"
    seconds: float


def kill_points(seed: int, victim: str, backend: str, duration: float, n: int) -> list[float]:
    rnd = random.Random(f"{seed}:{victim}:{backend}")
    return sorted(round(rnd.uniform(0.0, duration), 3) for _ in range(n))


def exercise(
    backend: str,
    names: tuple[str, ...],
    kills: int,
    seed: int,
    sizes: Sizes,
    workdir: Path,
    pg_url: str | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> tuple[list[KillOutcome], dict[str, float]]:
    """Kill each named victim at ``kills`` seeded points on ``backend``; raises
    :class:`CrashCheckFailed` on the first content check that fails. Returns the outcomes and
    each victim's uninterrupted duration."""
    outcomes: list[KillOutcome] = []
    durations: dict[str, float] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    city_os = CityOS(sizes.cityos_citizens, sizes.events, workdir) if "sync" in names else None
    try:
        all_victims = victims(sizes, workdir, city_os)
        for name in names:
            victim = all_victims[name]
            env_for = city_os.env if victim.env.get("cityos") else _env
            dbs = Databases(backend, workdir / f"{backend}-{name}", pg_url)
            dbs.workdir.mkdir(parents=True, exist_ok=True)
            try:
                dbs.start(victim.prepare)
                start_state = _content(dbs.template)
                reference_url = dbs.copy()
                ref = start_and_kill(
                    victim.command(reference_url), env_for(reference_url), None, victim.ready
                )
                if ref.returncode != 0:
                    raise CrashCheckFailed(f"{name} reference run failed: {ref.stderr[-800:]}")
                durations[name] = ref.seconds
                reference = _content(reference_url)
                _verify_chain(reference_url)
                # A re-run after a kill that came too late is a second run: it may only move
                # a cursor on (the city OS's revision), never add or change a fact.
                rerun(victim, reference_url, env_for(reference_url))
                finals = [reference, _content(reference_url)]
                dbs.drop(reference_url)
                log(f"{backend} {name}: reference run {ref.seconds:.1f} s")
                for after in kill_points(seed, name, backend, ref.seconds, kills):
                    url = dbs.copy()
                    began = time.perf_counter()
                    run = start_and_kill(victim.command(url), env_for(url), after, victim.ready)
                    _verify_chain(url)
                    if name == "ingest":
                        stored = check_ingest_after_kill(url, sizes, run.committed)
                        total = -(-sizes.reports // sizes.batch)
                        state = (
                            "start"
                            if stored == 0
                            else "complete"
                            if stored == total
                            else f"partial ({stored} of {total} batches)"
                        )
                    else:
                        now = _content(url)
                        if now == start_state:
                            state = "start"
                        elif now == reference:
                            state = "complete"
                        else:
                            raise CrashCheckFailed(
                                f"{name} killed after {after} s left a half-written database: "
                                f"{differing(now, reference)}"
                            )
                    rerun(victim, url, env_for(url))
                    _verify_chain(url)
                    final = _content(url)
                    if final not in finals:
                        raise CrashCheckFailed(
                            f"{name} killed after {after} s and re-run: "
                            f"{differing(final, reference)}"
                        )
                    dbs.drop(url)
                    outcome = KillOutcome(name, backend, after, state, time.perf_counter() - began)
                    outcomes.append(outcome)
                    log(f"{backend} {name}: killed at {after:.2f} s → {state}; re-run identical")
            finally:
                dbs.close()
    finally:
        if city_os is not None:
            city_os.close()
    return outcomes, durations


def _content(url: str | None) -> dict[str, list[str]]:
    from sql.engine import make_engine

    engine = make_engine(url)
    try:
        return canonical_rows(engine)
    finally:
        engine.dispose()


# ------------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash_harness")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("feed", help="the ingest victim (used by the harness)")
    f.add_argument("url")
    f.add_argument("--reports", type=int, required=True)
    f.add_argument("--batch", type=int, required=True)
    f.add_argument("--citizens", type=int, required=True)
    r = sub.add_parser("run", help="kill every victim at seeded points and check content")
    r.add_argument("--kills", type=int, default=20)
    r.add_argument("--seed", type=int, default=20220311)
    r.add_argument("--only", choices=VICTIMS, action="append")
    r.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    r.add_argument("--quick", action="store_true", help="smaller inputs")
    r.add_argument(
        "--pg-url",
        default=os.environ.get("BOSAI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args(argv)
    if args.command == "feed":
        feed(args.url, args.reports, args.batch, args.citizens)
        return 0
    sizes = Sizes.quick() if args.quick else Sizes()
    names = tuple(args.only or VICTIMS)
    total: list[KillOutcome] = []
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bosai-crash-") as tmp:
        for backend in args.backend or ("sqlite", "postgresql"):
            outcomes, durations = exercise(
                backend,
                names,
                args.kills,
                args.seed,
                sizes,
                Path(tmp) / backend,
                args.pg_url,
                log=lambda line: print(line, flush=True),
            )
            total.extend(outcomes)
            for name, seconds in durations.items():
                states = [o.state_after_kill for o in outcomes if o.victim == name]
                summary = {s: states.count(s) for s in sorted(set(states), key=states.index)}
                print(
                    f"{backend} {name}: {len(states)} kills over a {seconds:.1f} s run; after the "
                    f"kill: {json.dumps(summary, ensure_ascii=False)}; every re-run identical "
                    "to the uninterrupted run",
                    flush=True,
                )
    print(f"all {len(total)} kill points passed")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
