"""Fixtures shared by the data-layer tests."""

from __future__ import annotations

import pytest

from drills.demo_city import DemoParams, generate
from sql import policy
from sql.city_config import active_city
from sql.demo_store import load_demo


@pytest.fixture
def demo_engine(engine):
    """A small demo city (its incident 1 is in emergency mode)."""
    data = generate(DemoParams(citizens=600), active_city(engine))
    load_demo(engine, data.tables, data.params.as_meta())
    policy.forget_recent_views()
    return engine
