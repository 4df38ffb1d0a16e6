"""The safety overview (安否): who has answered and who is confirmed safe, in aggregate.

Counts only — by district, age band and latest status of an incident, and households with
members not yet confirmed safe. No row names a person; the page suppresses small cells for the
roles that must not see them (``analytics.small_cells``). The household *details* are personal
and come from :func:`sql.policy.households_unaccounted`.

Age is counted in whole years on the incident's reference date (the day it was declared, in the
city's timezone): a person born on 2011-07-10 is 15 on 2026-07-10. Bands are given by their
first ages, e.g. ``(0, 15, 40, 65, 75)`` → 0–14, 15–39, 40–64, 65–74, 75+.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bosai.vocab import SAFE_STATES

from ..frames import query_frame
from ..models import Citizen, CitizenLatestStatus, Household, Incident

#: First age of each band (0–14, 15–39, 40–64, 65–74, 75+).
AGE_BAND_STARTS: tuple[int, ...] = (0, 15, 40, 65, 75)
#: Band of citizens without a birth date.
UNKNOWN_BAND = "unknown"


def age_band_codes(starts: Sequence[int] = AGE_BAND_STARTS) -> list[str]:
    """Codes of the bands, youngest first: ``["0-14", "15-39", ..., "75+"]``."""
    starts = list(starts)
    return [
        f"{lo}-{hi - 1}" if hi is not None else f"{lo}+"
        for lo, hi in zip(starts, [*starts[1:], None], strict=True)
    ]


def birth_cutoff(reference: dt.date, age: int) -> dt.date:
    """The latest birth date of a person who is ``age`` or older on ``reference``
    (29 February moves to 28 February in a year without it)."""
    year = reference.year - age
    try:
        return reference.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def _age_band(birth_date: sa.ColumnElement, reference: dt.date, starts: Sequence[int]):
    codes = age_band_codes(starts)
    # Oldest first: born on or before the cutoff of a band's first age → that band or older.
    whens = [(birth_date.is_(None), UNKNOWN_BAND)]
    for lo, code in reversed(list(zip(starts, codes, strict=True))[1:]):
        whens.append((birth_date <= birth_cutoff(reference, lo), code))
    return sa.case(*whens, else_=codes[0])


def incident_reference_date(
    engine: Engine, incident_id: int | None, timezone: str = "Asia/Tokyo"
) -> dt.date:
    """The day ages are counted on: the incident's declaration day in the city's timezone
    (today without an incident)."""
    declared = None
    if incident_id:
        with engine.connect() as conn:
            declared = conn.execute(
                sa.select(Incident.declared_at).where(Incident.id == incident_id)
            ).scalar()
    moment = declared or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def safety_counts(
    engine: Engine,
    incident_id: int | None,
    reference: dt.date,
    starts: Sequence[int] = AGE_BAND_STARTS,
) -> pd.DataFrame:
    """Citizens by district, age band and latest status of the incident.

    Returns
    -------
    pandas.DataFrame
        ``district`` (None where unknown), ``age_band`` (a code of :func:`age_band_codes`, or
        ``"unknown"``), ``state`` (None for citizens without a report in the incident) and
        ``citizens``, one row per combination that occurs.
    """
    c = Citizen.__table__
    ls = CitizenLatestStatus.__table__
    per_citizen = (
        sa.select(
            c.c.district,
            _age_band(c.c.birth_date, reference, starts).label("age_band"),
            ls.c.state,
        )
        .select_from(
            c.outerjoin(
                ls, sa.and_(ls.c.citizen_id == c.c.id, ls.c.incident_key == (incident_id or 0))
            )
        )
        .subquery()
    )
    # Group on the subquery's columns: PostgreSQL refuses a GROUP BY that repeats an expression
    # with bound parameters.
    stmt = (
        sa.select(
            per_citizen.c.district,
            per_citizen.c.age_band,
            per_citizen.c.state,
            sa.func.count().label("citizens"),
        )
        .group_by(per_citizen.c.district, per_citizen.c.age_band, per_citizen.c.state)
        .order_by(per_citizen.c.district, per_citizen.c.age_band, per_citizen.c.state)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    frame["citizens"] = frame["citizens"].astype(int)
    return frame


def per_household(incident_id: int | None, *aggregates, joined=lambda members: members):
    """Per household (of the citizens who have one): ``household_id``, ``members`` and
    ``confirmed`` — members whose latest status in the incident is a safe state; the others
    are *unaccounted* (no report, unknown, evacuating, injured, needs rescue) — and the
    caller's ``aggregates`` over the members, whose rows ``joined`` may join more to."""
    c = Citizen.__table__
    ls = CitizenLatestStatus.__table__
    members = c.outerjoin(
        ls, sa.and_(ls.c.citizen_id == c.c.id, ls.c.incident_key == (incident_id or 0))
    )
    return (
        sa.select(
            c.c.household_id,
            sa.func.count().label("members"),
            sa.func.sum(sa.case((ls.c.state.in_(SAFE_STATES), 1), else_=0)).label("confirmed"),
            *aggregates,
        )
        .select_from(joined(members))
        .where(c.c.household_id.is_not(None))
        .group_by(c.c.household_id)
        .subquery()
    )


def household_counts(engine: Engine, incident_id: int | None) -> pd.DataFrame:
    """Households per district and those with members not confirmed safe.

    A member is *unaccounted* when their latest status in the incident is not one of the safe
    states (:func:`per_household`, as in :func:`sql.policy.households_unaccounted`).

    Returns
    -------
    pandas.DataFrame
        ``district`` (the household's), ``households``, ``households_unaccounted``,
        ``members``, ``members_unaccounted``.
    """
    h = Household.__table__
    households = per_household(incident_id)
    unaccounted = households.c.members - households.c.confirmed
    stmt = (
        sa.select(
            h.c.district,
            sa.func.count().label("households"),
            sa.func.count().filter(unaccounted > 0).label("households_unaccounted"),
            sa.func.sum(households.c.members).label("members"),
            sa.func.sum(unaccounted).label("members_unaccounted"),
        )
        .join(h, h.c.id == households.c.household_id)
        .group_by(h.c.district)
        .order_by(h.c.district)
    )
    with engine.connect() as conn:
        frame = query_frame(conn, stmt)
    for column in ("households", "households_unaccounted", "members", "members_unaccounted"):
        frame[column] = frame[column].fillna(0).astype(int)
    return frame
