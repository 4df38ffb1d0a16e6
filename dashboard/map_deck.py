"""The pydeck deck of the HQ map (and the replay) from an :class:`~compositions.hq_map_state.HqState`.

An operations map, not a dot cloud. Layers, bottom to top: the city's own base map when tiles
cannot load (district areas, rivers, main roads, district names — :mod:`dashboard.local_basemap`),
hazard-zone areas, hexagons of the share not confirmed safe (grey, darker = more), shelters
(squares filled to their congestion level) with their names, register people not yet confirmed
safe (diamonds), rescue requests (triangles, larger = more urgent). Each layer has its own shape
and every symbol a black outline (:mod:`dashboard.map_symbols`), so the layers stay apart in
grey-scale; colours come from the meaning table (:mod:`bosai.palette`), one per meaning.

At city zoom symbols that would overlap are thinned on the map itself (deck.gl's collision
filter, recomputed as the map zooms): the most urgent request, the fullest shelter and the
larger district win; zooming in shows the others. Shelter names are thinned harder, so they
appear as the map zooms in. The legend (:data:`LAYERS`) toggles each layer.

Records carry only what the layer draws and a plain-text tooltip (``t``) — deck.gl's ``text``
tooltip is set as text, never as HTML, so names from imported data cannot inject markup.
Coordinates are rounded to ~1 m.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from analytics.small_cells import MASK, hides, is_small
from bosai.palette import rgba
from compositions.hq_map_state import COORD_DECIMALS, HqState

from . import map_symbols
from .local_basemap import LocalBase

LAYER_BASE = "local-base"
LAYER_ZONES = "hazard-zones"
LAYER_CELLS = "status-cells"
LAYER_SHELTERS = "shelters"
LAYER_SHELTER_NAMES = "shelter-names"
LAYER_REGISTER = "register"
LAYER_RESCUE = "rescue-requests"
SELECTABLE = (LAYER_RESCUE, LAYER_SHELTERS)
#: The legend's layers, top of the map first: key → the deck layers it shows.
LAYERS = {
    "rescue": (LAYER_RESCUE,),
    "register": (LAYER_REGISTER,),
    "shelters": (LAYER_SHELTERS, LAYER_SHELTER_NAMES),
    "cells": (LAYER_CELLS,),
    "zones": (LAYER_ZONES,),
    "base": (LAYER_BASE,),
}
#: A cell whose share is suppressed (small cells): left unfilled — no information, not a share.
SUPPRESSED_CELL = [0, 0, 0, 0]
#: Japanese glyphs for the labels (deck.gl draws text from a font atlas of these families).
LABEL_FONT = "Noto Sans CJK JP, Noto Sans JP, sans-serif"
#: Collision priority of a shelter: open and fuller first (closed ones give way); deck.gl's
#: collision priorities must lie within ±1000.
SHELTER_PRIORITY = {"full": 5, "crowded": 4, "somewhat": 3, "vacant": 2, "unknown": 1}


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


def _rows(frame: pd.DataFrame, *columns: str) -> Iterator[tuple[Any, ...]]:
    """The frame's ``columns`` row by row, as plain Python values (read column-wise: a map
    redraws thousands of records on every refresh)."""
    return zip(*(frame[column].tolist() for column in columns), strict=True)


def area_layer(
    layer_id: str,
    records: list[dict[str, Any]],
    *,
    fill: Any,
    outline: tuple[Any, Any] | None = None,
    pickable: bool = False,
) -> pdk.Layer:
    """Filled areas, one per record with its outer ring under ``polygon``; ``outline`` (colour,
    width in pixels) draws their edges. Each colour or width is a value or a record's field."""
    edges = {}
    if outline is not None:
        colour, width = outline
        edges = {"get_line_color": colour, "get_line_width": width, "line_width_units": "'pixels'"}
    return pdk.Layer(
        "PolygonLayer",
        id=layer_id,
        data=records,
        get_polygon="polygon",
        get_fill_color=fill,
        filled=True,
        stroked=outline is not None,
        pickable=pickable,
        **edges,
    )


