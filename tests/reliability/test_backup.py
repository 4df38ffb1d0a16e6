"""``bosai backup`` / ``bosai restore`` on a real SQLite file and a real PostgreSQL/PostGIS
database: the round trip is identical by content hash, the audit chain still verifies, a
database holding data is never overwritten without --force, a backup from a newer schema or a
damaged file is refused and changes nothing, an older backup is migrated, and a backup taken
while the ingest writes is one consistent snapshot."""

from __future__ import annotations

import datetime as dt
import tarfile
import threading

import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql import audit, migrate
from sql.backup import read_manifest, tables_with_rows
from sql.content_hash import content_hash
from sql.engine import make_engine
from sql.ingest import ingest_status_reports
from sql.models import Citizen, StatusReport
from sql.setup import prepare_database
from sql.viewer import Viewer

HQ = Viewer(role="hq", subject="hq-backup-test")


def _bosai(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


@pytest.fixture
def target_url(db_url, request, tmp_path) -> str:
    """A second database on the same backend, never migrated (restore builds everything)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.sqlite'}"
    return request.getfixturevalue("pg_server").new_database(migrated=False)


@pytest.fixture
def source(db_url) -> str:
    """A demo city with a few audited actions (so the chain has links to check)."""
    assert _bosai(db_url, "demo", "--citizens", "300") == 0
    engine = make_engine(db_url)
    for i in range(5):
        audit.record(engine, HQ, "view:citizen", target=f"citizen:{i + 1}", citizen_ids=[i + 1])
    engine.dispose()
    return db_url


def _hash_and_chain(url: str) -> tuple[str, audit.ChainReport]:
    engine = make_engine(url)
    try:
        return content_hash(engine), audit.verify(engine)
    finally:
        engine.dispose()


def test_round_trip_is_identical_and_the_audit_chain_verifies(source, target_url, tmp_path):
    file = tmp_path / "city.bosai"
    assert _bosai(source, "backup", "--out", str(file)) == 0
    # The backup anchors the audit head first (issue 13.10): the checkpoint is in the backup.
    before, chain = _hash_and_chain(source)
    assert chain.ok and chain.rows == 5 and chain.checkpoint_id is not None
    manifest = read_manifest(file)
    assert manifest.content_hash == before
    assert manifest.schema_revision == migrate.head_revision()
    assert manifest.counts["citizens"] == 300 and manifest.audit_rows == 5

    assert _bosai(target_url, "restore", str(file)) == 0
    after, restored_chain = _hash_and_chain(target_url)
    assert after == before
    assert restored_chain.ok and restored_chain.rows == 5
    # The restored database is a working one: new audit rows extend the restored chain.
    engine = make_engine(target_url)
    audit.record(engine, HQ, "view:citizen", target="citizen:9", citizen_ids=[9])
    assert audit.verify(engine).ok and audit.verify(engine).rows == 6
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            near = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM citizens WHERE ST_DWithin(home_geog, "
                    "ST_MakePoint(139.93, 37.495)::geography, 50000)"
                )
            ).scalar_one()
        assert near > 0  # generated PostGIS columns came back with the data
    engine.dispose()


def test_restore_refuses_a_database_holding_data_unless_forced(
    source, target_url, tmp_path, capsys
):
    file = tmp_path / "city.bosai"
    assert _bosai(source, "backup", "--out", str(file)) == 0
    engine = make_engine(target_url)
    prepare_database(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen.__table__).values(
                id=1,
                subject="real-1",
                is_synthetic=False,
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
    held = content_hash(engine)
    capsys.readouterr()
    assert _bosai(target_url, "restore", str(file)) == 1
    err = capsys.readouterr().err
    assert "holds data (citizens 1)" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert content_hash(engine) == held
    assert _bosai(target_url, "restore", str(file), "--force") == 0
    assert content_hash(engine) == _hash_and_chain(source)[0]
    engine.dispose()


def test_a_backup_from_a_newer_schema_is_refused(source, target_url, tmp_path, capsys):
    engine = make_engine(source)
    with engine.begin() as conn:  # as if a newer Bosai Ops had migrated this database
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    file = tmp_path / "newer.bosai"
    assert _bosai(source, "backup", "--out", str(file)) == 0
    target = make_engine(target_url)
    prepare_database(target)
    before = content_hash(target)
    capsys.readouterr()
    assert _bosai(target_url, "restore", str(file), "--force") == 1
    err = capsys.readouterr().err
    assert "schema revision 9999" in err and "upgrade Bosai Ops" in err
    assert content_hash(target) == before and not tables_with_rows(target)
    target.dispose()


def test_an_older_backup_is_migrated_to_head(db_url, target_url, tmp_path):
    base = min(migrate.known_revisions())
    engine = make_engine(target_url)
    migrate.upgrade(engine, base)
    engine.dispose()
    file = tmp_path / "old.bosai"
    assert _bosai(target_url, "backup", "--out", str(file)) == 0
    assert read_manifest(file).schema_revision == base
    restored = db_url  # a database already at head, without data
    assert _bosai(restored, "restore", str(file)) == 0
    engine = make_engine(restored)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_damaged_and_foreign_files_are_refused(source, tmp_path, capsys):
    file = tmp_path / "city.bosai"
    assert _bosai(source, "backup", "--out", str(file)) == 0
    # The payload with one byte changed: the manifest's checksum catches it.
    unpacked = tmp_path / "unpacked"
    with tarfile.open(file) as tar:
        tar.extractall(unpacked, filter="data")
    payload = next(p for p in unpacked.iterdir() if p.name != "manifest.json")
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    damaged = tmp_path / "damaged.bosai"
    with tarfile.open(damaged, "w") as tar:
        tar.add(unpacked / "manifest.json", arcname="manifest.json")
        tar.add(payload, arcname=payload.name)
    before = _hash_and_chain(source)[0]
    capsys.readouterr()
    assert _bosai(source, "restore", str(damaged), "--force") == 2
    assert "checksum" in capsys.readouterr().err
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a backup")
    assert _bosai(source, "restore", str(foreign), "--force") == 2
    assert "not a Bosai Ops backup" in capsys.readouterr().err
    assert _bosai(source, "backup", "--out", str(file)) == 1  # never overwrites a file
    assert _hash_and_chain(source)[0] == before


def test_a_backup_taken_while_the_ingest_writes_is_one_snapshot(source, target_url, tmp_path):
    engine = make_engine(source)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(Citizen.id).order_by(Citizen.id)).scalars().all()
    stop = threading.Event()
    sent = 0

    def writer() -> None:
        nonlocal sent
        t0 = dt.datetime(2026, 7, 10, 3, tzinfo=dt.UTC)
        while not stop.is_set():
            batch = [
                {
                    "idempotency_key": f"online-{sent + i}",
                    "citizen_id": ids[(sent + i) % len(ids)],
                    "state": "evacuating",
                    "source": "app",
                    "reported_at": t0 + dt.timedelta(seconds=sent + i),
                }
                for i in range(200)
            ]
            ingest_status_reports(engine, batch)
            sent += len(batch)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while sent < 400:
            stop.wait(0.05)
        file = tmp_path / "online.bosai"
        assert _bosai(source, "backup", "--out", str(file)) == 0
    finally:
        stop.set()
        thread.join()
    manifest = read_manifest(file)
    # Restore proves the payload is exactly the snapshot the manifest describes.
    assert _bosai(target_url, "restore", str(file)) == 0
    restored = make_engine(target_url)
    with restored.connect() as conn:
        online = conn.execute(
            sa.select(sa.func.count())
            .select_from(StatusReport)
            .where(StatusReport.idempotency_key.like("online-%"))
        ).scalar_one()
    assert online > 0 and online % 200 == 0  # whole batches only
    assert sent > online  # the writer went on after the snapshot
    with restored.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(StatusReport)).scalar_one()
    assert total == manifest.counts["status_reports"]
    assert content_hash(restored) == manifest.content_hash
    restored.dispose()
    engine.dispose()
