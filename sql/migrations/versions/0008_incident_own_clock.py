"""incidents.own_clock: a demo incident runs on its own clock

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-07

The demo's incident happened (synthetically) on a July night; actions taken on it months later
were stamped with the machine's clock, which stretched its replay and its council report to
December. An incident with ``own_clock`` reads "now" as its newest moment and stamps each action
one second after it (``sql/incident_clock.py``). The demo incident already loaded in a database
(``external_id`` ``demo:<seed>:incident``) gets the flag here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy-and-move) of ``incidents`` on SQLite
    # would drop the old table under foreign keys and cascade to every incident's data.
    op.add_column(
        "incidents",
        sa.Column("own_clock", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    incidents = sa.table(
        "incidents",
        sa.column("own_clock", sa.Boolean()),
        sa.column("is_synthetic", sa.Boolean()),
        sa.column("external_id", sa.String()),
    )
    op.execute(
        incidents.update()
        .where(incidents.c.is_synthetic.is_(True), incidents.c.external_id.like("demo:%:incident"))
        .values(own_clock=True)
    )


def downgrade() -> None:
    # SQLite ≥ 3.35 drops a column in place (no copy of the table, see upgrade()).
    op.execute("ALTER TABLE incidents DROP COLUMN own_clock")
