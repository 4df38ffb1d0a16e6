"""evacuation triggers from JMA telegrams: 土砂災害警戒情報 and 指定河川洪水予報

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Issue 17. ``evacuation_triggers``: one row per telegram and subject (a municipality for a
landslide alert, a river for a flood forecast), so the city's rules can propose levels from
them and a re-import of the same telegram changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evacuation_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("subject_name", sa.String(length=100), nullable=True),
        sa.Column("kind_code", sa.String(length=8), nullable=False),
        sa.Column("forecast", sa.String(length=32), nullable=True),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("report_time", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("info_type", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("received_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('landslide_warning', 'flood_forecast')",
            name=op.f("ck_evacuation_triggers_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_triggers")),
        sa.UniqueConstraint(
            "content_sha256",
            "subject_code",
            name=op.f("uq_evacuation_triggers_content_sha256_subject_code"),
        ),
    )
    op.create_index(
        "ix_evacuation_triggers_subject_report",
        "evacuation_triggers",
        ["kind", "subject_code", "report_time"],
    )


def downgrade() -> None:
    op.drop_index("ix_evacuation_triggers_subject_report", table_name="evacuation_triggers")
    op.drop_table("evacuation_triggers")
