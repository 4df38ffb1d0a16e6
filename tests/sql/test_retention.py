"""Retention on SQLite and PostgreSQL: location fixes and safety messages go N days after their
incident ended (or, outside incidents, N days after they were made), the daily counts stay,
the audit chain records it, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bosai.cli import main
from sql import audit
from sql.models import AuditLog, Citizen, Incident, LocationFix, StatusReport
from sql.retention import apply_retention, daily_counts

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
TOKYO = ZoneInfo("Asia/Tokyo")


def day(value: dt.datetime) -> dt.date:
    return value.astimezone(TOKYO).date()


def setup(engine) -> dict:
    """Three incidents (ended 120 days ago, ended 10 days ago, active) and normal-time data
    (200 days old and 5 days old), with fixes and messages on two local days each."""
    with engine.begin() as conn:
        citizens = [
            conn.execute(
                sa.insert(Citizen)
                .values(subject=f"c{i}", created_at=NOW, updated_at=NOW)
                .returning(Citizen.id)
            ).scalar_one()
            for i in range(3)
        ]
        incidents = {}
        for key, start, end in (
            ("old", NOW - dt.timedelta(days=125), NOW - dt.timedelta(days=120)),
            ("recent", NOW - dt.timedelta(days=15), NOW - dt.timedelta(days=10)),
            ("active", NOW - dt.timedelta(days=1), None),
        ):
            incidents[key] = conn.execute(
                sa.insert(Incident)
                .values(kind="real", name_ja=key, declared_at=start, ended_at=end)
                .returning(Incident.id)
            ).scalar_one()
        rows = {"fixes": [], "reports": []}
        n = 0
        for key, start in (
            ("old", NOW - dt.timedelta(days=125)),
            ("recent", NOW - dt.timedelta(days=15)),
            ("active", NOW - dt.timedelta(days=1)),
            ("normal_old", NOW - dt.timedelta(days=200)),
            ("normal_new", NOW - dt.timedelta(days=5)),
        ):
            incident = incidents.get(key)
            for hours in (1, 2, 20):  # 20 h later is the next day in Tokyo
                for c in citizens[: 2 if hours == 2 else 3]:
                    n += 1
                    at = start + dt.timedelta(hours=hours)
                    conn.execute(
                        sa.insert(LocationFix).values(
                            idempotency_key=f"f{n}",
                            citizen_id=c,
                            incident_id=incident,
                            lat=37.5,
                            lon=139.9,
                            source="app",
                            fixed_at=at,
                            received_at=at,
                        )
                    )
                    conn.execute(
                        sa.insert(StatusReport).values(
                            idempotency_key=f"s{n}",
                            citizen_id=c,
                            incident_id=incident,
                            state="safe_at_home",
                            source="app",
                            reported_at=at,
                            received_at=at,
                            message=f"無事です {n}" if hours != 20 else None,
                        )
                    )
                    rows["fixes"].append((key, incident, c, at))
                    rows["reports"].append((key, incident, at, hours != 20))
    return {"incidents": incidents, "rows": rows}


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        fixes = conn.execute(sa.select(sa.func.count()).select_from(LocationFix)).scalar_one()
        reports = conn.execute(sa.select(sa.func.count()).select_from(StatusReport)).scalar_one()
        messages = conn.execute(
            sa.select(sa.func.count())
            .select_from(StatusReport)
            .where(StatusReport.message.is_not(None))
        ).scalar_one()
    return fixes, reports, messages


def test_retention_deletes_what_is_past_and_keeps_the_counts(engine):
    data = setup(engine)
    fixes_before, reports_before, messages_before = counts(engine)
    result = apply_retention(engine, 90, now=NOW)
    expired = ("old", "normal_old")
    gone = [f for f in data["rows"]["fixes"] if f[0] in expired]
    cleared = [r for r in data["rows"]["reports"] if r[0] in expired and r[3]]
    assert result.incidents == [data["incidents"]["old"]]
    assert result.location_fixes_deleted == len(gone) == 16
    assert result.messages_cleared == len(cleared) == 10
    assert counts(engine) == (fixes_before - 16, reports_before, messages_before - 10)
    # What stays: every status report (state and time), the fixes and messages in retention.
    with engine.connect() as conn:
        kept_incidents = set(conn.execute(sa.select(LocationFix.incident_id).distinct()).scalars())
    assert kept_incidents == {data["incidents"]["recent"], data["incidents"]["active"], None}
    # The counts kept, against an independent count of what was deleted.
    expected = Counter()
    people: dict = {}
    for _key, incident, citizen, at in gone:
        expected[(incident or 0, day(at), "location_fixes")] += 1
        people.setdefault((incident or 0, day(at)), set()).add(citizen)
    for k, ids in people.items():
        expected[(*k, "location_citizens")] = len(ids)
    for _key, incident, at, _has_message in cleared:
        expected[(incident or 0, day(at), "safety_messages")] += 1
    kept = daily_counts(engine)
    got = {
        (int(r.incident_key), r.day, r.measure): int(r.value) for r in kept.itertuples(index=False)
    }
    assert got == dict(expected)
    assert result.aggregate_rows == len(expected) == 10
    # The audit chain says what was done.
    with engine.connect() as conn:
        row = conn.execute(sa.select(AuditLog).where(AuditLog.action == "retention")).one()
    assert row.actor == "system:cli" and row.details["location_fixes_deleted"] == 16
    assert row.details["incidents"] == [data["incidents"]["old"]]
    assert audit.verify(engine).ok


def test_a_second_run_changes_nothing(engine):
    setup(engine)
    apply_retention(engine, 90, now=NOW)
    state = counts(engine), daily_counts(engine).to_dict("list")
    with engine.connect() as conn:
        log_rows = conn.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar_one()
    again = apply_retention(engine, 90, now=NOW + dt.timedelta(hours=1))
    assert (again.location_fixes_deleted, again.messages_cleared, again.aggregate_rows) == (0, 0, 0)
    assert (counts(engine), daily_counts(engine).to_dict("list")) == state
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar_one() == log_rows
        )


def test_fewer_days_reach_the_recent_incident_and_add_to_the_counts(engine):
    data = setup(engine)
    apply_retention(engine, 90, now=NOW)
    result = apply_retention(engine, 7, now=NOW)
    assert result.incidents == [data["incidents"]["old"], data["incidents"]["recent"]]
    assert result.location_fixes_deleted == 8  # the recent incident's; normal_new is 5 days old
    kept = daily_counts(engine, data["incidents"]["recent"])
    assert kept.groupby("measure")["value"].sum().to_dict() == {
        "location_citizens": 6,
        "location_fixes": 8,
        "safety_messages": 5,
    }


def test_the_cli(engine, db_url, capsys):
    setup(engine)
    assert main(["--database-url", db_url, "retention", "apply", "--days", "0", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    # --days 0 cuts at today's midnight in Tokyo: everything of ended incidents and all
    # normal-time data from before today goes; the active incident keeps its data.
    assert done["location_fixes_deleted"] == 8 + 8 + 8 + 8
    assert counts(engine)[0] == 8
    assert main(["--database-url", db_url, "retention", "apply", "--days", "-1"]) == 2
    assert "-1" in capsys.readouterr().err
