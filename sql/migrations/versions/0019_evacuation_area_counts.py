"""evacuation areas: all residents and households by the city's counts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Issue 17 item 1. ``evacuation_areas`` gains ``residents`` and ``households`` (non-negative,
NULL when the city gave no counts) and ``counts_source`` (e.g. 令和2年国勢調査), so the board
and the council report show everyone living in an area next to the opted-in citizens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evacuation_areas") as batch:
        batch.add_column(sa.Column("residents", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("households", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counts_source", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_evacuation_areas_residents"), "residents IS NULL OR residents >= 0"
        )
        batch.create_check_constraint(
            op.f("ck_evacuation_areas_households"), "households IS NULL OR households >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("evacuation_areas") as batch:
        batch.drop_constraint(op.f("ck_evacuation_areas_households"), type_="check")
        batch.drop_constraint(op.f("ck_evacuation_areas_residents"), type_="check")
        batch.drop_column("counts_source")
        batch.drop_column("households")
        batch.drop_column("residents")
