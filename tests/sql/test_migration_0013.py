"""Migration 0013 (feed quarantine, error kinds, append-only audit tables, checkpoints) upgrades
a database at 0011 with its data on SQLite and PostgreSQL, and downgrades cleanly."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from sql import audit, migrate
from sql.viewer import Viewer

T = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def test_upgrade_from_0011_keeps_the_log_and_makes_it_append_only(engine):
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0011")
    assert migrate.current_revision(engine) == "0011"
    names = set(sa.inspect(engine).get_table_names())
    assert "quarantined_records" not in names and "audit_checkpoints" not in names
    for i in range(3):  # rows written before the upgrade (audit_log itself is unchanged)
        audit.record(engine, Viewer(role="hq", subject=f"before-{i}"), "read", at=T)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO source_health (source, stale, last_error) VALUES ('city-os', :s, 'x')"
            ),
            {"s": True},
        )

    assert migrate.upgrade(engine) == migrate.head_revision()

    assert audit.verify(engine).rows == 3
    with engine.connect() as conn:
        kind = conn.execute(sa.text("SELECT error_kind FROM source_health")).scalar()
    assert kind is None
    audit.record(engine, Viewer(role="hq", subject="after"), "read")
    point = audit.write_checkpoint(engine, "test")
    assert point["row_count"] == 4 and audit.verify(engine).ok
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0011")
    names = set(sa.inspect(engine).get_table_names())
    assert "quarantined_records" not in names and "audit_checkpoints" not in names
    with engine.begin() as conn:  # the triggers went with the downgrade
        conn.exec_driver_sql("UPDATE audit_log SET actor = actor")
    assert migrate.upgrade(engine) == migrate.head_revision()
