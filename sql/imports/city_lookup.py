"""Which configured city a record belongs to, from its municipality code or published names.

Cities are configuration (``sql.city_config``), never code: a record from 石川県七尾市 finds the
configured city whose ``prefecture_ja`` + ``name_ja`` match, or none — and then the import
says which city to configure instead of guessing.
"""

from __future__ import annotations

import dataclasses
import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers.problems import Problem, reason
from importers.shelter_record import RecordOrigin, ShelterRecord

from ..models import City


@dataclasses.dataclass(frozen=True)
class KnownCity:
    municipality_code: str
    name_ja: str
    prefecture_ja: str
    active: bool


def known_cities(session: Session) -> list[KnownCity]:
    rows = session.execute(
        sa.select(City.municipality_code, City.name_ja, City.prefecture_ja, City.active).order_by(
            City.id
        )
    )
    return [KnownCity(*row) for row in rows]


def _norm(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").replace(" ", "").strip()


def city_for_names(
    cities: list[KnownCity], prefecture: str | None, municipality: str | None, address: str | None
) -> KnownCity | None:
    pref, muni, addr = _norm(prefecture), _norm(municipality), _norm(address)
    for city in cities:
        name, city_pref = _norm(city.name_ja), _norm(city.prefecture_ja)
        if muni and muni == name and (not pref or pref == city_pref):
            return city
        if not muni and addr and (addr.startswith(city_pref + name) or addr.startswith(name)):
            return city
    return None


def resolve_municipality_codes(
    session: Session, records: list[ShelterRecord], default_code: str | None = None
) -> list[Problem]:
    """Fill ``municipality_code`` from the published names; a problem per unknown city.

    Records with neither a code nor any name or address take ``default_code`` (the active
    city, for hand-made lists of the city's own shelters).
    """
    cities = known_cities(session)
    if default_code is None:
        default_code = next((c.municipality_code for c in cities if c.active), None)
    problems: list[Problem] = []
    reported: set[str] = set()
    for record in records:
        if record.municipality_code:
            continue
        if not (record.prefecture_name or record.municipality_name or record.address):
            record.municipality_code = default_code
            continue
        city = city_for_names(
            cities, record.prefecture_name, record.municipality_name, record.address
        )
        if city is not None:
            record.municipality_code = city.municipality_code
            continue
        place = f"{record.prefecture_name or ''}{record.municipality_name or ''}" or (
            record.address or ""
        )
        origin = record.origin or RecordOrigin("-", 0)
        if place not in reported:
            reported.add(place)
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    "所在地_市区町村" if record.municipality_name else "所在地_連結表記",
                    reason("importers.problem.city_not_configured", place=place),
                )
            )
    return problems
