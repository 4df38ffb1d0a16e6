"""What a page's map stands on and how it is read: the base map actually drawn, what to say
when the GSI tiles cannot load, the attribution of only what is drawn, and the legend over the
map with a toggle per layer (HQ map, replay).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pydeck as pdk
import streamlit as st

from compositions.hq_map_state import HqState

from . import basemap, data, map_deck, map_symbols
from .context import PageContext
from .local_basemap import LocalBase, local_base

#: Keeps the legend over the top-left corner of the map (static CSS, no data).
LEGEND_CSS = """
<style>
[class*="st-key-map_frame_"] { position: relative; }
[class*="st-key-map_legend_"] {
  position: absolute; top: 0.5rem; left: 0.5rem; z-index: 5;
  width: min(19rem, 58%) !important; max-height: calc(100% - 1rem); overflow-y: auto;
  background: rgba(255, 255, 255, 0.95); border: 1px solid #8A8479; border-radius: 0.4rem;
}
[class*="st-key-map_legend_"] [data-testid="stExpander"] details { border: none; }
[class*="st-key-map_legend_"] [data-testid="stCheckbox"] { margin-bottom: -0.4rem; }
[class*="st-key-map_legend_"] [data-testid="stCheckbox"] p { font-size: 0.85rem; line-height: 1.35; }
[class*="st-key-map_legend_"] [data-testid="stCaptionContainer"] p { font-size: 0.75rem; }
</style>
"""
#: Where the hazard zones come from, by ``source_dataset`` (anything else: the file's name).
ZONE_SOURCES = {
    "A31": "ksj_flood",
    "A31a": "ksj_flood",
    "A31b": "ksj_flood",
    "A33": "ksj_landslide",
}


@dataclasses.dataclass(frozen=True)
class MapBase:
    """The base actually drawn: a GSI style URL, or the city's own base map, or nothing."""

    style: str | None
    local: LocalBase | None
    overlays: tuple[str, ...]
    notice: str | None  # catalog key: why the chosen base is not drawn


def choose_base(ctx: PageContext, base: str, overlays: tuple[str, ...] = ()) -> MapBase:
    """The GSI tiles when they load from here; else (or when ``base`` is ``local``) the city's
    own base map, saying why; ``none`` draws the data layers only."""
    if base in basemap.BASEMAPS:
        probe = basemap.probe_url(base, ctx.city.center_lat, ctx.city.center_lon)
        origin = (st.context.url or "").split("/", 3)
        if data.tiles_reachable(probe) and len(origin) >= 3:
            return MapBase(
                basemap.style_url("/".join(origin[:3]), base, overlays), None, overlays, None
            )
        local = local_base(ctx.city)
        return MapBase(None, local, (), "hqmap.offline" if local else "hqmap.offline_no_local")
    if base == "local":
        local = local_base(ctx.city)
        return MapBase(None, local, (), None if local else "hqmap.no_local")
    return MapBase(None, None, (), None)


def city_deck(ctx: PageContext, state: HqState, drawn: MapBase, **options: Any) -> pdk.Deck:
    """The deck of ``state`` over the city's default view, on the base actually ``drawn``;
    ``options`` as :func:`dashboard.map_deck.build_deck` takes them."""
    return map_deck.build_deck(
        state,
        ctx.t,
        center=(ctx.city.center_lat, ctx.city.center_lon),
        zoom=ctx.city.default_zoom,
        map_style=drawn.style,
        local_base=drawn.local,
        **options,
    )


def attribution(
    ctx: PageContext, drawn: MapBase, zone_sources: tuple[str, ...], shown: set[str]
) -> str:
    """Credit for exactly what is drawn: GSI tiles (and portal overlays), the city's geography,
    the hazard zones' source."""
    parts = []
    if drawn.style:
        parts.append(ctx.t("hqmap.credit.gsi"))
        if drawn.overlays:
            parts.append(ctx.t("hqmap.credit.portal"))
    if drawn.local is not None and "base" in shown:
        parts.append(ctx.t("hqmap.credit.local"))
    if "zones" in shown and zone_sources:
        names = []
        for source in zone_sources:
            key = ZONE_SOURCES.get(source, "demo" if source == "demo" else None)
            names.append(ctx.t(f"hqmap.credit.zones_{key}") if key else source)
        comma = "、" if ctx.lang == "ja" else ", "
        parts.append(ctx.t("hqmap.credit.zones", sources=comma.join(dict.fromkeys(names))))
    return (
        ctx.t("hqmap.credit.none")
        if not parts
        else (" ／ " if ctx.lang == "ja" else " / ").join(parts)
    )


def legend(
    ctx: PageContext,
    name: str,
    drawn: MapBase,
    shows_register: bool,
    shows_rescue: bool,
    extra_keys: tuple[str, ...] = (),
) -> set[str]:
    """The legend over the map (call inside :func:`frame`): a toggle per layer with its symbol;
    returns the layer keys to draw. ``extra_keys``: layers built apart from the deck (see
    :func:`dashboard.map_deck.build_deck`'s ``extra``), listed after the people layers."""
    st.markdown(LEGEND_CSS, unsafe_allow_html=True)
    swatches = map_symbols.legend_swatches()
    keys = list(map_deck.LAYERS)
    at = keys.index("shelters")
    keys[at:at] = extra_keys
    available = [
        key
        for key in keys
        if (key != "rescue" or shows_rescue)
        and (key != "register" or shows_register)
        and (key != "base" or drawn.local is not None)
    ]
    shown = set()
    with st.container(key=f"map_legend_{name}"):
        with st.expander(ctx.t("hqmap.legend_title"), expanded=True):
            for key in available:
                label = f"![]({swatches[key]}) {ctx.t(f'hqmap.layer.{key}')}"
                if st.checkbox(label, value=True, key=f"map_layer_{name}_{key}"):
                    shown.add(key)
            st.caption(f"{ctx.t('hqmap.shelter_levels')} {ctx.t('hqmap.thinning')}")
    return shown


def frame(name: str):
    """The container the legend floats over (holds the legend, then the map)."""
    return st.container(key=f"map_frame_{name}")


def notices(ctx: PageContext, drawn: MapBase) -> None:
    if drawn.notice:
        st.warning(ctx.t(drawn.notice), icon=":material/wifi_off:")
