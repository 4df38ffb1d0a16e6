"""Consent is derived from the append-only ledger (ISO/IEC TS 27560-shaped)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from bosai.vocab import SHARE_TARGETS
from sql import consent
from sql.consent import ConsentFact, derive_current
from sql.models import Citizen, ConsentEvent

T0 = dt.datetime(2022, 3, 11, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def fact(event_id, kind, when, item="location", target="city_hq", expires=None, citizen=1):
    return ConsentFact(citizen, item, target, kind, when, expires, event_id)


def test_given_then_withdrawn_then_given_again():
    events = [fact(1, "given", T0), fact(2, "withdrawn", T0 + H), fact(3, "given", T0 + 2 * H)]
    key = (1, "location", "city_hq")
    assert derive_current(events, T0 - H) == {}
    assert derive_current(events, T0)[key] is True
    assert derive_current(events, T0 + 1.5 * H)[key] is False
    assert derive_current(events, T0 + 3 * H)[key] is True


def test_each_share_target_is_its_own_consent():
    events = [
        fact(1, "given", T0, item="safety_status", target="family"),
        fact(2, "given", T0, item="safety_status", target="neighbourhood"),
        fact(3, "withdrawn", T0 + H, item="safety_status", target="neighbourhood"),
    ]
    now = derive_current(events, T0 + 2 * H)
    assert now[(1, "safety_status", "family")] is True
    assert now[(1, "safety_status", "neighbourhood")] is False
    assert (1, "safety_status", "friends") not in now


def test_expiry_ends_a_given_consent_without_any_new_event():
    events = [fact(1, "given", T0, expires=T0 + 24 * H)]
    key = (1, "location", "city_hq")
    assert derive_current(events, T0 + 23 * H)[key] is True
    assert derive_current(events, T0 + 24 * H)[key] is False
    events.append(fact(2, "expired", T0 + 24 * H))
    assert derive_current(events, T0 + 25 * H)[key] is False


def test_ties_in_time_are_broken_by_ledger_order():
    events = [fact(2, "withdrawn", T0), fact(1, "given", T0)]
    assert derive_current(events, T0)[(1, "location", "city_hq")] is False


def _citizens(engine, n):
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen),
            [{"subject": f"c{i}", "created_at": now, "updated_at": now} for i in range(n)],
        )
        return [r[0] for r in conn.execute(sa.select(Citizen.id).order_by(Citizen.id))]


def _event(citizen, kind, when, item="location", target="city_hq", **extra):
    return {
        "citizen_id": citizen,
        "data_item": item,
        "share_target": target,
        "event_type": kind,
        "occurred_at": when,
        "collection_method": "app",
        **extra,
    }


def test_recorded_consent_is_derived_and_the_ledger_only_grows(engine):
    (cid,) = _citizens(engine, 1)
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "given", T0)])
    with engine.connect() as conn:
        assert consent.has_consent(conn, cid, "location", at=T0 + H)
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "withdrawn", T0 + H)])
    with engine.connect() as conn:
        assert not consent.has_consent(conn, cid, "location", at=T0 + 2 * H)
        assert conn.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar_one() == 2
    assert consent.state_matches_ledger(engine, at=T0 + 2 * H)


def test_an_older_event_arriving_late_does_not_override_a_newer_one(engine):
    (cid,) = _citizens(engine, 1)
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "withdrawn", T0 + H)])
        consent.record_consent(conn, [_event(cid, "given", T0)])
    with engine.connect() as conn:
        assert not consent.has_consent(conn, cid, "location", at=T0 + 2 * H)
    assert consent.state_matches_ledger(engine, at=T0 + 2 * H)


def test_a_synced_event_is_recorded_once(engine):
    (cid,) = _citizens(engine, 1)
    ev = _event(cid, "given", T0, source_ref="cityos:consent:42", collection_method="city_os_sync")
    with engine.begin() as conn:
        assert consent.record_consent(conn, [ev]) == 1
    with engine.begin() as conn:
        assert consent.record_consent(conn, [ev]) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar_one() == 1


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"data_item": "blood_type"}, "data_item"),
        ({"share_target": "advertisers"}, "share_target"),
        ({"event_type": "maybe"}, "event_type"),
        ({"occurred_at": dt.datetime(2022, 3, 11)}, "timezone-aware"),
        ({"event_type": "withdrawn", "expires_at": T0 + H}, "only a 'given' event may expire"),
    ],
)
def test_invalid_events_are_refused_before_anything_is_written(sqlite_engine, bad, message):
    (cid,) = _citizens(sqlite_engine, 1)
    with pytest.raises(ValueError, match=message), sqlite_engine.begin() as conn:
        consent.record_consent(
            conn, [_event(cid, "given", T0), {**_event(cid, "given", T0), **bad}]
        )
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar_one() == 0


def test_random_histories_state_equals_full_derivation(engine):
    """The cached state equals the ledger's derivation, also after a full rebuild."""
    rng = random.Random(7)
    ids = _citizens(engine, 15)
    events = []
    for _ in range(300):
        kind = rng.choice(["given", "given", "withdrawn", "expired"])
        when = T0 + dt.timedelta(minutes=rng.randint(0, 600))
        extra = (
            {"expires_at": when + dt.timedelta(minutes=rng.randint(1, 300))}
            if kind == "given" and rng.random() < 0.3
            else {}
        )
        events.append(
            _event(
                rng.choice(ids),
                kind,
                when,
                item=rng.choice(["location", "safety_status"]),
                target=rng.choice(SHARE_TARGETS[:3]),
                **extra,
            )
        )
    with engine.begin() as conn:
        for i in range(0, len(events), 37):
            consent.record_consent(conn, events[i : i + 37])
    for minutes in (600, 700, 900):  # any moment after the newest event
        assert consent.state_matches_ledger(engine, at=T0 + dt.timedelta(minutes=minutes))
    with engine.begin() as conn:
        consent.rebuild_state(conn)
    assert consent.state_matches_ledger(engine, at=T0 + dt.timedelta(minutes=700))
    with engine.connect() as conn:
        facts = consent.ledger_facts(conn)
        for minutes, query in (
            (750, consent.consenting_citizens),
            (150, consent.consenting_citizens_as_of),
            (450, consent.consenting_citizens_as_of),
            (750, consent.consenting_citizens_as_of),
        ):
            at = T0 + dt.timedelta(minutes=minutes)
            sql_ids = {r[0] for r in conn.execute(query("location", "city_hq", at))}
            python_ids = {
                k[0]
                for k, ok in derive_current(facts, at).items()
                if ok and k[1:] == ("location", "city_hq")
            }
            assert sql_ids == python_ids, (minutes, query.__name__)


