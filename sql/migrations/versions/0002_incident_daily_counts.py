"""incident daily counts (what retention keeps)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

``bosai retention apply`` deletes location fixes and safety messages some days after their
incident ended; the per-incident daily counts it keeps live here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_daily_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("updated_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_daily_counts")),
        sa.UniqueConstraint(
            "incident_key",
            "day",
            "measure",
            name=op.f("uq_incident_daily_counts_incident_key_day_measure"),
        ),
    )


def downgrade() -> None:
    op.drop_table("incident_daily_counts")
