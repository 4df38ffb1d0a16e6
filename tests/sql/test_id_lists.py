"""sql.id_lists: a long id list is one bound value on both databases."""

from __future__ import annotations

import doctest

import sqlalchemy as sa

import sql.id_lists
from sql.bulk import bulk_insert
from sql.id_lists import in_ids
from sql.models import Household


def test_the_examples_in_the_module_hold():
    assert doctest.testmod(sql.id_lists).failed == 0


def test_a_list_longer_than_sqlites_parameter_limit(engine):
    import datetime as dt

    t0 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            Household.__table__,
            [{"external_id": f"h{i}", "is_synthetic": True, "created_at": t0} for i in range(50)],
        )
        ids = conn.execute(sa.select(Household.id).order_by(Household.id)).scalars().all()
        wanted = [*ids[::7], *range(10**6, 10**6 + 40_000)]  # 40,000 ids that match nothing
        found = (
            conn.execute(
                sa.select(Household.id)
                .where(in_ids(conn, Household.__table__.c.id, wanted))
                .order_by(Household.id)
            )
            .scalars()
            .all()
        )
        none = conn.execute(
            sa.select(sa.func.count()).where(in_ids(conn, Household.__table__.c.id, []))
        ).scalar_one()
    assert found == ids[::7]
    assert none == 0
