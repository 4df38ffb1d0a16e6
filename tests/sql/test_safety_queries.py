"""Safety-overview queries and the register-download audit, on SQLite and PostgreSQL.

Counts are checked against an independent computation from the raw rows (ages in Python from
the birth dates, latest status from the reports themselves).
"""

from __future__ import annotations

import collections
import datetime as dt

import pytest
import sqlalchemy as sa

from drills.demo_city import DemoParams, generate
from sql import policy
from sql.city_config import active_city
from sql.demo_store import load_demo
from sql.ingest import ingest_status_reports
from sql.models import AuditLog, Citizen, Household, Incident, SupportRegisterEntry
from sql.queries import safety
from sql.viewer import Viewer

SAFE = {"safe_at_home", "at_shelter", "elsewhere_safe"}
T0 = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
HQ = Viewer(role="hq", subject="hq-test")


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def band_of(birth: dt.date | None, day: dt.date) -> str:
    if birth is None:
        return "unknown"
    age = age_on(birth, day)
    for lo, code in zip((75, 65, 40, 15), ("75+", "65-74", "40-64", "15-39"), strict=True):
        if age >= lo:
            return code
    return "0-14"


def na(value):
    """None for a missing value (pandas shows missing text as NaN)."""
    return None if value is None or value != value else value


def as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@pytest.fixture
def demo(engine):
    city = active_city(engine)
    data = generate(DemoParams(citizens=600, shelters=40), city)
    load_demo(engine, data.tables, data.params.as_meta())
    return engine


