"""The configured city: read, set, load from a city file, and the default for a fresh database."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from bosai.errors import BosaiError, InvalidInputError

from .models import City
from .models.base import utcnow

CITIES_DIR = Path(__file__).with_name("cities")
DEFAULT_CITY_FILE = CITIES_DIR / "072028.yaml"

FIELDS = tuple(
    c.name for c in City.__table__.columns if c.name not in ("id", "active", "updated_at")
)
#: What a city file must give: every column the table has no default for.
REQUIRED = tuple(
    c.name
    for c in City.__table__.columns
    if not (c.primary_key or c.nullable or c.default is not None)
)
#: The columns held as numbers (degrees, zoom).
FLOAT_FIELDS = tuple(c.name for c in City.__table__.columns if c.type.python_type is float)


@dataclasses.dataclass(frozen=True)
class CityConfig:
    """The active city as a plain value (safe to cache and pass to pages)."""

    id: int
    municipality_code: str
    name_ja: str
    name_en: str
    prefecture_ja: str
    prefecture_en: str
    jma_municipality_code: str
    jma_group_code: str | None
    jma_subdivision_code: str | None
    jma_prefecture_code: str | None
    center_lat: float
    center_lon: float
    bbox_south: float
    bbox_west: float
    bbox_north: float
    bbox_east: float
    default_zoom: float
    timezone: str
    settings: dict[str, Any]

    @property
    def jma_area_codes(self) -> tuple[tuple[str, str], ...]:
        """(level, code) from the most to the least specific, for the JMA warning fallback."""
        levels = (
            ("municipality", self.jma_municipality_code),
            ("group", self.jma_group_code),
            ("subdivision", self.jma_subdivision_code),
            ("prefecture", self.jma_prefecture_code),
        )
        return tuple((lvl, code) for lvl, code in levels if code)

    def name(self, lang: str = "ja") -> str:
        return self.name_en if lang == "en" else self.name_ja

    def setting(self, key: str, default: Any = None) -> Any:
        return (self.settings or {}).get(key, default)


def validate_city(values: dict[str, Any], source: str = "city") -> dict[str, Any]:
    """Check a city definition; returns it normalised or raises :class:`InvalidInputError`."""
    problems = [
        f"{source}: missing field {name!r}" for name in REQUIRED if values.get(name) in (None, "")
    ]
    unknown = sorted(set(values) - set(FIELDS))
    problems += [f"{source}: unknown field {name!r}" for name in unknown]
    out = {k: v for k, v in values.items() if k in FIELDS}
    for name in FLOAT_FIELDS:
        if name in out and out[name] is not None:
            try:
                out[name] = float(out[name])
            except (TypeError, ValueError):
                problems.append(f"{source}: {name}: not a number: {out[name]!r}")
    code = str(out.get("municipality_code", ""))
    if code and not (code.isdigit() and len(code) == 6):
        problems.append(
            f"{source}: municipality_code: expected 6 digits (e.g. 072028), got {code!r}"
        )
    jma = str(out.get("jma_municipality_code", ""))
    if jma and not (jma.isdigit() and len(jma) == 7):
        problems.append(
            f"{source}: jma_municipality_code: expected 7 digits (e.g. 0720200), got {jma!r}"
        )
    if not problems:
        if not out["bbox_south"] < out["center_lat"] < out["bbox_north"]:
            problems.append(f"{source}: center_lat lies outside bbox_south..bbox_north")
        if not out["bbox_west"] < out["center_lon"] < out["bbox_east"]:
            problems.append(f"{source}: center_lon lies outside bbox_west..bbox_east")
    if problems:
        raise InvalidInputError(f"{source}: invalid city definition", problems)
    for key in (
        "municipality_code",
        "jma_municipality_code",
        "jma_group_code",
        "jma_subdivision_code",
        "jma_prefecture_code",
    ):
        if out.get(key) is not None:
            out[key] = str(out[key])
    return out


def read_city_file(path: Path) -> dict[str, Any]:
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BosaiError(f"{path}: no such city file") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise InvalidInputError(f"{path}: expected a mapping of city fields")
    return validate_city(values, str(path))


def _to_config(row: City) -> CityConfig:
    return CityConfig(**{f.name: getattr(row, f.name) for f in dataclasses.fields(CityConfig)})


def active_city(engine: Engine) -> CityConfig:
    """The city this deployment serves."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(City).where(City.active.is_(True)).order_by(City.id)).first()
    if row is None:
        raise BosaiError("no city is configured: run `bosai db upgrade` or `bosai city load FILE`")
    with sa.orm.Session(engine) as session:
        return _to_config(session.get(City, row.id))


def ensure_default_city(engine: Engine) -> bool:
    """Configure the default city (Aizuwakamatsu) when none exists. True when it was added."""
    with sa.orm.Session(engine) as session, session.begin():
        if session.scalar(sa.select(sa.func.count()).select_from(City)):
            return False
        values = read_city_file(DEFAULT_CITY_FILE)
        session.add(City(**values, active=True, updated_at=utcnow()))
    return True


def set_city(engine: Engine, values: dict[str, Any], source: str = "city") -> CityConfig:
    """Create or update the city with these values and make it the active one."""
    with sa.orm.Session(engine) as session, session.begin():
        current = session.scalar(sa.select(City).where(City.active.is_(True)))
        merged: dict[str, Any] = {}
        if current is not None:
            merged = {name: getattr(current, name) for name in FIELDS}
        merged.update(values)
        clean = validate_city(merged, source)
        target = session.scalar(
            sa.select(City).where(City.municipality_code == clean["municipality_code"])
        )
        session.execute(sa.update(City).values(active=False))
        if target is None:
            target = City(**clean)
            session.add(target)
        else:
            for key, value in clean.items():
                setattr(target, key, value)
        target.active = True
        target.updated_at = utcnow()
    return active_city(engine)


def city_as_dict(city: CityConfig) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(city).items() if k != "id"}


def known_city_name(municipality_code: str, lang: str = "ja") -> str | None:
    """The name of a municipality whose city file ships in ``sql/cities/`` (None if unknown),
    e.g. to say whose app a scanned QR code is from."""
    path = CITIES_DIR / f"{municipality_code}.yaml"
    if not path.is_file():
        return None
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return values.get("name_en" if lang == "en" else "name_ja")


def evacuation_rules_path(municipality_code: str) -> Path:
    """The city's evacuation rules (避難情報の発令基準): ``sql/cities/evacuation/<code>.yaml``."""
    return CITIES_DIR / "evacuation" / f"{municipality_code}.yaml"
