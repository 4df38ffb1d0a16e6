"""sql.bulk writes exactly what SQLAlchemy itself would store (executemany on SQLite, binary or
text COPY on PostgreSQL), and reports errors as SQLAlchemy does."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sql.bulk import _pg_binary_type, bulk_insert
from sql.models import Citizen, Household, Meta, StatusReport

JST = dt.timezone(dt.timedelta(hours=9))
T0 = dt.datetime(2026, 7, 10, 9, 30, 15, 123456, tzinfo=JST)


def citizen(subject: str) -> dict:
    return {
        "subject": subject,
        "household_id": None,
        "name": "会津 花子",
        "kana": "アイヅ ハナコ",
        "sex": "female",
        "birth_date": dt.date(1948, 2, 29),
        "address": "福島県会津若松市東栄町3-46",
        "district": "鶴城",
        "home_lat": 37.494_762_5,
        "home_lon": 139.929_764_1,
        "phone": None,
        "is_synthetic": True,
        "created_at": T0,
        "updated_at": T0 + dt.timedelta(microseconds=1),
        "synced_at": None,
    }


def read_back(conn, model, key_column, key):
    row = conn.execute(sa.select(model).where(key_column == key)).mappings().one()
    return {k: v for k, v in row.items() if k != "id" and k != key_column.key}


@pytest.mark.parametrize(
    ("model", "key_column", "make"),
    [
        (Citizen, Citizen.subject, citizen),
        (
            Meta,
            Meta.key,
            lambda key: {"key": key, "value": {"色": "青", "n": [1, 2.5, None]}, "updated_at": T0},
        ),
    ],
    ids=["citizens", "meta"],
)
def test_bulk_rows_read_back_equal_to_orm_rows(engine, model, key_column, make):
    with engine.begin() as conn:
        conn.execute(sa.insert(model).values(**make("by-orm")))
        assert bulk_insert(conn, model.__table__, [make("by-bulk")]) == 1
    with engine.connect() as conn:
        assert read_back(conn, model, key_column, "by-bulk") == read_back(
            conn, model, key_column, "by-orm"
        )


def test_tuples_in_named_column_order_store_what_dicts_store(engine):
    """Rows given as tuples with ``names`` (the survey import's 400,000 answers, no dict per
    row) read back equal to the same rows given as dicts — converters included."""
    names = list(citizen("x"))
    with engine.begin() as conn:
        assert bulk_insert(conn, Citizen.__table__, [citizen("by-dict")]) == 1
        row = tuple(citizen("by-tuple")[n] for n in names)
        assert bulk_insert(conn, Citizen.__table__, [row], names=names) == 1
    with engine.connect() as conn:
        assert read_back(conn, Citizen, Citizen.subject, "by-tuple") == read_back(
            conn, Citizen, Citizen.subject, "by-dict"
        )


def test_sqlite_stores_the_same_datetime_text_as_sqlalchemy(tmp_path):
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.sqlite'}")
    prepare_database(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(Citizen).values(**citizen("by-orm")))
        bulk_insert(conn, Citizen.__table__, [citizen("by-bulk")])
        text = dict(
            conn.exec_driver_sql(
                "SELECT subject, created_at || '|' || updated_at FROM citizens"
            ).all()
        )
    assert (
        text["by-bulk"] == text["by-orm"] == "2026-07-10 00:30:15.123456|2026-07-10 00:30:15.123457"
    )
    engine.dispose()


def test_naive_datetimes_are_refused(engine):
    row = citizen("naive") | {"created_at": dt.datetime(2026, 7, 10, 9, 0)}
    with engine.begin() as conn, pytest.raises(ValueError, match="naive datetime"):
        bulk_insert(conn, Citizen.__table__, [row])


def test_conflicts_can_be_skipped_on_sqlite_and_are_counted(tmp_path):
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.sqlite'}")
    prepare_database(engine)
    households = [
        {"external_id": f"h{i}", "is_synthetic": False, "created_at": T0} for i in (1, 2, 1, 3)
    ]
    with engine.begin() as conn:
        written = bulk_insert(
            conn, Household.__table__, households, ignore_conflicts_on=["external_id"]
        )
        stored = conn.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one()
    assert (written, stored) == (3, 3)
    engine.dispose()


def test_database_errors_surface_as_sqlalchemy_errors(engine):
    row = {
        "idempotency_key": "k1",
        "citizen_id": 424242,  # no such citizen
        "incident_id": None,
        "state": "evacuating",
        "shelter_id": None,
        "message": None,
        "source": "app",
        "reported_at": T0,
        "received_at": T0,
    }
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        bulk_insert(conn, StatusReport.__table__, [row])


def test_binary_copy_types_follow_the_columns():
    types = {c.name: _pg_binary_type(c) for c in Citizen.__table__.columns}
    assert types == {
        "id": "int4",
        "subject": "text",
        "household_id": "int4",
        "name": "text",
        "kana": "text",
        "sex": "text",
        "birth_date": "date",
        "address": "text",
        "district": "text",
        "home_lat": "float8",
        "home_lon": "float8",
        "phone": "text",
        "is_synthetic": "bool",
        "created_at": "timestamptz",
        "updated_at": "timestamptz",
        "synced_at": "timestamptz",
    }
    native = sa.Column("mood", sa.Enum("a", "b", name="mood", native_enum=True))
    assert _pg_binary_type(native) is None  # a PostgreSQL enum goes as text COPY


def test_query_ids_reads_one_integer_column_into_numpy(engine):
    from sql.frames import query_ids

    with engine.begin() as conn:
        bulk_insert(conn, Citizen.__table__, [citizen(f"q{i}") for i in range(5)])
        ids = query_ids(
            conn,
            sa.select(Citizen.__table__.c.id)
            .where(Citizen.__table__.c.subject.in_(["q1", "q3", "q4"]))
            .order_by(Citizen.__table__.c.id.desc()),
        )
    assert ids.dtype == "int64" and len(ids) == 3 and list(ids) == sorted(ids, reverse=True)


@pytest.mark.pg
def test_postgresql_sessions_run_without_jit_unless_the_url_says(pg_url):
    from urllib.parse import quote

    from sql.engine import make_engine

    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    for options, jit, cost in (
        (None, "off", "4"),
        ("-c jit=on -c random_page_cost=1.1", "on", "1.1"),
        ("-c random_page_cost=1.1", "off", "1.1"),
    ):
        engine = make_engine(url + (f"?options={quote(options)}" if options else ""))
        with engine.connect() as conn:
            shown = (
                conn.exec_driver_sql("SHOW jit").scalar(),
                conn.exec_driver_sql("SHOW random_page_cost").scalar(),
            )
        engine.dispose()
        assert shown == (jit, cost)
