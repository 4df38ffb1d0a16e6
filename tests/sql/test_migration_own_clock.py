"""Migration 0008 (``incidents.own_clock``) keeps every incident's data on both databases and
puts the demo incident already loaded on its own clock; it downgrades cleanly."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from sql import migrate

JULY = dt.datetime(2026, 7, 9, 19, 0, tzinfo=dt.UTC)


def test_upgrade_keeps_incident_data_and_flags_the_demo_incident(engine):
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0004")
    assert migrate.current_revision(engine) == "0004"
    with engine.begin() as conn:
        for key, external in ((1, "demo:20220311:incident"), (2, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO incidents (id, external_id, kind, name_ja, declared_at, "
                    "emergency_mode, is_synthetic) VALUES (:i, :e, 'real', 'x', :t, true, :s)"
                ),
                {"i": key, "e": external, "t": JULY, "s": key == 1},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO incident_activity (incident_id, at, action) "
                    "VALUES (:i, :t, 'incident_declared')"
                ),
                {"i": key, "t": JULY},
            )
        conn.execute(
            sa.text(
                "INSERT INTO citizens (id, subject, is_synthetic, created_at, updated_at) "
                "VALUES (1, 's-1', true, :t, :t)"
            ),
            {"t": JULY},
        )
        conn.execute(
            sa.text(
                "INSERT INTO status_reports (idempotency_key, citizen_id, incident_id, state, "
                "source, reported_at, received_at) VALUES ('k', 1, 1, 'safe_at_home', 'app', :t, :t)"
            ),
            {"t": JULY},
        )
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    with engine.connect() as conn:
        flags = conn.execute(sa.text("SELECT id, own_clock FROM incidents ORDER BY id")).all()
        activity = conn.execute(
            sa.text("SELECT incident_id FROM incident_activity ORDER BY incident_id")
        ).scalars()
        report = conn.execute(sa.text("SELECT incident_id FROM status_reports")).scalar_one()
    assert [(i, bool(f)) for i, f in flags] == [(1, True), (2, False)]
    assert list(activity) == [1, 2] and report == 1  # nothing cascaded away or set to NULL
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0004")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("incidents")}
        kept = conn.execute(sa.text("SELECT count(*) FROM incident_activity")).scalar_one()
    assert "own_clock" not in columns and kept == 2
