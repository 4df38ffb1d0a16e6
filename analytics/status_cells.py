"""Citizens' safety status aggregated on H3 cells — what the HQ map draws instead of people.

Sending every citizen to the browser costs about 210 bytes a point (the naive page of
``benchmarks/bench_hq_map.py``: 25 MB of deck JSON for 120,000 citizens, ``hq_map.payload_kb``'s
baseline); the map sends one hexagon per H3 cell with counts instead. Home points are indexed
once per resolution (:class:`StatusGrid`); each refresh only applies the status rows that
changed (:class:`LiveStatus`) and counts with ``numpy.bincount``.

>>> import numpy as np
>>> grid = StatusGrid(np.array([1, 2, 3]), np.array([37.495, 37.495, 37.40]),
...                   np.array([139.93, 139.93, 139.80]))
>>> live = LiveStatus(grid)
>>> live.apply(np.array([1, 3]), np.array([STATE_INDEX["needs_rescue"], STATE_INDEX["safe_at_home"]]))
>>> table = grid.aggregate(live.states, 8)
>>> sorted(table["citizens"].tolist()), int(table["needs_rescue"].sum()), int(table["confirmed"].sum())
([1, 2], 1, 1)
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd

from bosai.palette import ramp
from bosai.vocab import SAFE_STATES, STATUS_STATES

#: State codes are indexes in ``STATUS_STATES`` (as in ``sql.queries.status_snapshot``).
STATES = STATUS_STATES
STATE_INDEX = {s: i for i, s in enumerate(STATES)}
NO_REPORT = -1
SAFE = np.array([STATE_INDEX[s] for s in SAFE_STATES])
RESOLUTIONS = (7, 8, 9)


def resolution_for_zoom(zoom: float) -> int:
    """H3 resolution whose hexagons read well at a map zoom (about 20–40 px across)."""
    if zoom < 11:
        return 7
    if zoom < 13.5:
        return 8
    return 9


def cells_of(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell (as uint64) of each point."""
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter(
        (to_cell(a, b, resolution) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)),
        np.uint64,
        len(lat),
    )


class StatusGrid:
    """Home points indexed on H3 cells at :data:`RESOLUTIONS` (built once, then reused)."""

    def __init__(self, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray):
        order = np.argsort(ids, kind="stable")
        self.ids = np.asarray(ids, np.int64)[order]
        lat = np.asarray(lat, float)[order]
        lon = np.asarray(lon, float)[order]
        self.lat, self.lon = lat, lon
        self.codes: dict[int, np.ndarray] = {}
        self.cells: dict[int, np.ndarray] = {}
        for res in RESOLUTIONS:
            # Each resolution from the point itself: an H3 cell's parent does not always
            # contain every point of the cell (children do not tile their parent exactly).
            per_point = cells_of(lat, lon, res)
            uniq, codes = np.unique(per_point, return_inverse=True)
            self.cells[res] = uniq
            self.codes[res] = codes.astype(np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, citizen_ids: np.ndarray) -> np.ndarray:
        """Position of each citizen id in the grid, -1 for ids without a home point."""
        citizen_ids = np.asarray(citizen_ids, np.int64)
        pos = np.searchsorted(self.ids, citizen_ids)
        pos_clipped = np.minimum(pos, max(len(self.ids) - 1, 0))
        found = (len(self.ids) > 0) & (self.ids[pos_clipped] == citizen_ids)
        return np.where(found, pos_clipped, -1)

    def aggregate(self, states: np.ndarray, resolution: int) -> pd.DataFrame:
        """One row per H3 cell: citizens, reported, confirmed (safe), unconfirmed,
        needs_rescue, injured, evacuating, at_shelter, share_unconfirmed."""
        codes = self.codes[resolution]
        n_cells = len(self.cells[resolution])
        states = np.asarray(states)

        def count(mask: np.ndarray | None = None) -> np.ndarray:
            if mask is None:
                return np.bincount(codes, minlength=n_cells)
            return np.bincount(codes[mask], minlength=n_cells)

        citizens = count()
        reported = count(states != NO_REPORT)
        confirmed = count(np.isin(states, SAFE))
        table = pd.DataFrame(
            {
                "cell": [h3.int_to_str(int(c)) for c in self.cells[resolution]],
                "citizens": citizens,
                "reported": reported,
                "confirmed": confirmed,
                "unconfirmed": citizens - confirmed,
                "needs_rescue": count(states == STATE_INDEX["needs_rescue"]),
                "injured": count(states == STATE_INDEX["injured"]),
                "evacuating": count(states == STATE_INDEX["evacuating"]),
                "at_shelter": count(states == STATE_INDEX["at_shelter"]),
            }
        )
        table["share_unconfirmed"] = table["unconfirmed"] / table["citizens"].clip(lower=1)
        return table[table["citizens"] > 0].reset_index(drop=True)


class LiveStatus:
    """Each grid citizen's current state code, updated from changed status rows."""

    def __init__(self, grid: StatusGrid):
        self.grid = grid
        self.states = np.full(len(grid), NO_REPORT, np.int8)
        self.last_report_id = 0

    def apply(
        self, citizen_ids: np.ndarray, states: np.ndarray, report_ids: np.ndarray | None = None
    ) -> None:
        pos = self.grid.index_of(citizen_ids)
        keep = pos >= 0
        self.states[pos[keep]] = np.asarray(states)[keep]
        if report_ids is not None and len(report_ids):
            self.last_report_id = max(self.last_report_id, int(np.max(report_ids)))


# ------------------------------------------------------------------ colours


def unconfirmed_colour(share: float, alpha: int = 150) -> list[int]:
    """RGBA for a share in [0, 1] not confirmed safe: light grey (none) → dark grey (all), the
    palette's ``cells.unconfirmed_*`` meanings (grey: not known, as ``status.unknown``)."""
    return ramp("cells.unconfirmed_none", "cells.unconfirmed_all", share, alpha)
