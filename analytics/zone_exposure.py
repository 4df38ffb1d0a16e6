"""People in each hazard zone by status: which rank of each zone kind a home lies in.

For every zone kind (flood, landslide, ...) a home point counts once, in the *worst* rank of
that kind it lies in — the worst zone as :mod:`analytics.hazards` defines it for the HQ map and
the shelter board: the deepest flood rank; for landslides the special warning zone
(土砂災害特別警戒区域) over the warning zone. A home in a flood zone and a landslide zone counts
under both kinds. The point-in-polygon step (:class:`analytics.hazards.ZoneIndex`) runs once per
set of homes and zones (:class:`ZoneMembership`, kept by the page while neither changes);
counting the latest statuses is then a ``numpy.bincount``.

>>> import numpy as np, pandas as pd, shapely
>>> wkb = lambda *box: shapely.to_wkb(shapely.box(*box))
>>> zones = pd.DataFrame({"id": [1, 2, 3], "kind": ["flood", "flood", "landslide"],
...     "rank_code": ["2", "3", "1"], "rank_label": ["0.5m以上3.0m未満", "3.0m以上5.0m未満", "警戒区域"],
...     "depth_min_m": [0.5, 3.0, None], "depth_max_m": [3.0, 5.0, None],
...     "geom_wkb": [wkb(0, 0, 2, 2), wkb(0, 0, 1, 1), wkb(0.5, 0.5, 3, 3)]})
>>> homes = ZoneMembership(np.array([10, 11, 12, 13]), np.array([0.5, 1.5, 2.5, 9.0]),
...                        np.array([0.5, 1.5, 2.5, 9.0]), zones)
>>> table = homes.counts(np.array([10, 11]), np.array(["needs_rescue", "safe_at_home"]))
>>> table[["kind", "rank_code", "needs_rescue", "safe_at_home", "no_report", "total"]].to_dict("records")
[{'kind': 'flood', 'rank_code': '3', 'needs_rescue': 1, 'safe_at_home': 0, 'no_report': 0, 'total': 1}, {'kind': 'flood', 'rank_code': '2', 'needs_rescue': 0, 'safe_at_home': 1, 'no_report': 0, 'total': 1}, {'kind': 'landslide', 'rank_code': '1', 'needs_rescue': 1, 'safe_at_home': 1, 'no_report': 1, 'total': 3}]
>>> depth_range_text(0.5, 3.0), depth_range_text(20.0, None), depth_range_text(None, 0.5)
('0.5–3.0 m', '20.0 m –', '– 0.5 m')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bosai.vocab import HAZARD_ZONE_KINDS, STATUS_STATES

from .hazards import ZoneIndex, zone_levels

#: Status columns of the counts, most urgent first, then no report.
NO_REPORT = "no_report"
STATUS_COLUMNS = (
    "needs_rescue",
    "injured",
    "evacuating",
    "unknown",
    "at_shelter",
    "elsewhere_safe",
    "safe_at_home",
    NO_REPORT,
)
RANK_KEYS = ("kind", "rank_code", "rank_label", "depth_min_m", "depth_max_m")


def depth_range_text(depth_min: float | None, depth_max: float | None) -> str:
    """A depth rank as people read it: ``0.5–3.0 m``, ``20.0 m –`` (no upper bound),
    ``– 0.5 m`` (no lower bound), or empty for a zone without depths."""
    lo = None if depth_min is None or pd.isna(depth_min) else float(depth_min)
    hi = None if depth_max is None or pd.isna(depth_max) else float(depth_max)
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"{lo:.1f} m –"
    if lo is None or lo == 0:
        return f"– {hi:.1f} m"
    return f"{lo:.1f}–{hi:.1f} m"


def rank_table(zones: pd.DataFrame) -> pd.DataFrame:
    """One row per zone rank: ``kind``, ``rank_code``, ``rank_label``, ``depth_min_m``,
    ``depth_max_m``, ``level`` (:func:`analytics.hazards.zone_levels`), ``zones`` (how many
    polygons), ``depth_range`` (text), ordered by kind (:data:`~bosai.vocab.HAZARD_ZONE_KINDS`)
    and worst rank first (the worst-zone rule of :mod:`analytics.hazards`)."""
    columns = [*RANK_KEYS, "level", "zones", "depth_range"]
    if zones.empty:
        return pd.DataFrame(columns=columns)
    frame = zones.reset_index(drop=True).copy()
    for key in RANK_KEYS:
        if key not in frame:
            frame[key] = None
    frame["level"] = zone_levels(frame)
    keys = frame[list(RANK_KEYS)].astype(object).where(frame[list(RANK_KEYS)].notna(), None)
    frame["_key"] = list(keys.itertuples(index=False, name=None))
    table = (
        frame.groupby("_key", sort=False)
        .agg(level=("level", "max"), zones=("level", "size"))
        .reset_index()
    )
    table[list(RANK_KEYS)] = pd.DataFrame(table["_key"].tolist(), index=table.index)
    for column in ("depth_min_m", "depth_max_m"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["depth_range"] = [
        depth_range_text(a, b)
        for a, b in zip(table["depth_min_m"], table["depth_max_m"], strict=True)
    ]
    kind_order = {k: i for i, k in enumerate(HAZARD_ZONE_KINDS)}
    table["_kind"] = table["kind"].map(lambda k: kind_order.get(k, len(kind_order)))
    table = table.sort_values(
        ["_kind", "level", "depth_min_m", "rank_code"], ascending=[True, False, False, True]
    )
    return table[columns].reset_index(drop=True)


class ZoneMembership:
    """For each zone kind, the worst rank each home lies in (built once per homes and zones).

    Parameters
    ----------
    ids, lat, lon
        Citizens with a home point (any order; ids unique).
    zones
        Hazard zones with ``kind``, ``rank_code``, ``rank_label``, ``depth_min_m``,
        ``depth_max_m`` and ``geom_wkb`` (WGS84), as from ``sql.queries.hazards.hazard_zones``.
    """

    def __init__(self, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, zones: pd.DataFrame):
        order = np.argsort(np.asarray(ids, np.int64), kind="stable")
        self.ids = np.asarray(ids, np.int64)[order]
        lat = np.asarray(lat, float)[order]
        lon = np.asarray(lon, float)[order]
        self.ranks = rank_table(zones)
        #: Rank row (in :attr:`ranks`) of each home per kind; -1 outside every zone of the kind.
        self.rank_of: dict[str, np.ndarray] = {}
        if zones.empty or len(self.ids) == 0:
            return
        zones = zones.reset_index(drop=True)
        rank_index = {
            tuple(None if pd.isna(v) else v for v in key): i
            for i, key in enumerate(self.ranks[list(RANK_KEYS)].itertuples(index=False))
        }
        zone_rank = np.array(
            [
                rank_index[tuple(None if pd.isna(v) else v for v in key)]
                for key in zones.reindex(columns=list(RANK_KEYS)).itertuples(index=False)
            ],
            dtype=np.int64,
        )
        worst = ZoneIndex(zones).worst_zone_by_kind(lat, lon)
        for kind, rows in worst.items():
            self.rank_of[kind] = np.where(rows >= 0, zone_rank[np.maximum(rows, 0)], -1)

    def counts(self, citizen_ids: np.ndarray, states: Sequence[str] | np.ndarray) -> pd.DataFrame:
        """People per zone rank and latest status.

        Parameters
        ----------
        citizen_ids, states
            Each citizen's latest status in the incident: state names, or integer codes (the
            index in ``STATUS_STATES``, -1 for no report) as
            :func:`sql.queries.status_snapshot.latest_states` returns them. Citizens missing
            here count as ``no_report``; ids without a home point are ignored.

        Returns
        -------
        pandas.DataFrame
            The :func:`rank_table` columns, then one count column per status of
            :data:`STATUS_COLUMNS` and ``total`` (homes in the rank).
        """
        status = np.full(len(self.ids), len(STATUS_COLUMNS) - 1, np.int64)
        citizen_ids = np.asarray(citizen_ids, np.int64)
        if len(citizen_ids) and len(self.ids):
            pos = np.searchsorted(self.ids, citizen_ids)
            clipped = np.minimum(pos, len(self.ids) - 1)
            found = self.ids[clipped] == citizen_ids
            status[clipped[found]] = _status_columns(states)[found]
        table = self.ranks.copy()
        n_ranks, n_states = len(table), len(STATUS_COLUMNS)
        grid = np.zeros((n_ranks, n_states), np.int64)
        for ranks in self.rank_of.values():
            inside = ranks >= 0
            flat = ranks[inside] * n_states + status[inside]
            grid += np.bincount(flat, minlength=n_ranks * n_states).reshape(n_ranks, n_states)
        for i, column in enumerate(STATUS_COLUMNS):
            table[column] = grid[:, i]
        table["total"] = grid.sum(axis=1)
        return table


#: Column index in :data:`STATUS_COLUMNS` of each ``STATUS_STATES`` code, then of "no report".
_CODE_TO_COLUMN = np.array(
    [STATUS_COLUMNS.index(s) for s in STATUS_STATES] + [STATUS_COLUMNS.index(NO_REPORT)]
)


def _status_columns(states: Sequence[str] | np.ndarray) -> np.ndarray:
    values = np.asarray(states)
    if np.issubdtype(values.dtype, np.integer):
        codes = values.astype(np.int64)
        return _CODE_TO_COLUMN[np.where(codes < 0, len(STATUS_STATES), codes)]
    column = {s: i for i, s in enumerate(STATUS_COLUMNS)}
    mapped = pd.Series(values, dtype=object).map(column)
    return mapped.fillna(column[NO_REPORT]).to_numpy(dtype=np.int64)


def state_names(codes: np.ndarray) -> np.ndarray:
    """State names of integer state codes (index in ``STATUS_STATES``; -1 = no report), as
    :func:`sql.queries.status_snapshot.latest_states` returns them.

    Examples
    --------
    >>> import numpy as np
    >>> state_names(np.array([1, -1, 6])).tolist()
    ['safe_at_home', 'no_report', 'needs_rescue']
    """
    names = np.array([*STATUS_STATES, NO_REPORT], dtype=object)
    codes = np.asarray(codes, np.int64)
    return names[np.where(codes < 0, len(STATUS_STATES), codes)]
