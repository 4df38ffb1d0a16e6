"""Bring a database to a usable state: schema at head and a city configured."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from . import city_config, migrate


def prepare_database(engine: Engine) -> str:
    """Migrate to head and configure the default city if none is; returns the revision."""
    revision = migrate.upgrade(engine)
    city_config.ensure_default_city(engine)
    return revision
