"""Research rows through the policy (issue 16): the k-anonymous microdata export and the
participant attributes of the drill's models — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from sql import audit, policy
from sql.models import AuditLog, Citizen, ConsentEvent, DrillEvent, StatusReport
from sql.viewer import Viewer

RESEARCHER = Viewer(role="researcher", subject="researcher-1", name="研究 一郎")
#: The quasi-identifiers as the data dictionary promises them (written out here, not taken
#: from the policy, so the count below is independent of the code under test).
QUASI = {
    "drill": ["age_band", "sex", "home_cell", "group"],
    "consent": ["age_band", "sex", "home_cell"],
    "status": ["age_band", "sex", "home_cell"],
}
#: Each table's rounded time, a quasi-identifier of each row.
MOMENT = {"drill": "minutes", "consent": "occurred", "status": "reported"}
IDENTIFYING = {"citizen_id", "subject", "name", "kana", "address", "phone", "birth_date"}
IDENTIFYING |= {"home_lat", "home_lon", "lat", "lon", "message", "details", "household_id"}


def export_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(AuditLog).where(AuditLog.target == "policy.microdata_export")
        ).all()


@pytest.fixture
def exported(demo_engine):
    export = policy.microdata_export(
        demo_engine, RESEARCHER, purpose="避難所要時間の研究", requester="研究 一郎", drill_id=1
    )
    return demo_engine, export


def test_every_class_holds_at_least_k_people_by_an_independent_count(exported):
    engine, export = exported
    assert set(export.tables) == {"drill", "consent", "status"}
    for name, table in export.tables.items():
        assert len(table) > 0, name
        # plain pandas: people (distinct pseudonyms) per combination of quasi-identifiers
        people = table.groupby(QUASI[name], dropna=False)["pseudonym"].nunique()
        assert people.min() >= 5, (name, people[people < 5])
        # and each row's moment: people per combination of quasi-identifiers and rounded time
        at_moment = table.groupby([*QUASI[name], MOMENT[name]], dropna=False)["pseudonym"]
        assert at_moment.nunique().min() >= 5, (name, at_moment.nunique().min())
        report = export.report.set_index("table").loc[name]
        assert report["rows_exported"] == len(table)
        assert report["people_exported"] == table["pseudonym"].nunique()
        assert report["classes"] == len(people)
        assert report["smallest_class"] == people.min()
    # what was suppressed adds up to what the database holds (counted here in SQL)
    with engine.connect() as conn:
        consent_people = conn.execute(
            sa.select(sa.func.count(sa.distinct(ConsentEvent.citizen_id)))
        ).scalar_one()
        consent_rows = conn.execute(sa.select(sa.func.count()).select_from(ConsentEvent)).scalar()
        drill_people = conn.execute(
            sa.select(sa.func.count(sa.distinct(DrillEvent.citizen_id))).where(
                DrillEvent.drill_id == 1
            )
        ).scalar_one()
        status_rows = conn.execute(sa.select(sa.func.count()).select_from(StatusReport)).scalar()
    report = export.report.set_index("table")
    assert report.loc["consent", "people"] == consent_people
    assert report.loc["consent", "rows"] == consent_rows
    assert report.loc["drill", "people"] == drill_people
    assert report.loc["status", "rows"] == status_rows
    for name in export.tables:
        r = report.loc[name]
        assert r["rows_exported"] + r["rows_suppressed"] == r["rows"]
        assert r["people_exported"] + r["people_suppressed"] == r["people"]
    assert report.loc["drill", "people_suppressed"] > 0  # a small drill: some groups are small


def test_no_direct_identifier_leaves(exported):
    engine, export = exported
    with engine.connect() as conn:
        people = pd.DataFrame(
            conn.execute(
                sa.select(Citizen.id, Citizen.subject, Citizen.name, Citizen.address, Citizen.phone)
            ).all(),
            columns=["id", "subject", "name", "address", "phone"],
        )
    known = set(people[["subject", "name", "address", "phone"]].stack().astype(str))
    ids = {str(i) for i in people["id"]} | {f"c{i}" for i in people["id"]}
    for name, table in export.tables.items():
        assert not IDENTIFYING & set(table.columns), name
        cells = set(table.astype(str).stack())
        assert not cells & known, name
        assert not set(table["pseudonym"]) & ids
        assert table["pseudonym"].str.fullmatch(r"P[0-9a-f]{10}").all()
    # times are rounded: drill minutes on the 5-minute grid, clock times on :00, :05, …
    assert (export.tables["drill"]["minutes"] % 5 == 0).all()
    assert export.tables["status"]["reported"].str[-2:].astype(int).mod(5).eq(0).all()


def test_pseudonyms_are_drawn_anew_for_each_export(exported):
    engine, first = exported
    second = policy.microdata_export(
        engine, RESEARCHER, purpose="再現性の確認", requester="研究 一郎", drill_id=1
    )
    assert not set(first.tables["consent"]["pseudonym"]) & set(
        second.tables["consent"]["pseudonym"]
    )
    # the same people, the same shape: only the pseudonyms differ
    assert len(first.tables["consent"]) == len(second.tables["consent"])


def test_each_export_is_in_the_audit_chain_with_purpose_and_requester(exported):
    engine, export = exported
    rows = export_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert row.action == "export" and row.role == "researcher" and row.actor == "researcher-1"
    assert row.details["purpose"] == "避難所要時間の研究"
    assert row.details["requester"] == "研究 一郎"
    assert row.details["export"] == export.export_id and row.details["k"] == 5
    suppressed = export.report.set_index("table")["rows_suppressed"].to_dict()
    assert {k: v["rows"] for k, v in row.details["suppressed"].items()} == suppressed
    # the citizens named are exactly the people exported (a citizen's access report shows it)
    exported_people = sum(export.report["people_exported"]) > 0
    assert exported_people and len(row.citizen_ids) > 0
    assert audit.verify(engine).ok


@pytest.mark.parametrize("role", ["hq", "rescue", "council", "shelter_staff"])
def test_refused_to_other_roles_and_nothing_is_written(demo_engine, role):
    viewer = Viewer(role=role, subject=f"{role}-1")
    with pytest.raises(policy.PolicyDenied):
        policy.microdata_export(
            demo_engine, viewer, purpose="x", requester="y", drill_id=1, tables=("consent",)
        )
    with pytest.raises(policy.PolicyDenied):
        policy.research_attributes(demo_engine, viewer, dt.date(2026, 3, 1), [1, 2])
    assert export_rows(demo_engine) == []


def test_admin_may_export_and_bad_requests_write_nothing(demo_engine):
    admin = Viewer(role="admin", subject="admin-1")
    with pytest.raises(ValueError, match="purpose"):
        policy.microdata_export(demo_engine, admin, purpose=" ", requester="y", drill_id=1)
    with pytest.raises(ValueError, match="k must be"):
        policy.microdata_export(demo_engine, admin, purpose="p", requester="y", k=1, drill_id=1)
    with pytest.raises(ValueError, match="drill"):
        policy.microdata_export(demo_engine, admin, purpose="p", requester="y")
    assert export_rows(demo_engine) == []
    export = policy.microdata_export(
        demo_engine, admin, purpose="p", requester="y", tables=("status",), k=10, time_step=60
    )
    status = export.tables["status"]
    people = status.groupby(QUASI["status"])["pseudonym"].nunique()
    at_moment = status.groupby([*QUASI["status"], "reported"])["pseudonym"].nunique()
    assert len(status) > 0 and people.min() >= 10 and at_moment.min() >= 10
    assert len(export_rows(demo_engine)) == 1


def test_research_attributes_carry_levels_not_places(demo_engine):
    frame = policy.research_attributes(
        demo_engine,
        RESEARCHER,
        dt.date(2026, 3, 1),
        range(1, 51),
        zone_level=lambda lat, lon: lat * 1000,  # a function that tries to pass positions on
    )
    assert list(frame.columns) == ["citizen_id", "age_band", "sex", "register", "hazard_zone"]
    assert set(frame["hazard_zone"].dropna()) <= {"none", "1", "2", "3"}
    assert set(frame["register"]) <= {"yes", "no"}
    with demo_engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditLog).where(AuditLog.target == "policy.research_attributes")
        ).all()
    assert len(rows) == 1 and sorted(rows[0].citizen_ids) == frame["citizen_id"].tolist()