def raw_latest(engine, incident_id: int) -> dict[int, str]:
    """Each citizen's newest report in the incident, from status_reports directly."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT citizen_id, state, reported_at, id FROM status_reports WHERE incident_id = "
            f"{int(incident_id)}"
        ).all()
    newest: dict[int, tuple] = {}
    for citizen, state, reported, rid in rows:
        key = (str(reported), rid)
        if citizen not in newest or key > newest[citizen][0]:
            newest[citizen] = (key, state)
    return {c: s for c, (_, s) in newest.items()}


def test_band_codes_and_cutoffs():
    assert safety.age_band_codes() == ["0-14", "15-39", "40-64", "65-74", "75+"]
    assert safety.age_band_codes((0, 18)) == ["0-17", "18+"]
    assert safety.birth_cutoff(dt.date(2026, 7, 10), 15) == dt.date(2011, 7, 10)
    assert safety.birth_cutoff(dt.date(2028, 2, 29), 15) == dt.date(2013, 2, 28)


def test_counts_by_district_band_and_state_equal_the_raw_rows(demo):
    engine = demo
    day = safety.incident_reference_date(engine, 1)
    assert day == dt.date(2026, 7, 10)  # declared 04:00 JST on 10 July (19:00 UTC the day before)
    counts = safety.safety_counts(engine, 1, day)
    latest = raw_latest(engine, 1)
    with engine.connect() as conn:
        people = conn.execute(sa.select(Citizen.id, Citizen.district, Citizen.birth_date)).all()
    expected = collections.Counter(
        (d, band_of(as_date(b), day), latest.get(i)) for i, d, b in people
    )
    got = {(na(r.district), r.age_band, na(r.state)): int(r.citizens) for r in counts.itertuples()}
    assert got == dict(expected)
    assert counts["citizens"].sum() == 600
    # Every band occurs in the demo city, and the answered share is neither 0 nor 1.
    assert set(counts["age_band"]) == {"0-14", "15-39", "40-64", "65-74", "75+"}
    answered = counts.loc[counts["state"].notna(), "citizens"].sum()
    assert 0 < answered < 600


def test_age_on_the_day_of_the_birthday_and_missing_values(engine):
    day = dt.date(2026, 7, 10)
    births = {
        "born-15-today": dt.date(2011, 7, 10),  # 15 today → 15-39
        "born-15-tomorrow": dt.date(2011, 7, 11),  # still 14 → 0-14
        "born-75-today": dt.date(1951, 7, 10),  # 75 → 75+
        "born-74": dt.date(1951, 7, 11),  # 74 → 65-74
        "no-birth-date": None,
    }
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Citizen),
            [
                {"subject": k, "birth_date": b, "district": None if b is None else "北"}
                for k, b in births.items()
            ],
        )
    counts = safety.safety_counts(engine, None, day)
    got = {(na(r.district), r.age_band): int(r.citizens) for r in counts.itertuples()}
    assert got == {
        ("北", "15-39"): 1,
        ("北", "0-14"): 1,
        ("北", "75+"): 1,
        ("北", "65-74"): 1,
        (None, "unknown"): 1,
    }
    assert counts["state"].isna().all()


def test_household_counts_agree_with_the_policy_rows(demo):
    engine = demo
    counts = safety.household_counts(engine, 1)
    details = policy.households_unaccounted(engine, HQ, 1)
    assert counts["households_unaccounted"].sum() == len(details)
    assert counts["members_unaccounted"].sum() == details["unaccounted"].sum()
    latest = raw_latest(engine, 1)
    with engine.connect() as conn:
        members = conn.execute(
            sa.select(Citizen.id, Household.id, Household.district).join(
                Household, Household.id == Citizen.household_id
            )
        ).all()
    per_household: dict[int, list[int]] = collections.defaultdict(list)
    district_of = {}
    for citizen, household, district in members:
        per_household[household].append(citizen)
        district_of[household] = district
    expected: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for household, ids in per_household.items():
        missing = sum(latest.get(i) not in SAFE for i in ids)
        row = expected[district_of[household]]
        row[0] += 1
        row[1] += missing > 0
        row[2] += len(ids)
        row[3] += missing
    got = {
        r.district: [r.households, r.households_unaccounted, r.members, r.members_unaccounted]
        for r in counts.itertuples()
    }
    assert got == dict(expected)


def test_counts_follow_a_new_report(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(Household), [{"external_id": "h1", "district": "北"}])
        conn.execute(
            sa.insert(Citizen),
            [{"subject": f"s{i}", "household_id": 1, "district": "北"} for i in range(2)],
        )
        conn.execute(
            sa.insert(Incident),
            [{"kind": "drill", "name_ja": "訓練", "declared_at": T0, "emergency_mode": True}],
        )
    before = safety.household_counts(engine, 1).iloc[0]
    assert (before.households_unaccounted, before.members_unaccounted) == (1, 2)
    ingest_status_reports(
        engine,
        [
            {
                "idempotency_key": f"k{i}",
                "citizen_id": i,
                "incident_id": 1,
                "state": "safe_at_home",
                "source": "app",
                "reported_at": T0,
            }
            for i in (1, 2)
        ],
    )
    after = safety.household_counts(engine, 1).iloc[0]
    assert (after.households_unaccounted, after.members_unaccounted) == (0, 0)
    table = safety.safety_counts(engine, 1, T0.date())
    assert set(table["state"]) == {"safe_at_home"}


# ------------------------------------------------------------------ register downloads


def audit_rows(engine, target: str):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(AuditLog.actor, AuditLog.citizen_ids, AuditLog.details).where(
                AuditLog.target == target
            )
        ).all()


def test_every_register_download_is_audited_even_an_identical_one(demo):
    engine = demo
    people = policy.register_people(engine, HQ, 1)
    ids = people["citizen_id"].tolist()
    assert ids
    first = policy.register_download(engine, HQ, 1, ids, filters={"districts": []})
    second = policy.register_download(engine, HQ, 1, ids, filters={"districts": []})
    assert first != second
    rows = audit_rows(engine, "policy.register_download")
    assert len(rows) == 2
    assert sorted(rows[0].citizen_ids) == sorted(ids)
    assert rows[0].details["rows"] == len(ids) and rows[0].details["scope"] == "all"


def test_only_hq_and_rescue_may_download_and_only_what_the_mode_allows(demo):
    engine = demo
    with engine.connect() as conn:
        entries = conn.execute(
            sa.select(SupportRegisterEntry.citizen_id, SupportRegisterEntry.normal_time_consent)
        ).all()
    consented = [c for c, ok in entries if ok]
    not_consented = [c for c, ok in entries if not ok]
    assert consented and not_consented
    for role in ("researcher", "council", "admin", "shelter_staff"):
        with pytest.raises(policy.PolicyDenied):
            policy.register_download(engine, Viewer(role=role, subject=role), 1, consented)
    # Emergency (the demo incident): every entry; a non-register citizen never.
    rescue = Viewer(role="rescue", subject="r")
    policy.register_download(engine, rescue, 1, [*consented, *not_consented])
    with engine.connect() as conn:
        outsider = conn.execute(
            sa.select(Citizen.id)
            .where(Citizen.id.not_in(sa.select(SupportRegisterEntry.citizen_id)))
            .limit(1)
        ).scalar_one()
    with pytest.raises(policy.PolicyDenied):
        policy.register_download(engine, rescue, 1, [outsider])
    # Normal mode (the incident ended): only entries with normal-time consent (第2項).
    with engine.begin() as conn:
        conn.execute(sa.update(Incident).values(ended_at=T0 + dt.timedelta(hours=5)))
    policy.register_download(engine, HQ, 1, consented)
    with pytest.raises(policy.PolicyDenied):
        policy.register_download(engine, HQ, 1, not_consented[:1])
    rows = audit_rows(engine, "policy.register_download")
    assert [r.details["scope"] for r in rows] == ["all", "consented"]
