"""Streaming replication on two real PostgreSQL servers of our own: an acknowledged write is on
the standby when the commit returns, no write is acknowledged while the standby is away, and
reads are routed by purpose — aggregates to the replica, personal reads (audited) and writes to
the primary — with multi-host URLs that find the primary whichever host is named first."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from compositions.hq_map_state import HqMapCache, build_hq_state
from sql import audit, replication
from sql.city_config import active_city
from sql.engine import engine_for, make_engine, url_for
from sql.ingest import ingest_status_reports
from sql.models import Citizen, StatusReport
from sql.viewer import Viewer

pytestmark = pytest.mark.pg

HQ = Viewer(role="hq", subject="hq-replication-test")


def _reports(prefix: str, n: int, citizen_id: int) -> list[dict]:
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "idempotency_key": f"{prefix}:{i}",
            "citizen_id": citizen_id,
            "incident_id": 1,
            "state": "safe_at_home",
            "source": "app",
            "reported_at": now,
        }
        for i in range(n)
    ]


@pytest.fixture
def demo_pair(pg_pair):
    """A database with a small demo city on the pair: (primary engine, standby engine, URL)."""
    from bosai.cli import main

    url, standby_url = pg_pair.new_database()
    assert main(["--database-url", url, "demo", "--citizens", "300"]) == 0
    primary, standby = make_engine(url), make_engine(standby_url)
    yield primary, standby, url
    primary.dispose()
    standby.dispose()


def _count(engine, prefix: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(StatusReport)
            .where(StatusReport.idempotency_key.like(f"{prefix}:%"))
        ).scalar_one()


def test_an_acknowledged_write_is_on_the_standby_when_the_commit_returns(pg_pair, demo_pair):
    primary, standby, _ = demo_pair
    state = replication.node_state(primary)
    assert state.role == "primary"
    assert state.synchronous_commit == "remote_apply"
    assert [(s["name"], s["sync_state"]) for s in state.standbys] == [("node_b", "sync")]
    assert replication.node_state(standby).role == "standby"
    with primary.connect() as conn:
        citizen = conn.execute(sa.select(sa.func.min(Citizen.id))).scalar_one()
    for round_ in range(5):
        result = ingest_status_reports(primary, _reports(f"sync{round_}", 200, citizen))
        assert result.inserted == 200
        # Applied on the standby before the commit returned: no waiting, no polling.
        assert _count(standby, f"sync{round_}") == 200
    digest = audit.record(primary, HQ, "test:replicated")
    assert audit.contains_hash(standby, digest)
    assert audit.verify(standby).ok
    lag = replication.replica_lag(standby)
    assert lag is not None and lag >= 0
    assert replication.replica_lag(primary) is None


def test_no_write_is_acknowledged_while_the_synchronous_standby_is_away(pg_pair, demo_pair):
    primary, standby, _ = demo_pair
    with primary.connect() as conn:
        citizen = conn.execute(sa.select(sa.func.min(Citizen.id))).scalar_one()
    pg_pair.standby.stop()
    done = threading.Event()
    outcome: list = []

    def write() -> None:
        try:
            outcome.append(ingest_status_reports(primary, _reports("away", 10, citizen)).inserted)
        except Exception as exc:  # reported below
            outcome.append(exc)
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        # The commit waits for the standby: it is not acknowledged while the standby is down.
        assert not done.wait(3.0), f"acknowledged without the standby: {outcome}"
    finally:
        pg_pair.standby.start()
    assert done.wait(60), "the write did not complete once the standby was back"
    assert outcome == [10]
    assert _count(standby, "away") == 10


def test_reads_are_routed_by_purpose(pg_pair, demo_pair, monkeypatch):
    primary, _, url = demo_pair
    database = url.rsplit("/", 1)[1]
    # The primary URL names the standby first: target_session_attrs finds the primary.
    primary_url = pg_pair.both_hosts(database, "read-write", standby_first=True)
    replica = pg_pair.both_hosts(database, "prefer-standby", standby_first=True)
    monkeypatch.setenv("BOSAI_DATABASE_REPLICA_URL", replica)
    writes, reads = engine_for(primary_url), engine_for(primary_url, "aggregate")
    assert url_for(primary_url, "aggregate") != url_for(primary_url)
    assert replication.node_state(writes).role == "primary"
    assert replication.node_state(reads).role == "standby"
    # Without a replica configured, aggregates read the primary.
    monkeypatch.delenv("BOSAI_DATABASE_REPLICA_URL")
    assert url_for(primary_url, "aggregate") == url_for(primary_url)

    city = active_city(writes)
    before = audit.verify(writes).rows
    on_replica = build_hq_state(writes, HqMapCache(), HQ, 1, city, read_engine=reads)
    on_primary = build_hq_state(writes, HqMapCache(), HQ, 1, city)
    assert on_replica.kpis == on_primary.kpis
    assert on_replica.cells.equals(on_primary.cells)
    # The personal part went through the policy on the primary, audited there.
    assert audit.verify(writes).rows > before
    with pytest.raises(sa.exc.InternalError, match="read-only"):
        audit.record(reads, HQ, "test:written-to-a-replica")


def test_replica_commands(pg_pair, demo_pair, capsys):
    from bosai.cli import main

    _, _, url = demo_pair
    database = url.rsplit("/", 1)[1]
    both = pg_pair.both_hosts(database, "read-write")
    assert main(["--database-url", both, "replica", "status"]) == 0
    said = capsys.readouterr().out
    assert f":{pg_pair.primary.port}/{database}: primary" in said
    assert 'commits wait (remote_apply) for FIRST 1 ("node_b")' in said
    assert "standby node_b: streaming, sync" in said
    assert f":{pg_pair.standby.port}/{database}: standby" in said
    assert main(["--database-url", url, "replica", "sync", "--off"]) == 0
    assert replication.node_state(make_engine(url)).synchronous_standby_names == ""
    assert main(["--database-url", url, "replica", "sync", "node_b"]) == 0
    assert "commits wait (remote_apply) for node_b" in capsys.readouterr().out
    # Promoting a primary is refused with a clear message.
    assert main(["replica", "promote", url]) == 1
    assert "not a standby" in capsys.readouterr().err


def test_the_hq_map_reads_its_totals_from_the_replica_and_says_so(pg_pair, demo_pair, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    _, _, url = demo_pair
    database = url.rsplit("/", 1)[1]
    monkeypatch.setenv("BOSAI_DATABASE_URL", pg_pair.both_hosts(database, "read-write"))
    monkeypatch.setenv(
        "BOSAI_DATABASE_REPLICA_URL",
        pg_pair.both_hosts(database, "prefer-standby", standby_first=True),
    )
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("views/hq_map.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert (
        "集計は読み取り用の複製から表示しています（本番データベースからの遅れ 0.0 秒）" in captions
    )
    shown = {m.label: m.value for m in at.metric}
    assert shown["オプトイン市民"] == "300"


def test_backup_through_a_multi_host_url(pg_pair, demo_pair, tmp_path, capsys):
    from bosai.cli import main
    from sql.backup import read_manifest
    from sql.content_hash import content_hash

    primary, _, url = demo_pair
    both = pg_pair.both_hosts(url.rsplit("/", 1)[1], "read-write", standby_first=True)
    out = tmp_path / "bosai.tar"
    assert main(["--database-url", both, "backup", "--out", str(out)]) == 0
    assert read_manifest(out).content_hash == content_hash(primary)
