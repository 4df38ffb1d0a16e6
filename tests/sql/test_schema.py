"""The migrations build exactly the models' schema on SQLite and on PostgreSQL/PostGIS."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sql import migrate
from sql.engine import make_engine
from sql.models import Base, Citizen
from sql.spatial import GENERATED_COLUMNS


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)

    def generated(d):
        # PostGIS columns and their indexes are added by the migration on purpose.
        if d[0] == "remove_column":
            return (d[2], d[3].name) in GENERATED_COLUMNS
        if d[0] == "remove_index":
            return d[1].name.startswith("ix_") and any(
                d[1].name == f"ix_{t}_{c}" for t, c in GENERATED_COLUMNS
            )
        if d[0] == "remove_table":
            return d[1].name == "spatial_ref_sys"
        return False

    return [d for d in diffs if not generated(d)]


def test_migrations_match_models(engine):
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _diff(engine) == []


def test_every_model_table_exists(engine):
    names = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= names


@pytest.mark.pg
def test_postgis_generated_columns_and_gist_indexes(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen).values(
                subject="s1",
                home_lat=37.495,
                home_lon=139.93,
                created_at=dt.datetime.now(dt.UTC),
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
        text = conn.execute(sa.text("SELECT ST_AsText(home_geog) FROM citizens")).scalar_one()
        assert text == "POINT(139.93 37.495)"
        indexes = dict(
            conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"
                )
            ).all()
        )
    for table, column in GENERATED_COLUMNS:
        assert f"ix_{table}_{column}" in indexes


@pytest.mark.pg
def test_knn_query_uses_the_gist_index(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO shelters (name, lat, lon, source, is_synthetic, created_at, updated_at, "
                "hazard_flood, hazard_landslide, hazard_storm_surge, hazard_earthquake, hazard_tsunami, "
                "hazard_large_fire, hazard_inland_flood, hazard_volcano, is_emergency_site, "
                "is_designated_shelter, is_welfare_shelter) "
                "SELECT 'S' || g, 37.4 + g * 0.0001, 139.9 + g * 0.0001, 'test', true, now(), now(), "
                "true, true, false, true, false, true, true, false, true, true, false "
                "FROM generate_series(1, 5000) g"
            )
        )
        conn.execute(sa.text("ANALYZE shelters"))
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                sa.text(
                    "EXPLAIN SELECT id FROM shelters ORDER BY geog <-> "
                    "ST_SetSRID(ST_MakePoint(139.93, 37.495), 4326)::geography LIMIT 5"
                )
            )
        )
    assert "ix_shelters_geog" in plan


def test_sqlite_connection_settings(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_foreign_keys_are_enforced(engine):
    from sql.models import StatusReport

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(StatusReport).values(
                idempotency_key="k",
                citizen_id=999,
                state="safe_at_home",
                source="app",
                reported_at=dt.datetime.now(dt.UTC),
                received_at=dt.datetime.now(dt.UTC),
            )
        )


def test_check_constraints_reject_unknown_codes(engine):
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO incidents (kind, name_ja, declared_at, emergency_mode, is_synthetic) "
            "VALUES ('party', 'x', '2026-01-01 00:00:00', true, false)"
        )


def test_times_are_stored_utc_and_naive_times_refused(engine):
    jst = dt.timezone(dt.timedelta(hours=9))
    when = dt.datetime(2022, 3, 11, 14, 46, tzinfo=jst)
    with engine.begin() as conn:
        conn.execute(sa.insert(Citizen).values(subject="a", created_at=when, updated_at=when))
        back = conn.execute(sa.select(Citizen.created_at)).scalar_one()
    assert back == when and back.tzinfo is not None and back.utcoffset() == dt.timedelta(0)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen).values(
                subject="b", created_at=dt.datetime(2022, 3, 11), updated_at=when
            )
        )


def test_downgrade_to_nothing_and_up_again(db_url):
    engine = make_engine(db_url)
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    assert migrate.current_revision(engine) is None
    assert "citizens" not in sa.inspect(engine).get_table_names()
    assert migrate.upgrade(engine) == migrate.head_revision()
    engine.dispose()


def test_a_newer_schema_is_refused(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(migrate.SchemaTooNewError, match="newer version"):
        migrate.upgrade(sqlite_engine)
