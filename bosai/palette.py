"""One colour per meaning: the meaning → colour table every map, legend, chart and report uses.

Colour-blind-safe (Okabe–Ito for marks, pale tints for areas, greys for the unknown and the
base map). Status is never told by colour alone: every coloured mark also has a label, a symbol
(shape and size — dashboard/map_symbols.py) or a position, so a grey-scale print still reads.
No view shows two meanings in one colour: the HQ map's meanings (:data:`MAP_MEANINGS`) have
distinct colours (orange is a medium-priority rescue request and nothing else on the map); the
statuses of the charts (:data:`STATUS_COLOURS`) are one family of their own.

>>> colour("rescue.medium")
'#E69F00'
>>> rgba("shelter.crowded", 230)
[0, 114, 178, 230]
>>> len(set(MEANING_COLOURS[m] for m in MAP_MEANINGS)) == len(MAP_MEANINGS)
True
"""

from __future__ import annotations

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
    "black": "#000000",
}

MEANING_COLOURS: dict[str, str] = {
    # Rescue requests by priority: warm colours, triangles (larger = more urgent).
    "rescue.high": OKABE_ITO["vermillion"],
    "rescue.medium": OKABE_ITO["orange"],
    "rescue.low": OKABE_ITO["yellow"],
    # Shelters by congestion: green → blue → black, squares filled to their level.
    "shelter.vacant": OKABE_ITO["bluish_green"],
    "shelter.somewhat": OKABE_ITO["sky_blue"],
    "shelter.crowded": OKABE_ITO["blue"],
    "shelter.full": OKABE_ITO["black"],
    "shelter.unknown": OKABE_ITO["grey"],
    "shelter.closed": "#FFFFFF",
    # People on the evacuation-support register not yet confirmed safe: diamonds.
    "register.unconfirmed": OKABE_ITO["reddish_purple"],
    # People not accounted for, per district: open rings with the number (Paul Tol's indigo).
    "unaccounted.district": "#332288",
    # Hazard zones: pale translucent areas.
    "zone.flood": "#8FB8DE",
    "zone.inland_flood": "#A6D8D4",
    "zone.landslide": "#C9A27E",
    "zone.storm_surge": "#9FC59A",
    "zone.tsunami": "#B9A6D6",
    # Evacuation information in force per area (警戒レベル3/4/5): outlines in the national
    # alert-level colours (red, purple, black; chosen by the Cabinet Office and JMA with colour
    # universal design), wider for a higher level so the level also reads in grey-scale.
    "evacuation.level3": "#FF2800",
    "evacuation.level4": "#AA00AA",
    "evacuation.level5": "#0C000C",
    # The share of people not confirmed safe on each hexagon: light → dark grey.
    "cells.unconfirmed_none": "#F2F2F2",
    "cells.unconfirmed_all": "#3A3A3A",
    # The local base map drawn from the city's own geography.
    "base.land": "#F7F4EC",
    "base.boundary": "#8A8479",
    "base.water": "#3F7FBF",
    "base.road": "#D8CBB3",
    "base.expressway": "#A48E6A",
    "base.label": "#2B2B2B",
    "base.halo": "#FEFEFE",
    # Charts over time.
    "chart.head_count": OKABE_ITO["blue"],
    "chart.moment": OKABE_ITO["black"],
    # Citizens' safety statuses (charts and tables; the map counts them on grey hexagons).
    "status.safe_at_home": OKABE_ITO["bluish_green"],
    "status.elsewhere_safe": OKABE_ITO["sky_blue"],
    "status.at_shelter": OKABE_ITO["blue"],
    "status.evacuating": OKABE_ITO["orange"],
    "status.injured": OKABE_ITO["reddish_purple"],
    "status.needs_rescue": OKABE_ITO["vermillion"],
    "status.unknown": OKABE_ITO["grey"],
    "status.no_report": OKABE_ITO["grey"],
}

#: The meanings drawn together on the HQ map and its legend: each has its own colour.
MAP_MEANINGS = (
    "rescue.high",
    "rescue.medium",
    "rescue.low",
    "shelter.vacant",
    "shelter.somewhat",
    "shelter.crowded",
    "shelter.full",
    "shelter.unknown",
    "shelter.closed",
    "register.unconfirmed",
    "unaccounted.district",
    "zone.flood",
    "zone.inland_flood",
    "zone.landslide",
    "zone.storm_surge",
    "zone.tsunami",
    "evacuation.level3",
    "evacuation.level4",
    "evacuation.level5",
    "cells.unconfirmed_none",
    "cells.unconfirmed_all",
    "base.land",
    "base.boundary",
    "base.water",
    "base.road",
    "base.expressway",
    "base.label",
    "base.halo",
)

#: Order in which statuses are listed (most urgent first).
STATUS_ORDER = (
    "needs_rescue",
    "injured",
    "evacuating",
    "at_shelter",
    "elsewhere_safe",
    "safe_at_home",
    "unknown",
    "no_report",
)
STATUS_COLOURS = {state: MEANING_COLOURS[f"status.{state}"] for state in STATUS_ORDER}


def colour(meaning: str) -> str:
    """The colour of ``meaning`` (a key of :data:`MEANING_COLOURS`)."""
    return MEANING_COLOURS[meaning]


def rgba(meaning: str, alpha: int | None = None) -> list[int]:
    """``[r, g, b(, alpha)]`` of ``meaning``, for pydeck layers."""
    return hex_to_rgb(MEANING_COLOURS[meaning], alpha)


def ramp(low: str, high: str, share: float, alpha: int | None = None) -> list[int]:
    """Linear between the colours of two meanings, for a share in [0, 1].

    >>> ramp("cells.unconfirmed_none", "cells.unconfirmed_all", 0.5)
    [150, 150, 150]
    """
    share = min(max(float(share), 0.0), 1.0)
    a, b = hex_to_rgb(MEANING_COLOURS[low]), hex_to_rgb(MEANING_COLOURS[high])
    mixed = [round(x + (y - x) * share) for x, y in zip(a, b, strict=True)]
    return mixed + [alpha] if alpha is not None else mixed


def hex_to_rgb(colour: str, alpha: int | None = None) -> list[int]:
    """``"#D55E00"`` → ``[213, 94, 0]`` (plus alpha), for pydeck layers."""
    colour = colour.lstrip("#")
    rgb = [int(colour[i : i + 2], 16) for i in (0, 2, 4)]
    return rgb + [alpha] if alpha is not None else rgb
