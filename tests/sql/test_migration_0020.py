"""Migration 0020 (survey answers as one JSON object per response) moves every answer of a
database at 0019 into ``survey_responses.answers`` and back again on downgrade, on SQLite and
PostgreSQL: numbers to the last bit, texts as written, a response without answers empty."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from sql import migrate
from sql.queries import research

ANSWERS = [  # (response, item, number, text) as 0019 stored them
    (1, "ui_easy", 4.0, None),
    (1, "evac_minutes", 0.1 + 0.2, None),  # 0.30000000000000004: needs all 17 digits
    (1, "share_targets", None, "family;city"),
    (1, "comment", None, '「避難所」は"遠い" = 2km'),
    (2, "ui_easy", 2.0, None),
    (2, "evac_minutes", 1e-7, None),
]


def _at_0019_with_answers(engine) -> None:
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0019")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO survey_instruments (id, version, title_ja, definition, loaded_at) "
                "VALUES ('t', '1', '調査', '{}', '2026-12-07 00:00:00')"
            )
        )
        for response in (1, 2, 3):
            conn.execute(
                sa.text(
                    "INSERT INTO survey_responses (id, instrument_id, respondent_key, imported_at)"
                    " VALUES (:id, 't', :key, '2026-12-07 00:00:00')"
                ),
                {"id": response, "key": f"r{response}"},
            )
        conn.execute(
            sa.text("INSERT INTO survey_answers VALUES (:r, :i, :n, :t)"),
            [dict(zip("rint", row, strict=True)) for row in ANSWERS],
        )


def test_upgrade_moves_every_answer_and_downgrade_moves_them_back(engine):
    _at_0019_with_answers(engine)

    assert migrate.upgrade(engine) == migrate.head_revision()

    assert "survey_answers" not in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, answers FROM survey_responses")).all())
    assert json.loads(stored[1]) == {
        "comment": '「避難所」は"遠い" = 2km',
        "evac_minutes": 0.30000000000000004,
        "share_targets": "family;city",
        "ui_easy": 4.0,
    }
    assert stored[1] == json.dumps(  # as JSONText writes it: a re-import compares equal
        json.loads(stored[1]), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert json.loads(stored[2]) == {"evac_minutes": 1e-7, "ui_easy": 2.0}
    assert stored[3] == "{}"
    frame = research.survey_responses(engine, "t").set_index("respondent_key")
    assert frame.loc["r1", "evac_minutes"] == 0.1 + 0.2
    assert frame.loc["r2", "evac_minutes"] == 1e-7
    assert frame.loc["r1", "share_targets"] == "family;city"
    assert frame["ui_easy"].isna().sum() == 1  # r3 answered nothing

    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0019")
    with engine.connect() as conn:
        back = conn.execute(
            sa.text("SELECT * FROM survey_answers ORDER BY response_id, item_id")
        ).all()
        columns = [c["name"] for c in sa.inspect(conn).get_columns("survey_responses")]
    assert [tuple(row) for row in back] == sorted(ANSWERS, key=lambda r: (r[0], r[1]))
    assert "answers" not in columns
    assert migrate.upgrade(engine) == migrate.head_revision()
