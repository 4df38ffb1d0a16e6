"""Shelter congestion, suitability for the warnings in force, and expected arrivals.

Congestion (share of capacity): 空いています below 30 %, やや混雑 30–60 %, 混雑 60–80 %,
満 from 80 % (thresholds configurable per city: ``settings.congestion_thresholds``).
Suitability is judged for the hazards of the warnings in force
(:func:`analytics.hazards.hazards_for_warnings`) with the zone index of
:mod:`analytics.hazards`, as the HQ map and the people-per-zone counts are.

>>> congestion_level(50, 400), congestion_level(300, 400), congestion_level(10, None)
('vacant', 'crowded', 'unknown')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .hazards import ZoneIndex

CONGESTION_LEVELS = ("vacant", "somewhat", "crowded", "full")
DEFAULT_THRESHOLDS = (0.30, 0.60, 0.80)


def congestion_level(
    head_count: float | None,
    capacity: float | None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> str:
    """``vacant`` / ``somewhat`` / ``crowded`` / ``full``, or ``unknown`` without a capacity."""
    if capacity is None or pd.isna(capacity) or capacity <= 0:
        return "unknown"
    share = 0.0 if head_count is None or pd.isna(head_count) else float(head_count) / capacity
    low, mid, high = thresholds
    if share >= high:
        return "full"
    if share >= mid:
        return "crowded"
    if share >= low:
        return "somewhat"
    return "vacant"


def suitability(
    shelters: pd.DataFrame,
    hazards: Sequence[str],
    zones: ZoneIndex | None = None,
    low_elevation_m: float | None = None,
) -> pd.Series:
    """For each shelter, the list of reasons it is unsuitable for the active hazards (empty
    when suitable): ``no_flag:<hazard>`` (not designated for it), ``in_zone:<kind>`` (lies in a
    hazard zone of that kind), ``low_for_flood`` (below ``low_elevation_m`` in a flood)."""
    reasons: list[list[str]] = [[] for _ in range(len(shelters))]
    for hazard in hazards:
        column = f"hazard_{hazard}"
        if column in shelters:
            flags = shelters[column].fillna(False).astype(bool).to_numpy()
            for i in np.flatnonzero(~flags):
                reasons[i].append(f"no_flag:{hazard}")
    if zones is not None and len(shelters) and hazards:
        kinds = zones.kinds_at(shelters["lat"].to_numpy(), shelters["lon"].to_numpy())
        relevant = set(hazards)
        for i, here in enumerate(kinds):
            for kind in sorted(here & relevant):
                reasons[i].append(f"in_zone:{kind}")
    if low_elevation_m is not None and "flood" in hazards and "elevation_m" in shelters:
        elevation = shelters["elevation_m"].to_numpy(dtype=float)
        for i in np.flatnonzero(elevation < low_elevation_m):
            reasons[i].append("low_for_flood")
    return pd.Series(reasons, index=shelters.index, name="unsuitable_reasons")


def board(
    shelters: pd.DataFrame,
    hazards: Sequence[str],
    zones: ZoneIndex | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    low_elevation_m: float | None = None,
) -> pd.DataFrame:
    """The shelter table with ``occupancy`` (head count / capacity), ``congestion``,
    ``unsuitable_reasons`` and ``suitable`` added."""
    out = shelters.copy()
    capacity = pd.to_numeric(out["capacity"], errors="coerce")
    heads = pd.to_numeric(out["head_count"], errors="coerce")
    out["occupancy"] = (heads / capacity.where(capacity > 0)).astype(float)
    out["congestion"] = [
        congestion_level(h, c, thresholds) for h, c in zip(heads, capacity, strict=True)
    ]
    out["unsuitable_reasons"] = suitability(out, hazards, zones, low_elevation_m)
    out["suitable"] = out["unsuitable_reasons"].map(len) == 0
    return out


def expected_arrivals(
    shelter_ids: Sequence[int],
    heading_to: Sequence[int | None],
    nearest_suitable: Sequence[int | None],
) -> pd.Series:
    """Citizens expected at each shelter: those evacuating towards it (``heading_to``), else
    those whose nearest suitable open shelter it is (``nearest_suitable``), one each."""
    target = pd.Series(heading_to, dtype="Int64").fillna(pd.Series(nearest_suitable, dtype="Int64"))
    counts = target.dropna().astype(int).value_counts()
    return pd.Series(
        [int(counts.get(int(s), 0)) for s in shelter_ids], index=list(shelter_ids), name="expected"
    )


#: Congestion bands in the order they need attention (most first).
ATTENTION_BY_CONGESTION = {"full": 1, "crowded": 2, "somewhat": 4, "vacant": 5, "unknown": 6}


def shelter_attention(board: pd.DataFrame) -> pd.Series:
    """The order a shelter needs attention in (smaller first): over capacity (0), then nearly
    full (1) and crowded (2), then open but unsuitable for the hazards in force (3), then the
    rest by congestion. Ties are broken by the caller (occupancy, name).

    >>> board = pd.DataFrame({"occupancy": [0.2, 1.4, 0.9, 0.1],
    ...     "congestion": ["vacant", "full", "full", "vacant"], "suitable": [True, True, True, False]})
    >>> shelter_attention(board).tolist()
    [5, 0, 1, 3]
    """
    occupancy = pd.to_numeric(board["occupancy"], errors="coerce")
    order = board["congestion"].map(ATTENTION_BY_CONGESTION).fillna(6).astype(int)
    order = order.where(board["suitable"].astype(bool) | (order <= 2), 3)
    return order.where(~(occupancy > 1.0), 0).astype(int)
