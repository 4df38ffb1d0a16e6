"""Status reports: idempotent, atomic per batch, and the latest status only moves forward."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sql.ingest import ingest_location_fixes, ingest_status_reports, rebuild_latest_status
from sql.models import Citizen, CitizenLatestStatus, LocationFix, StatusReport

T0 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC)


@pytest.fixture
def citizens(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen),
            [{"subject": f"c{i}", "created_at": T0, "updated_at": T0} for i in range(3)],
        )
    return [1, 2, 3]


def report(key, citizen, state, minutes, incident=None):
    return {
        "idempotency_key": key,
        "citizen_id": citizen,
        "incident_id": incident,
        "state": state,
        "source": "app",
        "reported_at": T0 + dt.timedelta(minutes=minutes),
    }


def latest(engine):
    with engine.connect() as conn:
        return {r.citizen_id: r.state for r in conn.execute(sa.select(CitizenLatestStatus))}


def count(engine, model):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_repeated_delivery_is_stored_once(engine, citizens):
    batch = [
        report("a", 1, "evacuating", 1),
        report("b", 2, "safe_at_home", 2),
        report("a", 1, "evacuating", 1),
    ]
    first = ingest_status_reports(engine, batch)
    again = ingest_status_reports(engine, batch)
    assert (first.inserted, first.duplicates) == (2, 1)
    assert (again.inserted, again.duplicates) == (0, 3)
    assert count(engine, StatusReport) == 2


def test_latest_status_follows_report_time_not_arrival_order(engine, citizens):
    ingest_status_reports(engine, [report("late", 1, "at_shelter", 30)])
    ingest_status_reports(engine, [report("early", 1, "evacuating", 10)])
    assert latest(engine)[1] == "at_shelter"
    ingest_status_reports(engine, [report("newest", 1, "needs_rescue", 40)])
    assert latest(engine)[1] == "needs_rescue"


def add_incident(engine, incident_id: int, kind: str, name_ja: str) -> None:
    from sql.models import Incident

    with engine.begin() as conn:
        conn.execute(
            sa.insert(Incident).values(
                id=incident_id,
                kind=kind,
                name_ja=name_ja,
                declared_at=T0,
                emergency_mode=True,
                is_synthetic=False,
            )
        )


def test_latest_status_is_kept_per_incident(engine, citizens):
    add_incident(engine, 7, "drill", "訓練")
    ingest_status_reports(
        engine, [report("r1", 1, "safe_at_home", 5), report("d1", 1, "evacuating", 6, incident=7)]
    )
    with engine.connect() as conn:
        rows = {
            (r.citizen_id, r.incident_key): r.state
            for r in conn.execute(sa.select(CitizenLatestStatus))
        }
    assert rows == {(1, 0): "safe_at_home", (1, 7): "evacuating"}


def test_a_bad_report_writes_nothing_of_its_batch(engine, citizens):
    batch = [report("ok1", 1, "evacuating", 1), report("bad", 2, "partying", 2)]
    with pytest.raises(ValueError, match="report 1: state 'partying'"):
        ingest_status_reports(engine, batch)
    assert count(engine, StatusReport) == 0
    assert latest(engine) == {}


def test_a_batch_failing_in_the_database_is_rolled_back_whole(engine, citizens):
    batch = [report("ok1", 1, "evacuating", 1), report("fk", 99, "evacuating", 2)]
    with pytest.raises(sa.exc.IntegrityError):
        ingest_status_reports(engine, batch)
    assert count(engine, StatusReport) == 0


def test_rebuild_gives_the_same_latest_status(engine, citizens):
    reports = [
        report(f"k{i}", 1 + i % 3, ("evacuating", "at_shelter", "safe_at_home")[i % 3], i % 17)
        for i in range(60)
    ]
    ingest_status_reports(engine, reports, batch_size=7)
    before = latest(engine)
    with engine.begin() as conn:
        rebuild_latest_status(conn)
    assert latest(engine) == before


def test_location_fixes_are_idempotent(engine, citizens):
    fixes = [
        {
            "idempotency_key": f"f{i}",
            "citizen_id": 1,
            "lat": 37.49,
            "lon": 139.93,
            "source": "app",
            "fixed_at": T0 + dt.timedelta(minutes=i),
        }
        for i in range(5)
    ]
    assert ingest_location_fixes(engine, fixes).inserted == 5
    assert ingest_location_fixes(engine, fixes).inserted == 0
    assert count(engine, LocationFix) == 5


def stored(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(StatusReport.idempotency_key, StatusReport.id, StatusReport.state).order_by(
                StatusReport.id
            )
        ).all()


def test_ids_follow_report_time_within_a_batch(engine, citizens):
    ingest_status_reports(
        engine,
        [report("third", 1, "at_shelter", 30), report("first", 2, "evacuating", 10)]
        + [report("second", 3, "safe_at_home", 20)],
    )
    assert [key for key, _id, _state in stored(engine)] == ["first", "second", "third"]


def test_a_batch_mixing_redeliveries_and_new_reports(engine, citizens):
    """Re-delivered keys (one with altered content and a newer time) are skipped; the new
    reports alone move the latest status, exactly as a rebuild from all rows would."""
    ingest_status_reports(
        engine, [report("a", 1, "evacuating", 10), report("b", 2, "at_shelter", 10)]
    )
    result = ingest_status_reports(
        engine,
        [
            report("a", 1, "needs_rescue", 99),  # altered re-delivery: ignored
            report("c", 1, "at_shelter", 20),
            report("b", 2, "at_shelter", 10),  # plain re-delivery
            report("d", 2, "safe_at_home", 5),  # new but older than b: b stays latest
            report("e", 3, "evacuating", 1),
            report("f", 3, "at_shelter", 1),  # same time as e, later id: wins the tie
        ],
    )
    assert (result.inserted, result.duplicates) == (4, 2)
    assert latest(engine) == {1: "at_shelter", 2: "at_shelter", 3: "at_shelter"}
    assert dict((k, s) for k, _i, s in stored(engine))["a"] == "evacuating"
    before = latest(engine)
    with engine.begin() as conn:
        rebuild_latest_status(conn)
    assert latest(engine) == before


def test_an_all_new_batch_and_a_mixed_one_agree_with_a_rebuild(engine, citizens):
    """Both write paths (every row new; some already stored) against the reference rebuild,
    over interleaved times, ties and two incidents."""
    add_incident(engine, 3, "real", "大雨")
    states = ("evacuating", "at_shelter", "safe_at_home", "needs_rescue")
    reports = [
        report(f"k{i}", 1 + i % 3, states[i % 4], (i * 7) % 11, incident=3 if i % 5 == 0 else None)
        for i in range(80)
    ]
    ingest_status_reports(engine, reports[:50])  # all new
    ingest_status_reports(engine, reports[30:])  # 20 already stored, 30 new
    with engine.connect() as conn:
        incremental = set(conn.execute(sa.select(CitizenLatestStatus)).all())
    with engine.begin() as conn:
        rebuild_latest_status(conn)
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(CitizenLatestStatus)).all()) == incremental
    assert count(engine, StatusReport) == 80
