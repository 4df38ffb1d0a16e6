"""One bad record never stops the feed (issue 13, finding 2): the boundary checks of
``cityos.boundary`` on the real reference city OS into SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cityos.sync import sync
from dashboard.widgets import source_stale_text
from sql import cityos_store
from sql.models import Citizen, QuarantinedRecord, Shelter, StatusReport

from .conftest import consenting


def quarantined(engine) -> list[tuple]:
    t = QuarantinedRecord.__table__
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(t.c.kind, t.c.record_ref, t.c.reason, t.c.field).order_by(
                    t.c.kind, t.c.field
                )
            )
        ]


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(model).where(*where)
        ).scalar_one()


def test_a_nul_in_a_status_message_is_quarantined_and_the_sync_moves_past_it(
    engine, client, city_os
):
    """Before the fix a U+0000 in one citizen's status message failed every later sync into
    PostgreSQL (all or nothing, the cursor never moved) and went into SQLite as it was. Now the
    user record and the event carrying it are quarantined (reason, field, position; not the
    value), everything else is written, the cursor advances and the feed is not stale; a repeat
    adds no duplicate; the corrected record is taken in and leaves the quarantine."""
    state = city_os.state
    subject = consenting(state, "basic_info", "safety_status")[0]
    sync(engine, client)
    client.set_status(subject, "safe_at_home", message="無事です\x00'); DROP TABLE citizens;--")
    before = count(engine, StatusReport)

    result = sync(engine, client)

    assert result.quarantined == 2
    assert quarantined(engine) == [
        ("event", str(len(state.events)), "control_character", "status.message"),
        ("user", subject, "control_character", "safety_status.message"),
    ]
    health = cityos_store.source_health(engine, client.config.source_name)
    assert health["stale"] is False and health["last_error"] is None
    assert health["details"]["cursor"]["last_event_id"] == len(state.events)
    assert count(engine, StatusReport) == before  # the bad message was not written
    with engine.connect() as conn:
        positions = conn.execute(sa.select(QuarantinedRecord.position)).scalars().all()
    assert sorted(positions)[0].startswith("events after=")
    # Nothing new: a repeat neither fails nor adds the same record twice.
    sync(engine, client)
    assert len(quarantined(engine)) == 2
    # The citizen corrects the message: the user record comes in and is released.
    client.set_status(subject, "safe_at_home", message="無事です")
    sync(engine, client)
    assert [q[0] for q in quarantined(engine)] == ["event"]
    with engine.connect() as conn:
        message = conn.execute(
            sa.select(StatusReport.message)
            .join(Citizen, Citizen.id == StatusReport.citizen_id)
            .where(Citizen.subject == subject)
            .order_by(StatusReport.id.desc())
        ).scalar()
    assert message == "無事です"


def test_a_name_longer_than_its_column_and_a_wrong_type_are_quarantined(engine, client, city_os):
    """Before the fix a shelter name over 200 characters was cut silently (SQLite) or failed
    the whole sync (a wrong type failed the whole page). Now each goes to quarantine naming
    the field, and every other shelter and citizen is written."""
    state = city_os.state
    long_one, wrong_type = sorted(state.shelters)[:2]
    state.shelters[long_one]["name"] = "避" * 201
    state.shelters[wrong_type]["capacity"] = "many"

    result = sync(engine, client)

    assert quarantined(engine) == [
        ("shelter", wrong_type, "invalid_field", "capacity"),
        ("shelter", long_one, "too_long", "name"),
    ]
    assert result.quarantined == 2
    assert count(engine, Shelter) == len(state.shelters) - 2
    assert count(engine, Citizen) == len(state.users)
    assert not cityos_store.source_health(engine, client.config.source_name)["stale"]


def test_the_stale_banner_shows_a_short_translated_reason_never_the_driver_text(engine):
    """Before the fix the banner showed ``last_error`` — the driver's message with its SQL and
    the data — to every role. Now it shows the error kind, translated."""
    driver_text = 'psycopg.errors.CharacterNotInRepertoire: INSERT INTO status_reports ("message")'
    cityos_store.mark_failed(engine, "city-os", driver_text, kind="write")
    source = cityos_store.source_health(engine, "city-os")
    assert source["last_error"] == driver_text  # kept for the CLI and logs
    ja = source_stale_text("ja", source)
    en = source_stale_text("en", source)
    assert "データベースへの書き込みに失敗しました" in ja and "writing to the database failed" in en
    for text in (ja, en):
        assert "INSERT" not in text and "psycopg" not in text
    # An old row without a kind reads as an unknown error, never as its text.
    cityos_store.mark_failed(engine, "old", driver_text, now=dt.datetime.now(dt.UTC))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE source_health SET error_kind = NULL"))
    assert "INSERT" not in source_stale_text("ja", cityos_store.source_health(engine, "old"))


def test_a_consent_from_the_future_is_quarantined_at_the_boundary(engine, client, city_os):
    """Issue 13, finding 13: before the fix a city-OS 'given' dated an hour ahead went into
    the ledger and outranked a withdrawal made now. Now the user record carrying it is
    quarantined (``future_time``, naming the consent) and the rest of the sync is written."""
    state = city_os.state
    subject = consenting(state, "basic_info")[0]
    user = state.users[subject]
    record = user.consents[("basic_info", "city_hq")]
    record.occurred_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    result = sync(engine, client)

    assert result.quarantined == 1
    ((kind, ref, reason, field),) = quarantined(engine)
    assert (kind, ref, reason) == ("user", subject, "future_time")
    assert field.startswith("consents.") and field.endswith(".occurred_at")
    assert count(engine, Citizen) == len(state.users) - 1
