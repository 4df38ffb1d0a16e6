"""Crashes: the ingest, a shelter import and a city-OS sync killed with SIGKILL at seeded random
moments (5 each here; ``python -m benchmarks.crash_harness run`` does 20), on a real SQLite file
and a real PostgreSQL database. After the kill nothing is half-written and every batch the
ingest reported committed is there; after the restart and a re-run the content equals an
uninterrupted run's, every update exactly once (content checks, see benchmarks/crash_harness)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from benchmarks import crash_harness as harness
from sql.engine import make_engine
from sql.ingest import ingest_status_reports
from sql.models import CitizenLatestStatus, StatusReport
from tests.conftest import PG_URL

SIZES = harness.Sizes(
    reports=3_000, batch=100, citizens=300, shelters=1_000, cityos_citizens=200, events=1_000
)
KILLS = 5


@pytest.mark.parametrize("victim", harness.VICTIMS)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_killed_at_random_points_nothing_is_lost_or_half_written(
    backend, victim, request, tmp_path
):
    if backend == "postgresql":
        request.getfixturevalue("pg_server")  # skips (or fails under CI) without PostgreSQL
    outcomes, durations = harness.exercise(
        backend, (victim,), KILLS, 20220311, SIZES, tmp_path, PG_URL
    )
    assert len(outcomes) == KILLS and durations[victim] > 0
    assert {o.victim for o in outcomes} == {victim}


# ------------------------------------------------------------------ the checks can fail


def _reports(first: int, last: int) -> list[dict]:
    return [harness.status_report(i, SIZES.citizens) for i in range(first, last)]


def test_a_half_written_batch_is_caught(sqlite_url):
    harness.add_citizens(sqlite_url, SIZES.citizens)
    engine = make_engine(sqlite_url)
    ingest_status_reports(engine, _reports(0, 250))  # batches 0 and 1, and half of batch 2
    with pytest.raises(harness.CrashCheckFailed, match="batch 2 half-written"):
        harness.check_ingest_after_kill(sqlite_url, SIZES, committed=[0, 1])
    engine.dispose()


def test_a_batch_reported_committed_but_missing_is_caught(sqlite_url):
    harness.add_citizens(sqlite_url, SIZES.citizens)
    engine = make_engine(sqlite_url)
    ingest_status_reports(engine, _reports(0, 200))
    assert harness.check_ingest_after_kill(sqlite_url, SIZES, committed=[0, 1]) == 2
    with pytest.raises(harness.CrashCheckFailed, match=r"reported committed but not stored: \[2\]"):
        harness.check_ingest_after_kill(sqlite_url, SIZES, committed=[0, 1, 2])
    engine.dispose()


def test_altered_content_and_a_wrong_latest_status_are_caught(sqlite_url):
    harness.add_citizens(sqlite_url, SIZES.citizens)
    engine = make_engine(sqlite_url)
    ingest_status_reports(engine, _reports(0, 100))
    sr = StatusReport.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(sr).where(sr.c.idempotency_key == "crash:7").values(state="injured"))
    with pytest.raises(harness.CrashCheckFailed, match="crash:7 differs from what was sent"):
        harness.check_ingest_after_kill(sqlite_url, SIZES, committed=[0])
    with engine.begin() as conn:
        conn.execute(
            sa.update(sr)
            .where(sr.c.idempotency_key == "crash:7")
            .values(state=harness.status_report(7, SIZES.citizens)["state"])
        )
        ls = CitizenLatestStatus.__table__
        citizen = 1 + (7 * 7919) % SIZES.citizens
        held = conn.execute(sa.select(ls.c.state).where(ls.c.citizen_id == citizen)).scalar_one()
        other = next(s for s in harness.STATES if s != held)
        conn.execute(sa.update(ls).where(ls.c.citizen_id == citizen).values(state=other))
    with pytest.raises(harness.CrashCheckFailed, match="latest status disagrees"):
        harness.check_ingest_after_kill(sqlite_url, SIZES, committed=[0])
    engine.dispose()


def test_canonical_content_ignores_ids_but_not_facts(tmp_path, sqlite_template):
    import shutil

    urls = []
    for name, order in (("a", range(0, 100)), ("b", reversed(range(0, 100)))):
        path = tmp_path / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
        harness.add_citizens(url, SIZES.citizens)
        engine = make_engine(url)
        for i in order:  # the same reports, stored in another order: other ids
            ingest_status_reports(engine, _reports(i, i + 1))
        engine.dispose()
        urls.append(url)
    a, b = (harness._content(u) for u in urls)
    assert a == b
    engine = make_engine(urls[1])
    with engine.begin() as conn:
        conn.execute(
            sa.update(StatusReport.__table__)
            .where(StatusReport.idempotency_key == "crash:3")
            .values(reported_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        )
    engine.dispose()
    changed = harness._content(urls[1])
    assert "status_reports" in harness.differing(changed, a)
