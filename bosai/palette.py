"""Colour-blind-safe colours (Okabe–Ito), used by the map, the charts and the reports.

Status is never told by colour alone: every coloured mark also has a label or a symbol.
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

STATUS_COLOURS = {
    "safe_at_home": OKABE_ITO["bluish_green"],
    "elsewhere_safe": OKABE_ITO["sky_blue"],
    "at_shelter": OKABE_ITO["blue"],
    "evacuating": OKABE_ITO["orange"],
    "injured": OKABE_ITO["reddish_purple"],
    "needs_rescue": OKABE_ITO["vermillion"],
    "unknown": OKABE_ITO["grey"],
    "no_report": OKABE_ITO["grey"],
}

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


def hex_to_rgb(colour: str, alpha: int | None = None) -> list[int]:
    """``"#D55E00"`` → ``[213, 94, 0]`` (plus alpha), for pydeck layers."""
    colour = colour.lstrip("#")
    rgb = [int(colour[i : i + 2], 16) for i in (0, 2, 4)]
    return rgb + [alpha] if alpha is not None else rgb
