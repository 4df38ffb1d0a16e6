"""The HQ map's symbols: one shape per layer, so the layers stay apart in grey-scale.

Rescue requests are triangles (larger = more urgent), shelters squares filled to their
congestion level (a quarter when there is room, full when 満; crossed out when closed; a
heavy double frame when unsuitable for the hazards in force), register people diamonds. Every
symbol has a black outline. Colours come from the meaning table (:mod:`bosai.palette`).

The symbols are drawn once as SVG: an icon atlas for deck.gl's ``IconLayer`` (a data URL in the
deck, nothing fetched from elsewhere) and the legend's swatches (data-URL images in the toggles'
labels, drawn at the height of the text).
"""

from __future__ import annotations

import base64
from functools import cache

from bosai.palette import colour

CELL = 64  # one symbol per 64 × 64 square of the atlas
OUTLINE = "#000000"
CONGESTION_LEVELS = ("vacant", "somewhat", "crowded", "full")
#: How much of a shelter's square is filled at each congestion level.
FILL_SHARE = {"vacant": 0.25, "somewhat": 0.5, "crowded": 0.75, "full": 1.0}
PRIORITIES = ("high", "medium", "low")
#: Symbol size in pixels on the map.
RESCUE_SIZE = {"high": 26, "medium": 21, "low": 17}
SHELTER_SIZE = {"open": 20, "closed": 12}
REGISTER_SIZE = 14


def _triangle(fill: str) -> str:
    return (
        f'<polygon points="32,5 60,57 4,57" fill="{fill}" stroke="{OUTLINE}" '
        'stroke-width="5" stroke-linejoin="round"/>'
    )


def _diamond(fill: str) -> str:
    return (
        f'<polygon points="32,4 60,32 32,60 4,32" fill="{fill}" stroke="{OUTLINE}" '
        'stroke-width="5" stroke-linejoin="round"/>'
        '<polygon points="32,16 48,32 32,48 16,32" fill="none" stroke="#FFFFFF" stroke-width="3"/>'
    )


def _shelter(level: str, unsuitable: bool = False) -> str:
    frame = (
        f'<rect x="3" y="3" width="58" height="58" fill="none" stroke="{OUTLINE}" '
        'stroke-width="6"/>'
        if unsuitable
        else ""
    )
    body = '<rect x="10" y="10" width="44" height="44" fill="#FFFFFF" stroke="none"/>'
    if level == "closed":
        return (
            body.replace('stroke="none"', 'stroke="#666666" stroke-width="4"')
            + '<line x1="14" y1="50" x2="50" y2="14" stroke="#666666" stroke-width="4"/>'
            + frame
        )
    if level == "unknown":
        fill = (
            f'<rect x="10" y="10" width="44" height="44" fill="{colour("shelter.unknown")}"/>'
            '<text x="32" y="45" font-size="34" font-family="sans-serif" font-weight="bold" '
            'text-anchor="middle" fill="#FFFFFF">?</text>'
        )
    else:
        height = 44 * FILL_SHARE[level]
        fill = (
            f'<rect x="10" y="{54 - height:g}" width="44" height="{height:g}" '
            f'fill="{colour(f"shelter.{level}")}"/>'
        )
    border = f'<rect x="10" y="10" width="44" height="44" fill="none" stroke="{OUTLINE}" stroke-width="5"/>'
    return body + fill + border + frame


@cache
def icons() -> dict[str, str]:
    """SVG body (in a 64 × 64 square) of every symbol, by icon name."""
    out = {f"rescue-{p}": _triangle(colour(f"rescue.{p}")) for p in PRIORITIES}
    for level in (*CONGESTION_LEVELS, "unknown", "closed"):
        out[f"shelter-{level}"] = _shelter(level)
        out[f"shelter-{level}-unsuitable"] = _shelter(level, unsuitable=True)
    out["register"] = _diamond(colour("register.unconfirmed"))
    return out