def test_a_consent_dated_more_than_five_minutes_ahead_is_refused_with_a_clear_error(engine):
    """Issue 13, finding 13: before the fix a 'given' dated an hour ahead (a device's clock)
    was recorded and in force at once. Now it is refused naming the field and how far ahead,
    and nothing is written; a few minutes of clock skew are still accepted."""
    (cid,) = _citizens(engine, 1)
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(ValueError, match=r"occurred_at: .* 60 minutes in the future"):
        with engine.begin() as conn:
            consent.record_consent(conn, [_event(cid, "given", now + H)])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar_one() == 0
    with engine.begin() as conn:
        assert consent.record_consent(conn, [_event(cid, "given", now + 4 * MINUTE)]) == 1


MINUTE = dt.timedelta(minutes=1)


def test_a_withdrawal_is_never_outranked_by_a_later_dated_given_recorded_before_it(engine):
    """Issue 13, finding 13: a 'given' dated a few minutes ahead (within the skew allowed) and
    a withdrawal made now, recorded after it. Before the fix the given — the latest by date —
    stayed in force over the withdrawal; now the withdrawal wins in the cached state, in the
    Python derivation, in a full rebuild and in the as-of query (replay), also once the
    given's date has passed. A 'given' recorded after the withdrawal is a new consent."""
    (cid,) = _citizens(engine, 1)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "given", now + 4 * MINUTE)])
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "withdrawn", now)])
    key = (cid, "location", "city_hq")
    later = now + 10 * MINUTE
    with engine.connect() as conn:
        assert not consent.has_consent(conn, cid, "location", at=later)
        facts = consent.ledger_facts(conn)
        assert derive_current(facts, later)[key] is False
        as_of = conn.execute(consent.consenting_citizens_as_of("location", "city_hq", later))
        assert cid not in {r[0] for r in as_of}
    assert consent.state_matches_ledger(engine, at=later)
    with engine.begin() as conn:
        consent.rebuild_state(conn)
    with engine.connect() as conn:
        assert not consent.has_consent(conn, cid, "location", at=later)
    # Consent given again after the withdrawal was recorded is in force.
    with engine.begin() as conn:
        consent.record_consent(conn, [_event(cid, "given", now + MINUTE)])
    with engine.connect() as conn:
        assert consent.has_consent(conn, cid, "location", at=later)
    assert consent.state_matches_ledger(engine, at=later)
