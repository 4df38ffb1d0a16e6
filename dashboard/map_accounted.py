"""The HQ map's aggregate layer of the safety loop: unaccounted people per district.

One ring per district, centred on the mean position of the district's homes (never on a
person), its area proportional to the number of people not accounted for, with the number
written in it. Black rings (one meaning, not a status colour) so they read over the status
hexagons. Built apart from :mod:`dashboard.map_deck`: the page appends these layers to the deck.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk

from analytics.small_cells import is_small
from bosai.palette import rgba

LAYER_UNACCOUNTED = "unaccounted-districts"
LAYER_UNACCOUNTED_TEXT = "unaccounted-districts-count"
RING_COLOUR = rgba("unaccounted.district", 230)
#: The legend's key of these layers (label ``hqmap.layer.unaccounted``).
LEGEND_KEY = "unaccounted"
#: Ring radius in metres for the largest district count (others scale by the square root).
MAX_RADIUS_M = 900.0


def district_records(
    points: pd.DataFrame, t: Callable[..., str], exact_counts: bool = True
) -> list[dict[str, Any]]:
    """Records of :func:`compositions.safety_state.district_points`: position, radius, label and
    a plain-text tooltip."""
    if points.empty:
        return []
    top = max(int(points["unaccounted"].max()), 1)

    def shown(n: int) -> str:
        return t("hqmap.fewer_than_5") if not exact_counts and is_small(n) else f"{n:,}"

    records = []
    for row in points.itertuples(index=False):
        n = int(row.unaccounted)
        if n == 0:
            continue
        records.append(
            {
                "p": [round(float(row.lon), 4), round(float(row.lat), 4)],
                "r": float(MAX_RADIUS_M * np.sqrt(n / top)),
                "n": shown(n) if exact_counts else ("<5" if is_small(n) else f"{n:,}"),
                "t": t(
                    "safety.map.tip",
                    district=row.district,
                    unaccounted=shown(n),
                    priority=shown(int(row.priority)),
                    needs_help=shown(int(row.needs_help)),
                    people=shown(int(row.people)),
                ),
            }
        )
    return records


def accounted_layers(
    points: pd.DataFrame, t: Callable[..., str], exact_counts: bool = True
) -> list[pdk.Layer]:
    """The rings and their numbers, to append to the HQ map's deck."""
    records = district_records(points, t, exact_counts)
    if not records:
        return []
    return [
        pdk.Layer(
            "ScatterplotLayer",
            id=LAYER_UNACCOUNTED,
            data=records,
            get_position="p",
            get_radius="r",
            radius_units="'meters'",
            stroked=True,
            filled=False,
            get_line_color=RING_COLOUR,
            line_width_min_pixels=2,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            id=LAYER_UNACCOUNTED_TEXT,
            data=records,
            get_position="p",
            get_text="n",
            get_size=14,
            get_color=RING_COLOUR,
            pickable=False,
        ),
    ]
