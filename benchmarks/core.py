"""The benchmark contract: results as ratios against a baseline measured in the same run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class Result:
    """One figure. ``ratio`` = value / baseline (what "×" means is in ``note``)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("value", "baseline", "ratio"):
            if isinstance(out[key], float):
                out[key] = round(out[key], 4)
        return out


@dataclasses.dataclass
class BenchContext:
    """What a benchmark may use: a scratch directory, a PostgreSQL server URL, the quick flag."""

    workdir: Path
    quick: bool = False
    pg_url: str | None = None

    def sqlite_url(self, name: str) -> str:
        path = self.workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"

    @contextmanager
    def pg_database(self, name: str) -> Iterator[str | None]:
        """A fresh PostgreSQL database for one benchmark (None when no server is configured)."""
        if not self.pg_url:
            yield None
            return
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        base = make_url(self.pg_url).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        db = f"bosai_bench_{name}_{os.getpid()}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
        except Exception:
            admin.dispose()
            yield None
            return
        try:
            yield base.set(database=db).render_as_string(hide_password=False)
        finally:
            from sql.engine import dispose_engines

            dispose_engines()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            admin.dispose()


#: The states a load run's synthetic status reports cycle through.
STATES = ("safe_at_home", "evacuating", "at_shelter", "elsewhere_safe", "injured", "needs_rescue")


def synthetic_report(
    key: str,
    i: int,
    citizens: int,
    incident_id: int | None,
    at: dt.datetime,
    message: str | None = None,
) -> dict[str, Any]:
    """The ``i``-th synthetic status report of a load run (idempotency ``key``): its citizen
    and state spread over ``i`` deterministically."""
    return {
        "idempotency_key": key,
        "citizen_id": 1 + (i * 7919) % citizens,
        "incident_id": incident_id,
        "state": STATES[(i * 31) % len(STATES)],
        "shelter_id": None,
        "message": message,
        "source": "app",
        "reported_at": at,
    }


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``fn()`` in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bosai-bench-") as tmp:
        yield Path(tmp)


def load_demo_city(url: str, citizens: int) -> None:
    """A migrated database at ``url`` holding the demo city of ``citizens`` citizens."""
    from drills.demo_city import DemoParams, generate
    from sql.city_config import active_city
    from sql.demo_store import load_demo
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(url)
    prepare_database(engine)
    demo = generate(DemoParams(citizens=citizens), active_city(engine))
    load_demo(engine, demo.tables, demo.params.as_meta())
    engine.dispose()
