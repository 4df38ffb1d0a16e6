"""The bosai leaves anyone may import: the vocabulary and Japan's bounds."""

from __future__ import annotations

import doctest

import pytest

from bosai import geo_bounds, vocab
from bosai.geo_bounds import in_japan


@pytest.mark.parametrize("module", [vocab, geo_bounds])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def test_the_models_check_the_stored_codes_against_the_vocabulary():
    from sql.models import HazardZone, StatusReport

    assert tuple(StatusReport.__table__.c.state.type.enums) == vocab.STATUS_STATES
    assert tuple(HazardZone.__table__.c.kind.type.enums) == vocab.HAZARD_ZONE_KINDS


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (37.49, 139.93, True),  # 会津若松
        (20.42, 136.08, True),  # 沖ノ鳥島
        (24.28, 153.98, True),  # 南鳥島
        (45.5, 148.8, True),  # 択捉島
        (139.93, 37.49, False),  # latitude and longitude swapped
        (39.90, 116.40, False),  # Beijing
    ],
)
def test_japan_bounds_take_in_the_remote_islands(lat, lon, inside):
    assert in_japan(lat, lon) is inside
