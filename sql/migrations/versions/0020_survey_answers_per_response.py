"""survey answers: one JSON object per response instead of one row per answer

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Issue 16's upload bench. ``survey_responses`` gains ``answers`` (JSON text, ``{item id: number
or text}``, keys sorted, as ``JSONText`` writes it) and ``survey_answers`` goes: an import of
10,000 responses × 40 items writes 10,000 rows instead of 410,000, and the survey page reads
them back as they are instead of gathering 400,000 rows per response. Every answer is either a
number or a text (``surveys.parse.parse_value``), so the object loses nothing; the upgrade
moves each response's answers into it and the downgrade moves them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BATCH = 2_000

responses = sa.table(
    "survey_responses", sa.column("id", sa.Integer()), sa.column("answers", sa.Text())
)
answers = sa.table(
    "survey_answers",
    sa.column("response_id", sa.Integer()),
    sa.column("item_id", sa.String()),
    sa.column("value_num", sa.Float()),
    sa.column("value_text", sa.Text()),
)


def _json(value: dict[str, Any]) -> str:
    """As ``sql.models.base.JSONText`` writes it (kept here: a migration does not change)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _batches(rows: Iterator[Any]) -> Iterator[list[Any]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _answers_by_response(bind: sa.Connection) -> dict[int, dict[str, Any]]:
    gathered: dict[int, dict[str, Any]] = {}
    stmt = sa.select(
        answers.c.response_id, answers.c.item_id, answers.c.value_num, answers.c.value_text
    ).order_by(answers.c.response_id, answers.c.item_id)
    for response_id, item_id, number, text in bind.execute(stmt):
        gathered.setdefault(response_id, {})[item_id] = number if number is not None else text
    return gathered


def upgrade() -> None:
    bind = op.get_bind()
    # ALTER TABLE ADD COLUMN on every database: a batch copy of survey_responses on SQLite
    # would drop the old table, and its ON DELETE CASCADE would empty survey_answers first.
    op.add_column(
        "survey_responses",
        sa.Column("answers", sa.Text(), nullable=False, server_default=sa.text("'{}'")),
    )
    moved = [
        {"row_id": response_id, "answers": _json(values)}
        for response_id, values in _answers_by_response(bind).items()
    ]
    update = (
        sa.update(responses)
        .where(responses.c.id == sa.bindparam("row_id"))
        .values(answers=sa.bindparam("answers"))
    )
    for batch_rows in _batches(iter(moved)):
        bind.execute(update, batch_rows)
    op.drop_table("survey_answers")


def downgrade() -> None:
    bind = op.get_bind()
    stored = bind.execute(sa.select(responses.c.id, responses.c.answers)).all()
    # The column goes before survey_answers exists: SQLite's batch copy drops the old table,
    # which would cascade to survey_answers' rows.
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("answers")
    op.create_table(
        "survey_answers",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "item_id", name=op.f("pk_survey_answers")),
    )
    rows = (
        {
            "response_id": response_id,
            "item_id": item_id,
            "value_num": float(value) if _is_number(value) else None,
            "value_text": None if _is_number(value) else value,
        }
        for response_id, text in stored
        for item_id, value in json.loads(text or "{}").items()
    )
    for batch_rows in _batches(rows):
        bind.execute(sa.insert(answers), batch_rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
