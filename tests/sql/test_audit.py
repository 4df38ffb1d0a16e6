"""The audit log is a hash chain: any edit, deletion, insertion or reordering is found."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from sql import audit
from sql.engine import make_engine
from sql.models import AuditLog
from sql.viewer import Viewer
from tests.conftest import drop_audit_triggers

HQ = Viewer(role="hq", subject="staff-1", incident_id=None)


def fill(engine, n=5):
    for i in range(n):
        audit.record(
            engine, HQ, "read_rescue_queue", target="rescue_requests", citizen_ids=[i + 1, i + 2]
        )


def test_an_untouched_chain_verifies(engine):
    fill(engine)
    report = audit.verify(engine)
    assert report.ok and report.rows == 5


@pytest.mark.parametrize(
    "tamper, bad_id",
    [
        ("UPDATE audit_log SET actor = 'someone-else' WHERE id = 3", 3),
        ("DELETE FROM audit_log WHERE id = 2", 3),
        ("UPDATE audit_log SET purpose = 'curiosity' WHERE id = 5", 5),
    ],
)
def test_edits_and_deletions_are_detected_at_the_first_bad_row(engine, tamper, bad_id):
    fill(engine)
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql(tamper)
    report = audit.verify(engine)
    assert not report.ok and report.first_bad_id == bad_id


def test_an_inserted_row_is_detected(engine):
    fill(engine, 3)
    with engine.begin() as conn:
        row = conn.execute(sa.select(AuditLog).where(AuditLog.id == 2)).one()._asdict()
        row.update(id=10, actor="intruder", row_hash="f" * 64)
        conn.execute(sa.insert(AuditLog).values(**row))
    report = audit.verify(engine)
    assert not report.ok and report.first_bad_id == 10


def test_reordered_rows_are_detected(engine):
    fill(engine, 4)
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("UPDATE audit_log SET id = 100 WHERE id = 2")
        conn.exec_driver_sql("UPDATE audit_log SET id = 2 WHERE id = 3")
        conn.exec_driver_sql("UPDATE audit_log SET id = 3 WHERE id = 100")
    report = audit.verify(engine)
    assert not report.ok and report.first_bad_id == 2


def test_concurrent_writers_keep_one_chain(db_url):
    writers, per_writer = 4, 15
    errors: list[BaseException] = []

    def work(k: int) -> None:
        eng = make_engine(db_url)
        try:
            for i in range(per_writer):
                audit.record(eng, Viewer(role="hq", subject=f"w{k}"), "read", citizen_ids=[i])
        except BaseException as exc:
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = make_engine(db_url)
    report = audit.verify(engine)
    engine.dispose()
    assert report.ok and report.rows == writers * per_writer


def _process_writer(db_url: str, k: int, n: int) -> None:
    """One OS process appending through two write paths: reads audited by the policy's
    recorder and staff actions (each its own transaction with an audit row)."""
    from sql.actions.staff import add_staff

    eng = make_engine(db_url)
    try:
        admin = Viewer(role="admin", subject=f"admin-{k}")
        for i in range(n):
            audit.record(eng, Viewer(role="rescue", subject=f"p{k}"), "read", citizen_ids=[i])
            add_staff(eng, admin, f"p{k}-staff-{i}", f"職員 {k}-{i}", "council")
    finally:
        eng.dispose()


def test_concurrent_processes_keep_one_chain(db_url):
    import subprocess
    import sys

    from tests.conftest import ROOT

    processes, per_process = 3, 8
    # Separate interpreters (not multiprocessing: after AppTest ran in this process its
    # __main__ is the app script, which a spawned child would run again).
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.sql.test_audit import _process_writer; "
                "_process_writer(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))",
                db_url,
                str(k),
                str(per_process),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(processes)
    ]
    errors = [w.communicate(timeout=180)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * processes, errors
    engine = make_engine(db_url)
    report = audit.verify(engine)
    with engine.connect() as conn:
        links = conn.execute(sa.select(AuditLog.prev_hash)).scalars().all()
    engine.dispose()
    assert report.ok and report.rows == processes * per_process * 2
    assert len(set(links)) == len(links), "no two rows share a predecessor (no fork)"


# ------------------------------------------------------------------ append-only and anchored


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone-else' WHERE id = 3",
        "DELETE FROM audit_log WHERE id >= 4",
        "UPDATE audit_checkpoints SET last_id = 2",
        "DELETE FROM audit_checkpoints",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(engine, statement):
    """Issue 13, finding 10: before the fix any UPDATE or DELETE on the audit log went through
    (only ``verify`` could find it later). Now triggers on SQLite and PostgreSQL refuse it and
    nothing changes."""
    fill(engine)
    audit.write_checkpoint(engine, "test")
    before = audit.head_hash(engine)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert audit.head_hash(engine) == before
    assert audit.verify(engine).ok


def test_cutting_off_the_newest_rows_is_found_against_the_checkpoint(engine):
    """Issue 13, finding 10: before the fix deleting the newest rows left a chain that still
    verified. Now ``verify`` checks the chain against the newest keyed checkpoint and names the
    rows missing (here by someone who first dropped the triggers)."""
    fill(engine, 6)
    point = audit.write_checkpoint(engine, "test")
    assert point["last_id"] == 6 and point["row_count"] == 6
    report = audit.verify(engine)
    assert report.ok and report.checkpoint_id == point["id"]
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("DELETE FROM audit_log WHERE id >= 5")
    report = audit.verify(engine)
    assert not report.ok and report.missing == (5, 6) and report.first_bad_id == 5
    assert "2 rows missing" in report.reason and "rows 5–6 were deleted" in report.reason
    # Without the key (only the chain) the cut is not found: that is what the key is for.
    assert audit.verify(engine, key=None).ok


def test_a_forged_or_rolled_back_checkpoint_is_found(engine):
    """A checkpoint rewritten to match the shortened log fails its HMAC (the key is outside
    the database); rows appended after the checkpoint are fine."""
    fill(engine, 4)
    point = audit.write_checkpoint(engine, "test")
    fill(engine, 2)  # later rows: still intact
    assert audit.verify(engine).ok
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("DELETE FROM audit_log WHERE id >= 3")
        head = conn.exec_driver_sql("SELECT row_hash FROM audit_log WHERE id = 2").scalar()
        conn.execute(
            sa.text(
                "UPDATE audit_checkpoints SET last_id = 2, row_count = 2, head_hash = :h "
                "WHERE id = :i"
            ),
            {"h": head, "i": point["id"]},
        )
    report = audit.verify(engine)
    assert not report.ok and "does not carry a valid HMAC" in report.reason


def test_the_periodic_checkpoint_is_written_only_when_due_and_the_log_grew(engine):
    """The sync (every 30 s) anchors the head every ten minutes, not on every run."""
    import datetime as dt

    fill(engine, 2)
    first = audit.write_checkpoint_if_due(engine, "schedule")
    assert first is not None and first["last_id"] == 2
    fill(engine, 1)
    assert audit.write_checkpoint_if_due(engine, "schedule") is None  # not yet due
    later = audit.write_checkpoint_if_due(engine, "schedule", every=dt.timedelta(0))
    assert later is not None and later["last_id"] == 3
    assert audit.write_checkpoint_if_due(engine, "schedule", every=dt.timedelta(0)) is None
