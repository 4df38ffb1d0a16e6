"""evacuation information by area: areas, river stations, water levels, issuances

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06

Issue 17. ``evacuation_areas`` (districts, 町字, hazard-based areas; WKB polygons like the
hazard zones, with a generated PostGIS ``geom`` column on PostgreSQL), ``river_stations`` with
their four thresholds, ``water_level_observations`` (one per station and time) and the
append-only ``evacuation_issuances`` (levels 3/4/5 issued and lifted, per area and decision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base
from sql import spatial

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "evacuation_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind", _enum(("district", "chocho", "hazard"), "evacuation_area_kind"), nullable=False
        ),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_areas")),
        sa.UniqueConstraint(
            "municipality_code", "code", name=op.f("uq_evacuation_areas_municipality_code_code")
        ),
    )
    op.create_table(
        "river_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_ja", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("river_ja", sa.String(length=100), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("standby_m", sa.Float(), nullable=False),
        sa.Column("caution_m", sa.Float(), nullable=False),
        sa.Column("judgement_m", sa.Float(), nullable=False),
        sa.Column("danger_m", sa.Float(), nullable=False),
        sa.Column("range_min_m", sa.Float(), nullable=False),
        sa.Column("range_max_m", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_river_stations")),
        sa.UniqueConstraint(
            "municipality_code", "code", name=op.f("uq_river_stations_municipality_code_code")
        ),
    )
    op.create_table(
        "water_level_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("level_m", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("received_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["river_stations.id"],
            name=op.f("fk_water_level_observations_station_id_river_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_water_level_observations")),
        sa.UniqueConstraint(
            "station_id",
            "observed_at",
            name=op.f("uq_water_level_observations_station_id_observed_at"),
        ),
    )
    op.create_table(
        "evacuation_issuances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("decision_key", sa.String(length=96), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("action", _enum(("issue", "lift"), "evacuation_action"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("previous_level", sa.Integer(), nullable=True),
        sa.Column("lifts_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trigger", sql.models.base.JSONText(), nullable=True),
        sa.Column("is_exercise", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "level IS NULL OR level IN (3, 4, 5)", name=op.f("ck_evacuation_issuances_level")
        ),
        sa.CheckConstraint(
            "previous_level IS NULL OR previous_level IN (3, 4, 5)",
            name=op.f("ck_evacuation_issuances_previous_level"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["evacuation_areas.id"],
            name=op.f("fk_evacuation_issuances_area_id_evacuation_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_evacuation_issuances_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lifts_id"],
            ["evacuation_issuances.id"],
            name=op.f("fk_evacuation_issuances_lifts_id_evacuation_issuances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_issuances")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_evacuation_issuances_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_evacuation_issuances_decision_key"),
        "evacuation_issuances",
        ["decision_key"],
        unique=False,
    )
    op.create_index(
        "ix_evacuation_issuances_incident_area",
        "evacuation_issuances",
        ["incident_id", "area_id", "id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, column, wkb in spatial.LATER_POLYGON_COLUMNS:
            spatial.add_polygon_column(op, table, column, wkb)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, _ in spatial.LATER_POLYGON_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
    op.drop_index("ix_evacuation_issuances_incident_area", table_name="evacuation_issuances")
    op.drop_index(op.f("ix_evacuation_issuances_decision_key"), table_name="evacuation_issuances")
    op.drop_table("evacuation_issuances")
    op.drop_table("water_level_observations")
    op.drop_table("river_stations")
    op.drop_table("evacuation_areas")
