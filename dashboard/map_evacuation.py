"""The HQ map's layer of evacuation information in force: each area's outline in its alert
level's colour (:mod:`bosai.palette`, ``evacuation.level3``–``5``), wider for a higher level,
with a light tint of the same colour, and a plain-text tooltip (area, level, since when).
Built apart from :mod:`dashboard.map_deck`: the page appends these layers to the deck."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from bosai.jpdate import format_datetime
from bosai.palette import rgba
from sql.queries.evacuation import InForce

from .map_deck import area_layer

LAYER_EVACUATION = "evacuation-areas"
#: The legend's key of this layer (label ``hqmap.layer.evacuation``).
LEGEND_KEY = "evacuation"
#: Outline width in pixels per level.
LINE_PX = {3: 3, 4: 5, 5: 7}
TINT_ALPHA = 40
COORD_DECIMALS = 5


def area_records(
    areas: pd.DataFrame, in_force: dict[int, InForce], t: Callable[..., str], lang: str = "ja"
) -> list[dict[str, Any]]:
    """One record per polygon part of each area with a level in force."""
    records = []
    for row in areas.itertuples(index=False):
        found = in_force.get(int(row.id))
        if found is None:
            continue
        geometry = shapely.from_wkb(row.geom_wkb)
        parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
        name = (
            row.name_en
            if lang == "en" and isinstance(row.name_en, str) and row.name_en
            else row.name_ja
        )
        tip = t(
            "hqmap.evacuation_tip",
            area=name,
            level=t(f"evacuation.level.{found.level}"),
            since=format_datetime(found.issued_at, lang),
        )
        if found.is_exercise:
            tip = f"{t('evacuation.page.exercise')}: {tip}"
        meaning = f"evacuation.level{found.level}"
        for part in parts:
            ring = np.round(np.asarray(part.exterior.coords)[:, :2], COORD_DECIMALS).tolist()
            records.append(
                {
                    "polygon": ring,
                    "lc": rgba(meaning, 255),
                    "fc": rgba(meaning, TINT_ALPHA),
                    "w": LINE_PX[found.level],
                    "level": found.level,
                    "t": tip,
                }
            )
    # Higher levels drawn last (on top).
    records.sort(key=lambda r: r["level"])
    return records


def evacuation_layers(
    areas: pd.DataFrame, in_force: dict[int, InForce], t: Callable[..., str], lang: str = "ja"
) -> list[pdk.Layer]:
    records = area_records(areas, in_force, t, lang)
    if not records:
        return []
    return [area_layer(LAYER_EVACUATION, records, fill="fc", outline=("lc", "w"), pickable=True)]
