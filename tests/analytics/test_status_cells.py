"""H3 aggregation of citizens' status, pinned to per-point ``h3.latlng_to_cell`` counts."""

from __future__ import annotations

import doctest

import h3
import numpy as np
import pandas as pd
import pytest

from analytics import status_cells
from analytics.status_cells import (
    NO_REPORT,
    STATE_INDEX,
    LiveStatus,
    StatusGrid,
    resolution_for_zoom,
    unconfirmed_colour,
)


@pytest.fixture
def points():
    rng = np.random.default_rng(7)
    n = 3_000
    ids = rng.permutation(np.arange(1, n + 1) * 3)  # unsorted, with gaps
    lat = 37.46 + rng.random(n) * 0.07
    lon = 139.88 + rng.random(n) * 0.10
    states = rng.integers(-1, len(status_cells.STATES), n).astype(np.int8)
    return ids, lat, lon, states


@pytest.mark.parametrize("resolution", [7, 8, 9])
def test_counts_equal_a_per_point_h3_groupby(points, resolution):
    ids, lat, lon, states = points
    grid = StatusGrid(ids, lat, lon)
    live = LiveStatus(grid)
    live.apply(ids, states)
    table = grid.aggregate(live.states, resolution).set_index("cell")
    # Reference: h3.latlng_to_cell(lat, lng, res) for every point, grouped with pandas.
    reference = pd.DataFrame(
        {
            "cell": [h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)],
            "state": states,
        }
    )
    by_cell = reference.groupby("cell")
    pd.testing.assert_series_equal(
        table["citizens"].sort_index(), by_cell.size().sort_index(), check_names=False
    )
    safe = reference["state"].isin(
        [STATE_INDEX[s] for s in ("safe_at_home", "at_shelter", "elsewhere_safe")]
    )
    expected_confirmed = reference[safe].groupby("cell").size().reindex(table.index, fill_value=0)
    np.testing.assert_array_equal(table["confirmed"].to_numpy(), expected_confirmed.to_numpy())
    rescue = reference[reference["state"] == STATE_INDEX["needs_rescue"]].groupby("cell").size()
    np.testing.assert_array_equal(
        table["needs_rescue"].to_numpy(), rescue.reindex(table.index, fill_value=0).to_numpy()
    )
    reported = reference[reference["state"] != NO_REPORT].groupby("cell").size()
    np.testing.assert_array_equal(
        table["reported"].to_numpy(), reported.reindex(table.index, fill_value=0).to_numpy()
    )
    assert (table["share_unconfirmed"] == table["unconfirmed"] / table["citizens"]).all()


def test_status_rows_for_unknown_citizens_are_ignored(points):
    ids, lat, lon, _ = points
    grid = StatusGrid(ids, lat, lon)
    live = LiveStatus(grid)
    live.apply(np.array([1, 2, ids[0]]), np.array([6, 6, 6]), np.array([10, 11, 12]))
    assert np.count_nonzero(live.states == 6) == 1
    assert live.last_report_id == 12
    assert grid.index_of(np.array([1, ids[5]])).tolist()[0] == -1


def test_resolution_for_zoom_and_colours():
    assert [resolution_for_zoom(z) for z in (9, 12, 15)] == [7, 8, 9]
    assert unconfirmed_colour(0.0)[:3] == [242, 242, 242]  # light grey: nobody unconfirmed
    assert unconfirmed_colour(1.0)[:3] == [58, 58, 58]
    assert unconfirmed_colour(0.5)[:3] == [150, 150, 150]
    assert unconfirmed_colour(2.0) == unconfirmed_colour(1.0)


def test_docstring_examples():
    assert doctest.testmod(status_cells).failed == 0
