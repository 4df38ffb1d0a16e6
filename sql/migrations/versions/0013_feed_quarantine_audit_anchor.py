"""feed quarantine, short error kinds for the banners; the audit log append-only and anchored

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06

Issue 13 (findings 2 and 10). ``quarantined_records`` holds city-OS records that failed the
boundary checks (reason, field, position in the feed; never the values), so one bad record no
longer stops the sync; ``source_health.error_kind`` is the short reason a stale-feed banner
translates instead of showing the driver's text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantined_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_ref", sa.String(length=80), nullable=True),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("received_at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_records")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_quarantined_records_fingerprint")),
    )
    op.create_index(
        op.f("ix_quarantined_records_source"), "quarantined_records", ["source"], unique=False
    )
    # A plain ADD COLUMN on both databases (no copy-and-move of the table on SQLite).
    op.add_column("source_health", sa.Column("error_kind", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE source_health DROP COLUMN error_kind")
    op.drop_index(op.f("ix_quarantined_records_source"), table_name="quarantined_records")
    op.drop_table("quarantined_records")
