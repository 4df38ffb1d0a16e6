"""feed quarantine, short error kinds for the banners; the audit log append-only and anchored

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06

Issue 13 (findings 2 and 10). ``quarantined_records`` holds city-OS records that failed the
boundary checks (reason, field, position in the feed; never the values), so one bad record no
longer stops the sync; ``source_health.error_kind`` is the short reason a stale-feed banner
translates instead of showing the driver's text. ``audit_log`` (and the new
``audit_checkpoints``: the chain's head keyed with HMAC under a key outside the database) become
append-only in the database: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sql.models.base

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


APPEND_ONLY = ("audit_log", "audit_checkpoints")


def append_only_ddl(dialect: str) -> list[str]:
    """Triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the audit tables."""
    if dialect == "postgresql":
        out = [
            """CREATE FUNCTION bosai_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$"""
        ]
        for table in APPEND_ONLY:
            out += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION bosai_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bosai_append_only()",
            ]
        return out
    out = []
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )
    return out


def drop_append_only_ddl(dialect: str) -> list[str]:
    if dialect == "postgresql":
        out = []
        for table in APPEND_ONLY:
            out += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        return [*out, "DROP FUNCTION IF EXISTS bosai_append_only()"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{action}"
        for table in APPEND_ONLY
        for action in ("update", "delete")
    ]


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
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sql.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("audit_checkpoints")
    op.execute("ALTER TABLE source_health DROP COLUMN error_kind")
    op.drop_index(op.f("ix_quarantined_records_source"), table_name="quarantined_records")
    op.drop_table("quarantined_records")