def _svg(width: int, height: int, body: str, view: str | None = None) -> str:
    box = f' viewBox="{view}"' if view else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"{box}>'
        f"{body}</svg>"
    )


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@cache
def atlas(prefix: str = "") -> tuple[str, dict[str, dict[str, int]]]:
    """The icon atlas (a data URL) and its mapping for deck.gl's ``IconLayer``: the symbols
    whose names start with ``prefix`` (each layer carries only its own, a few kB)."""
    names = [name for name in icons() if name.startswith(prefix)]
    body = "".join(
        f'<g transform="translate({k * CELL},0)">{icons()[name]}</g>'
        for k, name in enumerate(names)
    )
    mapping = {
        name: {"x": k * CELL, "y": 0, "width": CELL, "height": CELL, "anchorY": CELL // 2}
        for k, name in enumerate(names)
    }
    return data_url(_svg(CELL * len(names), CELL, body)), mapping


def _row(names: list[str], scales: list[float] | None = None) -> str:
    """Symbols side by side (a legend swatch), each scaled within its square."""
    scales = scales or [1.0] * len(names)
    parts = []
    for k, (name, scale) in enumerate(zip(names, scales, strict=True)):
        offset = (1 - scale) * CELL / 2
        parts.append(
            f'<g transform="translate({k * CELL + offset:g},{offset:g}) scale({scale:g})">'
            f"{icons()[name]}</g>"
        )
    return _svg(len(names) * 16, 16, "".join(parts), f"0 0 {len(names) * CELL} {CELL}")


def _hexagons() -> str:
    from bosai.palette import ramp

    parts = []
    for k, share in enumerate((0.0, 0.5, 1.0)):
        r, g, b = ramp("cells.unconfirmed_none", "cells.unconfirmed_all", share)
        cx = 32 + k * CELL
        points = " ".join(
            f"{cx + 28 * dx:g},{32 + 28 * dy:g}"
            for dx, dy in ((0, -1), (0.87, -0.5), (0.87, 0.5), (0, 1), (-0.87, 0.5), (-0.87, -0.5))
        )
        parts.append(
            f'<polygon points="{points}" fill="rgb({r},{g},{b})" stroke="#555555" stroke-width="3"/>'
        )
    return _svg(48, 16, "".join(parts), f"0 0 {3 * CELL} {CELL}")


def _areas(meanings: list[str]) -> str:
    parts = [
        f'<rect x="{4 + k * CELL}" y="8" width="56" height="48" fill="{colour(m)}" '
        f'fill-opacity="0.75" stroke="{colour(m)}" stroke-width="4"/>'
        for k, m in enumerate(meanings)
    ]
    return _svg(16 * len(meanings), 16, "".join(parts), f"0 0 {len(meanings) * CELL} {CELL}")


def _outlines(meanings: list[str], dashed: bool = False) -> str:
    """Open squares, wider for each next meaning (the evacuation levels' outlines), or all in
    the same dashes (the proposed levels')."""
    dashes = ' stroke-dasharray="12,8"' if dashed else ""
    parts = [
        f'<rect x="{8 + k * CELL}" y="10" width="48" height="44" fill="none" '
        f'stroke="{colour(m)}" stroke-width="{6 if dashed else 4 + 3 * k}"{dashes}/>'
        for k, m in enumerate(meanings)
    ]
    return _svg(16 * len(meanings), 16, "".join(parts), f"0 0 {len(meanings) * CELL} {CELL}")


def _ring(meaning: str) -> str:
    body = (
        f'<circle cx="32" cy="32" r="26" fill="none" stroke="{colour(meaning)}" stroke-width="6"/>'
    )
    return _svg(16, 16, body, f"0 0 {CELL} {CELL}")


def _base() -> str:
    body = (
        f'<rect x="0" y="0" width="192" height="64" fill="{colour("base.land")}"/>'
        f'<path d="M4,44 C30,20 40,56 60,24" fill="none" stroke="{colour("base.water")}" stroke-width="8"/>'
        f'<line x1="68" y1="32" x2="124" y2="32" stroke="{colour("base.expressway")}" stroke-width="10"/>'
        f'<line x1="68" y1="32" x2="124" y2="32" stroke="{colour("base.road")}" stroke-width="4"/>'
        f'<line x1="132" y1="8" x2="188" y2="56" stroke="{colour("base.boundary")}" '
        'stroke-width="4" stroke-dasharray="10,6"/>'
    )
    return _svg(48, 16, body, "0 0 192 64")


@cache
def legend_swatches() -> dict[str, str]:
    """Data-URL images for the legend, by layer key (see :mod:`dashboard.map_deck`)."""
    return {
        "rescue": data_url(_row([f"rescue-{p}" for p in PRIORITIES], [1.0, 0.85, 0.72])),
        "register": data_url(_row(["register"])),
        "shelters": data_url(
            _row([*(f"shelter-{lv}" for lv in CONGESTION_LEVELS), "shelter-closed"])
        ),
        "cells": data_url(_hexagons()),
        "zones": data_url(_areas(["zone.flood", "zone.landslide"])),
        "base": data_url(_base()),
        "unaccounted": data_url(_ring("unaccounted.district")),
        "evacuation": data_url(
            _outlines(["evacuation.level3", "evacuation.level4", "evacuation.level5"])
        ),
        "proposals": data_url(
            _outlines(["evacuation.level3", "evacuation.level4", "evacuation.level5"], dashed=True)
        ),
    }