def line_layer(
    layer_id: str,
    records: list[dict[str, Any]],
    *,
    colour: Any,
    width: Any,
    units: str = "pixels",
    rounded: bool = True,
    pickable: bool = False,
    **extra: Any,
) -> pdk.Layer:
    """Lines, one per record with its points under ``path``, ``width`` in ``units``, with
    ``rounded`` ends and joints. The colour or width is a value or a record's field."""
    return pdk.Layer(
        "PathLayer",
        id=layer_id,
        data=records,
        get_path="path",
        get_color=colour,
        get_width=width,
        width_units=f"'{units}'",
        cap_rounded=rounded,
        joint_rounded=rounded,
        pickable=pickable,
        **extra,
    )


def _thinned(group: str, scale: float = 1.0) -> dict[str, Any]:
    """deck.gl's collision filter: overlapping symbols of one layer give way to the one with
    the highest ``r`` (recomputed on every zoom); ``scale`` enlarges the space each needs."""
    return {
        "extensions": [{"@@type": "CollisionFilterExtension"}],
        "collision_group": f"'{group}'",
        "get_collision_priority": "r",
        "collision_test_props": {"sizeScale": scale},
    }


def cell_records(
    state: HqState, t: Callable[..., str], exact_counts: bool = True
) -> list[dict[str, Any]]:
    """One record per H3 cell: its colour (the share not confirmed safe) and the tooltip. Without ``exact_counts`` the one small-cell rule applies
    (``analytics.small_cells``): counts of 1–4 read 「5未満」, and what is derived from them is
    hidden — the share and its colour where the people or the unconfirmed are 1–4 (a neutral
    cell unfilled instead)."""

    def shown(n: int) -> str:
        return t("hqmap.fewer_than_5") if not exact_counts and is_small(n) else f"{n:,}"

    def record(cell, colour, citizens, unconfirmed, rescue, share) -> dict[str, Any]:
        hidden_share = not exact_counts and hides(citizens, unconfirmed)
        return {
            "h": cell,
            "c": SUPPRESSED_CELL if hidden_share else colour,
            "t": t(
                "hqmap.cell_tip",
                citizens=shown(citizens),
                unconfirmed=shown(unconfirmed),
                rescue=shown(rescue),
                share=MASK if hidden_share else f"{share:.1%}",
            ),
        }

    cells = state.cells
    return [
        record(cell, colour, citizens, unconfirmed, rescue, share)
        for cell, colour, citizens, unconfirmed, rescue, share in _rows(
            cells, "cell", "c", "citizens", "unconfirmed", "needs_rescue", "share_unconfirmed"
        )
    ]


def shelter_records(
    state: HqState, t: Callable[..., str], exact_counts: bool = True
) -> list[dict[str, Any]]:
    """Shelter points and tooltips (a head count of 1–4 reads 「5未満」 without exact counts)."""

    def people(n) -> str:
        return t("hqmap.fewer_than_5") if not exact_counts and is_small(n) else f"{int(n):,}"

    records = []
    s = state.shelters
    closed = t("hqmap.closed")
    unsuitable = " ⚠ " + t("hqmap.unsuitable")
    levels = {level: t(f"congestion.{level}") for level in SHELTER_PRIORITY}
    for sid, name, lon, lat, is_open, level, head, capacity, suitable in _rows(
        s, "id", "name", "lon", "lat", "is_open", "congestion", "head_count", "capacity", "suitable"
    ):
        if is_open:
            if pd.notna(head) and pd.notna(capacity):
                occupancy = f"{people(head)}/{int(capacity):,}"
            else:
                occupancy = people(head) if pd.notna(head) else "—"
            status = f"{levels.get(level, level)} {occupancy}"
            icon = f"shelter-{level if level in SHELTER_PRIORITY else 'unknown'}"
            # Fuller first, then larger (deck.gl takes priorities within ±1000).
            priority = SHELTER_PRIORITY.get(level, 1) * 100 + (
                min(int(capacity), 2970) // 30 if pd.notna(capacity) else 0
            )
        else:
            icon, status, priority = "shelter-closed", closed, -500
        records.append(
            {
                "id": int(sid),
                "p": _pos(lon, lat),
                "i": icon if suitable else f"{icon}-unsuitable",
                "s": map_symbols.SHELTER_SIZE["open" if is_open else "closed"],
                "r": priority,
                "n": str(name),
                "t": f"{name}\n{status}{'' if suitable else unsuitable}",
            }
        )
    return records


