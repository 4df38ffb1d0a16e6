"""latest status indexed by incident, state and shelter (the shelter board at scale)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The shelter board counts, per shelter, the citizens whose latest status is ``at_shelter`` or
``evacuating`` towards it. With ``(incident_key, state, shelter_id)`` PostgreSQL answers that
from the index alone (an index-only scan; 1.2 million citizens: see docs/SCALING.md). The new
index replaces ``(incident_key, state)``, which is its prefix, so the ingest still maintains
one index on this table besides the primary key.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_latest_status", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citizen_latest_status_incident_state_shelter",
            ["incident_key", "state", "shelter_id"],
            unique=False,
        )
        batch_op.drop_index("ix_citizen_latest_status_incident_state")


def downgrade() -> None:
    with op.batch_alter_table("citizen_latest_status", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citizen_latest_status_incident_state", ["incident_key", "state"], unique=False
        )
        batch_op.drop_index("ix_citizen_latest_status_incident_state_shelter")
