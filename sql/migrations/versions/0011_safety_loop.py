"""the safety loop: shelter reception, safety observations, follow-ups, evacuation plans

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06

Issue 18. ``evacuee_stays`` (shelter check-ins, 在宅避難 and 車中泊) with a partial unique index
allowing one open stay per person and incident, ``walk_ins``, the append-only
``safety_observations`` (reception, supporter, family, rescue, follow-up, HQ), ``follow_ups``
with their history and an optimistic version, and ``evacuation_plans`` (個別避難計画).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evacuation_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column(
            "destination_kind",
            sa.Enum(
                "shelter",
                "welfare_shelter",
                "other",
                name="plan_destination",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("destination_shelter_id", sa.Integer(), nullable=True),
        sa.Column("destination_note", sa.String(length=200), nullable=True),
        sa.Column("supporters", sql.models.base.JSONText(), nullable=False),
        sa.Column(
            "transport",
            sa.Enum(
                "walk",
                "walk_with_help",
                "wheelchair",
                "car",
                "welfare_vehicle",
                "stretcher",
                name="plan_transport",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("transport_note", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_evacuation_plans_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["destination_shelter_id"],
            ["shelters.id"],
            name=op.f("fk_evacuation_plans_destination_shelter_id_shelters"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_plans")),
        sa.UniqueConstraint("citizen_id", name=op.f("uq_evacuation_plans_citizen_id")),
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "assigned",
                "reached_safe",
                "needs_help",
                "not_reached",
                name="follow_up_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "call",
                "visit",
                name="follow_up_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_follow_ups_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint(
            "incident_key", "citizen_id", name=op.f("uq_follow_ups_incident_key_citizen_id")
        ),
    )
    op.create_table(
        "walk_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=True),
        sa.Column(
            "age_band",
            sa.Enum(
                "0-14",
                "15-39",
                "40-64",
                "65-74",
                "75+",
                "unknown",
                name="walk_in_age_band",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("matched_citizen_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["matched_citizen_id"],
            ["citizens.id"],
            name=op.f("fk_walk_ins_matched_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_ins")),
    )
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_walk_ins_incident_key"), ["incident_key"], unique=False
        )

    op.create_table(
        "evacuee_stays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("walk_in_id", sa.Integer(), nullable=True),
        sa.Column(
            "place_kind",
            sa.Enum(
                "shelter",
                "home",
                "car",
                name="stay_place",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("shelter_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("party", sa.String(length=40), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "search",
                "qr",
                "walk_in",
                "household",
                "hq",
                "rescue",
                name="stay_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("arrived_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrived_by", sa.String(length=128), nullable=False),
        sa.Column("left_at", sql.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_by", sa.String(length=128), nullable=True),
        sa.Column(
            "end_reason",
            sa.Enum(
                "checked_out",
                "moved",
                name="stay_ending",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("moved_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_evacuee_stays_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
            name=op.f("fk_evacuee_stays_shelter_id_shelters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["walk_in_id"],
            ["walk_ins.id"],
            name=op.f("fk_evacuee_stays_walk_in_id_walk_ins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuee_stays")),
    )
    with op.batch_alter_table("evacuee_stays", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evacuee_stays_incident_shelter",
            ["incident_key", "shelter_id", "left_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_evacuee_stays_walk_in_id"), ["walk_in_id"], unique=False
        )
        batch_op.create_index(
            "uq_evacuee_stays_open_citizen",
            ["incident_key", "citizen_id"],
            unique=True,
            sqlite_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
            postgresql_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
        )

    op.create_table(
        "follow_up_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "open",
                "assigned",
                "reached_safe",
                "needs_help",
                "not_reached",
                name="follow_up_from",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "open",
                "assigned",
                "reached_safe",
                "needs_help",
                "not_reached",
                name="follow_up_to",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "call",
                "visit",
                name="follow_up_event_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_follow_up_events_follow_up_id_follow_ups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_events")),
    )
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_events_follow_up_id"), ["follow_up_id"], unique=False
        )

    op.create_table(
        "safety_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "reception",
                "supporter",
                "family",
                "rescue",
                "follow_up",
                "hq",
                name="observation_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "checked_in",
                "checked_out",
                "at_home",
                "in_car",
                "safe",
                "needs_help",
                "not_reached",
                name="observation_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("observed_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("shelter_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("stay_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_safety_observations_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_safety_observations_follow_up_id_follow_ups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
            name=op.f("fk_safety_observations_shelter_id_shelters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stay_id"],
            ["evacuee_stays.id"],
            name=op.f("fk_safety_observations_stay_id_evacuee_stays"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_observations")),
    )
    with op.batch_alter_table("safety_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_observations_incident_citizen", ["incident_key", "citizen_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_observations_incident_citizen")

    op.drop_table("safety_observations")
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_events_follow_up_id"))

    op.drop_table("follow_up_events")
    with op.batch_alter_table("evacuee_stays", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_evacuee_stays_open_citizen",
            sqlite_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
            postgresql_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_evacuee_stays_walk_in_id"))
        batch_op.drop_index("ix_evacuee_stays_incident_shelter")

    op.drop_table("evacuee_stays")
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_ins_incident_key"))

    op.drop_table("walk_ins")
    op.drop_table("follow_ups")
    op.drop_table("evacuation_plans")