def rescue_records(state: HqState, t: Callable[..., str]) -> list[dict[str, Any]]:
    frame = state.rescue
    if frame.empty or not state.shows_positions:
        return []
    frame = frame[frame["lat"].notna() & frame["lon"].notna()]
    priorities = {p: t(f"priority.{p}") for p in map_symbols.PRIORITIES}
    statuses: dict[str, str] = {}
    records = []
    for rid, lon, lat, priority, status, people, score in _rows(
        frame, "id", "lon", "lat", "priority", "status", "people_count", "score"
    ):
        if status not in statuses:
            statuses[status] = t(f"rescue_status.{status}")
        level = priority if priority in map_symbols.PRIORITIES else "medium"
        records.append(
            {
                "id": int(rid),
                "p": _pos(lon, lat),
                "i": f"rescue-{level}",
                "s": map_symbols.RESCUE_SIZE[level],
                "r": max(-1000.0, min(1000.0, round(float(score), 1))),
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
    for lon, lat, status in _rows(frame, "lon", "lat", "state"):
        key = status if isinstance(status, str) else "no_report"
        if key not in tips:
            tips[key] = t(f"status.{key}")
        # Homes to about 10 m: enough to find the house, and less exact than needed to send.
        records.append({"p": [round(float(lon), 4), round(float(lat), 4)], "t": tips[key]})
    return records


def _icons(layer_id: str, records: list[dict[str, Any]], prefix: str, **extra: Any) -> pdk.Layer:
    atlas, mapping = map_symbols.atlas(prefix)
    props = {"get_icon": "i", "get_size": "s", **extra}  # per record unless the layer sets them
    return pdk.Layer(
        "IconLayer",
        id=layer_id,
        data=records,
        get_position="p",
        icon_atlas=pdk.types.String(atlas),
        icon_mapping=mapping,
        size_units="'pixels'",
        pickable=True,
        **props,
    )


def _labels(
    layer_id: str, records: list[dict[str, Any]], size: int, anchor: str = "middle", **extra: Any
) -> pdk.Layer:
    """Text on a light plate. (With deck.gl's collision filter neither its SDF halo nor a
    pixel offset draws: a name beside its symbol starts with a full-width space instead.)"""
    return pdk.Layer(
        "TextLayer",
        id=layer_id,
        data=records,
        get_position="p",
        get_text="name",
        get_size=size,
        size_units="'pixels'",
        get_color=rgba("base.label"),
        get_text_anchor=f"'{anchor}'",
        font_family=pdk.types.String(LABEL_FONT),
        character_set=pdk.types.String("auto"),
        background=True,
        get_background_color=rgba("base.halo", 215),
        background_padding=[3, 1],
        pickable=False,
        **extra,
    )


def base_layers(base: LocalBase) -> list[pdk.Layer]:
    """The city's own base map under everything else: district areas and boundaries, rivers,
    main roads (the district names go above the hexagons: :func:`district_labels`)."""
    roads = [
        {
            "path": r["path"],
            "c": rgba("base.expressway" if r["kind"] == "expressway" else "base.road"),
            "w": 6 if r["kind"] == "expressway" else 4,
        }
        for r in sorted(base.roads, key=lambda r: r["kind"] == "expressway")
    ]
    return [
        area_layer(
            LAYER_BASE,
            base.districts,
            fill=rgba("base.land"),
            outline=(rgba("base.boundary"), 2),
        ),
        line_layer(f"{LAYER_BASE}-roads", roads, colour="c", width="w"),
        line_layer(
            f"{LAYER_BASE}-rivers",
            base.rivers,
            colour=rgba("base.water"),
            width=60,
            units="meters",
            width_min_pixels=3,
        ),
    ]


def district_labels(base: LocalBase) -> pdk.Layer:
    """District names, above the hexagons (the larger district wins where two collide)."""
    return _labels(f"{LAYER_BASE}-labels", base.labels, 15, **_thinned("districts", 1.2))


def build_deck(
    state: HqState,
    t: Callable[..., str],
    *,
    center: tuple[float, float],
    zoom: float,
    map_style: str | None = None,
    exact_counts: bool = True,
    show_zones: bool = True,
    layers: Iterable[str] | None = None,
    local_base: LocalBase | None = None,
    extra: Mapping[str, list[pdk.Layer]] | None = None,
) -> pdk.Deck:
    """The deck; ``map_style`` is the absolute URL of a GSI style, or None; ``local_base`` the
    city's own base map (drawn when given and ``"base"`` is shown); ``layers`` the legend's
    layer keys to show (all by default); ``extra`` layers built apart (the safety loop's
    districts, evacuation-information areas) by legend key, drawn above the hexagons when
    their key is shown."""
    extra = dict(extra or {})
    shown = set([*LAYERS, *extra] if layers is None else layers)
    if not show_zones:
        shown.discard("zones")
    out: list[pdk.Layer] = []
    if local_base is not None and "base" in shown:
        out += base_layers(local_base)
    if "zones" in shown and state.zone_shapes:
        out.append(area_layer(LAYER_ZONES, state.zone_shapes, fill="c"))
    if "cells" in shown:
        out.append(
            pdk.Layer(
                "H3HexagonLayer",
                id=LAYER_CELLS,
                data=cell_records(state, t, exact_counts),
                get_hexagon="h",
                get_fill_color="c",
                get_line_color=[255, 255, 255, 160],
                line_width_min_pixels=1,
                stroked=True,
                filled=True,
                extruded=False,
                pickable=True,
            )
        )
    for key, built in extra.items():
        if key in shown:
            out += built
    if local_base is not None and "base" in shown:
        out.append(district_labels(local_base))
    if "shelters" in shown:
        shelters = shelter_records(state, t, exact_counts)
        # Names of the open shelters beside their symbols, the fuller and larger first (sent
        # once, in the names layer).
        names = []
        for record in shelters:
            name = record.pop("n")
            if record["r"] > 0:  # open shelters
                names.append({"p": record["p"], "name": f"\u3000{name}", "r": record["r"]})
        out.append(_icons(LAYER_SHELTERS, shelters, "shelter-", **_thinned("shelters")))
        out.append(
            _labels(LAYER_SHELTER_NAMES, names, 13, "start", **_thinned("shelter-names", 5.0))
        )
    if state.shows_register and "register" in shown:
        # One symbol, one size, equal priority: set on the layer, not repeated per person.
        thinned = {**_thinned("register", 2.0), "get_collision_priority": 0}
        out.append(
            _icons(
                LAYER_REGISTER,
                register_records(state, t),
                "register",
                **{**thinned, "get_icon": "'register'", "get_size": map_symbols.REGISTER_SIZE},
            )
        )
    if state.shows_positions and "rescue" in shown:
        out.append(_icons(LAYER_RESCUE, rescue_records(state, t), "rescue-", **_thinned("rescue")))
    view = pdk.ViewState(latitude=center[0], longitude=center[1], zoom=zoom)
    kwargs: dict[str, Any] = {"map_provider": None}
    if map_style:
        kwargs = {"map_provider": "carto", "map_style": map_style}
    return CompactDeck(layers=out, initial_view_state=view, tooltip={"text": "{t}"}, **kwargs)


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
