"""The pydeck deck of the HQ map (and the replay) from an :class:`~dashboard.hq_map_state.HqState`.

Layers, bottom to top: hazard-zone polygons, status hexagons (H3), shelters, evacuation-support
register people not yet confirmed safe, rescue requests. Records carry only what the layer
draws and a plain-text tooltip (``t``) — deck.gl's ``text`` tooltip is set as text, never as
HTML, so names from imported data cannot inject markup. Coordinates are rounded to ~1 m.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from analytics.small_cells import is_small

from .hq_map_state import (
    CLOSED_SHELTER,
    CONGESTION_COLOURS,
    COORD_DECIMALS,
    PRIORITY_COLOURS,
    REGISTER_COLOUR,
    HqState,
)

LAYER_CELLS = "status-cells"
LAYER_ZONES = "hazard-zones"
LAYER_SHELTERS = "shelters"
LAYER_REGISTER = "register"
LAYER_RESCUE = "rescue-requests"
SELECTABLE = (LAYER_RESCUE, LAYER_SHELTERS)
#: Roles that see exact small counts in the hexagons (operations); others see 「5未満」.
OPERATIONAL_ROLES = ("hq", "rescue", "shelter_staff")


class CompactDeck(pdk.Deck):
    """A deck serialised compactly: pydeck indents its JSON and escapes every Japanese
    character as ``\\uXXXX`` (6 bytes); this keeps UTF-8 and drops the whitespace, about a
    third of the payload sent to each browser on every refresh."""

    def to_json(self) -> str:
        return json.dumps(
            self,
            sort_keys=True,
            default=default_serialize,
            ensure_ascii=False,
            separators=(",", ":"),
        )


def _pos(lon: float, lat: float) -> list[float]:
    return [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)]


def cell_records(
    state: HqState, t: Callable[..., str], exact_counts: bool = True
) -> list[dict[str, Any]]:
    def shown(n: int) -> str:
        return t("hqmap.fewer_than_5") if not exact_counts and is_small(n) else f"{n:,}"

    cells = state.cells
    return [
        {
            "h": cell,
            "c": colour,
            "r": rescue > 0,
            "t": t(
                "hqmap.cell_tip",
                citizens=shown(citizens),
                unconfirmed=shown(unconfirmed),
                rescue=shown(rescue),
                share=f"{share:.0%}",
            ),
        }
        for cell, colour, citizens, unconfirmed, rescue, share in zip(
            cells["cell"].tolist(),
            cells["c"].tolist(),
            cells["citizens"].tolist(),
            cells["unconfirmed"].tolist(),
            cells["needs_rescue"].tolist(),
            cells["share_unconfirmed"].tolist(),
            strict=True,
        )
    ]


def shelter_records(state: HqState, t: Callable[..., str]) -> list[dict[str, Any]]:
    records = []
    s = state.shelters
    closed = t("hqmap.closed")
    unsuitable = " ⚠ " + t("hqmap.unsuitable")
    levels = {level: t(f"congestion.{level}") for level in CONGESTION_COLOURS}
    for sid, name, lon, lat, is_open, level, head, capacity, suitable in zip(
        s["id"].tolist(),
        s["name"].tolist(),
        s["lon"].tolist(),
        s["lat"].tolist(),
        s["is_open"].tolist(),
        s["congestion"].tolist(),
        s["head_count"].tolist(),
        s["capacity"].tolist(),
        s["suitable"].tolist(),
        strict=True,
    ):
        if is_open:
            colour = CONGESTION_COLOURS[level]
            if pd.notna(head) and pd.notna(capacity):
                occupancy = f"{int(head):,}/{int(capacity):,}"
            else:
                occupancy = f"{int(head):,}" if pd.notna(head) else "—"
            status = f"{levels[level]} {occupancy}"
        else:
            colour, status = CLOSED_SHELTER, closed
        records.append(
            {
                "id": int(sid),
                "p": _pos(lon, lat),
                "c": colour,
                "w": 0 if suitable else 1,
                "o": 1 if is_open else 0,
                "t": f"{name}\n{status}{'' if suitable else unsuitable}",
            }
        )
    return records


def rescue_records(state: HqState, t: Callable[..., str]) -> list[dict[str, Any]]:
    frame = state.rescue
    if frame.empty or not state.shows_positions:
        return []
    frame = frame[frame["lat"].notna() & frame["lon"].notna()]
    priorities = {p: t(f"priority.{p}") for p in PRIORITY_COLOURS}
    statuses: dict[str, str] = {}
    records = []
    for rid, lon, lat, priority, status, people, score in zip(
        frame["id"].tolist(),
        frame["lon"].tolist(),
        frame["lat"].tolist(),
        frame["priority"].tolist(),
        frame["status"].tolist(),
        frame["people_count"].tolist(),
        frame["score"].tolist(),
        strict=True,
    ):
        if status not in statuses:
            statuses[status] = t(f"rescue_status.{status}")
        records.append(
            {
                "id": int(rid),
                "p": _pos(lon, lat),
                "c": PRIORITY_COLOURS.get(priority, PRIORITY_COLOURS["medium"]),
                "t": t(
                    "hqmap.rescue_tip",
                    id=int(rid),
                    priority=priorities.get(priority, priority),
                    status=statuses[status],
                    people=int(people),
                    score=f"{score:.0f}",
                ),
            }
        )
    return records


def register_records(state: HqState, t: Callable[..., str]) -> list[dict[str, Any]]:
    frame = state.register
    if frame.empty:
        return []
    frame = frame[frame["lat"].notna() & frame["lon"].notna()]
    tips: dict[str, str] = {}
    records = []
    for lon, lat, status in zip(
        frame["lon"].tolist(), frame["lat"].tolist(), frame["state"].tolist(), strict=True
    ):
        key = status if isinstance(status, str) else "no_report"
        if key not in tips:
            tips[key] = t(f"status.{key}")
        # Homes to about 10 m: enough to find the house, and less exact than needed to send.
        records.append({"p": [round(float(lon), 4), round(float(lat), 4)], "t": tips[key]})
    return records


def build_deck(
    state: HqState,
    t: Callable[..., str],
    *,
    center: tuple[float, float],
    zoom: float,
    map_style: str | None = None,
    exact_counts: bool = True,
    show_zones: bool = True,
) -> pdk.Deck:
    """The deck; ``map_style`` is the absolute URL of a GSI style, or None for no base map."""
    layers = []
    if show_zones and state.zone_shapes:
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                id=LAYER_ZONES,
                data=state.zone_shapes,
                get_polygon="polygon",
                get_fill_color="c",
                stroked=False,
                pickable=False,
            )
        )
    layers.append(
        pdk.Layer(
            "H3HexagonLayer",
            id=LAYER_CELLS,
            data=cell_records(state, t, exact_counts),
            get_hexagon="h",
            get_fill_color="c",
            get_line_color=[213, 94, 0, 255],
            get_line_width="r ? 40 : 0",
            line_width_min_pixels=0,
            stroked=True,
            filled=True,
            extruded=False,
            pickable=True,
        )
    )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id=LAYER_SHELTERS,
            data=shelter_records(state, t),
            get_position="p",
            get_fill_color="c",
            get_line_color=[0, 0, 0, 255],
            get_line_width="w ? 3 : 1",
            line_width_units="'pixels'",
            stroked=True,
            get_radius="o ? 9 : 5",
            radius_units="'pixels'",
            pickable=True,
        )
    )
    if state.shows_register:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id=LAYER_REGISTER,
                data=register_records(state, t),
                get_position="p",
                get_fill_color=REGISTER_COLOUR,
                get_radius=5,
                radius_units="'pixels'",
                pickable=True,
            )
        )
    if state.shows_positions:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id=LAYER_RESCUE,
                data=rescue_records(state, t),
                get_position="p",
                get_fill_color="c",
                get_line_color=[0, 0, 0, 255],
                line_width_min_pixels=1,
                stroked=True,
                get_radius=7,
                radius_units="'pixels'",
                pickable=True,
            )
        )
    view = pdk.ViewState(latitude=center[0], longitude=center[1], zoom=zoom)
    kwargs: dict[str, Any] = {"map_provider": None}
    if map_style:
        kwargs = {"map_provider": "carto", "map_style": map_style}
    return CompactDeck(layers=layers, initial_view_state=view, tooltip={"text": "{t}"}, **kwargs)


def selected(selection: Any) -> tuple[str, int] | None:
    """(layer id, record id) of the object picked on the map, if any."""
    if not selection:
        return None
    objects = (selection.get("selection") or {}).get("objects") or {}
    for layer in SELECTABLE:
        for obj in objects.get(layer) or []:
            if isinstance(obj, dict) and "id" in obj:
                return layer, int(obj["id"])
    return None
