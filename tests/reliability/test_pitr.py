"""Point-in-time recovery on a real PostgreSQL server of our own: continuous WAL archiving, a
base backup, good writes, then a bad action (every open shelter closed by mistake); the
restore replays the archive to the moment before it and the database is exactly as it was —
same content hash, the audit chain verifies and ends where it ended then."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from bosai.cli import main
from cityos.reference_server.runner import free_port
from sql import audit, replication
from sql.actions.shelters import close_shelter
from sql.content_hash import content_hash
from sql.engine import make_engine
from sql.ingest import ingest_status_reports
from sql.models import Citizen, ShelterOperation
from sql.viewer import Viewer

pytestmark = pytest.mark.pg

HQ = Viewer(role="hq", subject="hq-pitr-test")


def test_restore_to_the_moment_before_a_bad_action(pg_pair, capsys):
    from deploy.pg_nodes import PgNode

    url, _ = pg_pair.new_database()
    database = url.rsplit("/", 1)[1]
    assert main(["--database-url", url, "demo", "--citizens", "300"]) == 0
    engine = make_engine(url)
    base = pg_pair.primary.base_backup(pg_pair.workdir / f"base-{uuid.uuid4().hex[:6]}")
    # Good writes after the base backup: they come back from the WAL archive.
    with engine.connect() as conn:
        citizen = conn.execute(sa.select(sa.func.min(Citizen.id))).scalar_one()
    now = dt.datetime.now(dt.UTC)
    reports = [
        {
            "idempotency_key": f"pitr:{i}",
            "citizen_id": citizen,
            "incident_id": 1,
            "state": "at_shelter",
            "source": "app",
            "reported_at": now,
        }
        for i in range(100)
    ]
    assert ingest_status_reports(engine, reports).inserted == 100
    audit.record(engine, HQ, "test:good-write")
    good_hash, good_head = content_hash(engine), audit.head_hash(engine)
    target = replication.server_now(engine)
    # The bad action: every open shelter closed by mistake (audited, as every staff action).
    op = ShelterOperation.__table__
    with engine.connect() as conn:
        open_ids = conn.execute(sa.select(op.c.shelter_id).where(op.c.closed_at.is_(None))).all()
    assert open_ids
    for (shelter_id,) in open_ids:
        close_shelter(engine, HQ, shelter_id, 1, "mistake")
    assert content_hash(engine) != good_hash
    replication.archive_now(engine)
    engine.dispose()

    restored_dir = pg_pair.workdir / "restored"
    port = free_port()
    restored = PgNode(restored_dir, port, "restored")
    try:
        args = ["replica", "restore", "--base", str(base), "--archive", str(pg_pair.archive)]
        args += ["--data-dir", str(restored_dir), "--port", str(port), "--database", database]
        assert main([*args, "--to-time", target.isoformat()]) == 0
        said = capsys.readouterr().out
        assert f"content hash {good_hash}" in said and "verified" in said
        back = make_engine(restored.url(database))
        try:
            assert content_hash(back) == good_hash
            chain = audit.verify(back)
            assert chain.ok and audit.head_hash(back) == good_head
            with back.connect() as conn:
                still_open = conn.execute(
                    sa.select(sa.func.count()).select_from(op).where(op.c.closed_at.is_(None))
                ).scalar_one()
            assert still_open == len(open_ids)
        finally:
            back.dispose()
    finally:
        restored.remove()
