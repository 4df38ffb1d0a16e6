"""How a researcher reads a statistic: p-values, estimates with intervals, percentages.

APA style (7th ed., 6.36): p to three decimals without the leading zero, ``< .001`` below that;
an estimate and its interval in one cell; shares as percentages.

>>> p_value(0.0000123), p_value(0.03125), p_value(0.5), p_value(float("nan"))
('< .001', '.031', '.500', '—')
>>> p_text(0.0000123), p_text(0.2)
('p < .001', 'p = .200')
>>> estimate_ci(498, 399, 659, digits=0)
'498 [399, 659]'
>>> percent(0.5917), percent(0.5917, digits=0), percent(None)
('59.2%', '59%', '—')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

DASH = "—"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def p_value(p: Any) -> str:
    """A p-value as a table cell: ``< .001`` or three decimals without the leading zero."""
    if _missing(p):
        return DASH
    p = float(p)
    if p < 0.001:
        return "< .001"
    return f"{p:.3f}".removeprefix("0") if p < 1 else "1.000"


def p_text(p: Any) -> str:
    """A p-value in a sentence: ``p < .001`` or ``p = .031``."""
    cell = p_value(p)
    if cell == DASH:
        return f"p = {DASH}"
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def number(value: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals (thousands separated), ``—`` when missing."""
    if _missing(value):
        return DASH
    return f"{float(value):,.{digits}f}"


def percent(share: Any, digits: int = 1) -> str:
    """A share (0–1) as a percentage."""
    if _missing(share):
        return DASH
    return f"{100 * float(share):.{digits}f}%"


def with_interval(
    write: Callable[..., str], estimate: Any, low: Any, high: Any, digits: int | None = None
) -> str:
    """``estimate [low, high]`` in one cell, each written by ``write`` with ``digits`` (None:
    its own default): ``—`` when the estimate is missing, the estimate alone when a bound is."""
    places = () if digits is None else (digits,)
    if _missing(estimate):
        return DASH
    if _missing(low) or _missing(high):
        return write(estimate, *places)
    return f"{write(estimate, *places)} [{write(low, *places)}, {write(high, *places)}]"


#: ``estimate [low, high]`` of numbers in one cell (``—`` when the estimate is missing).
estimate_ci = functools.partial(with_interval, number)
#: ``59.2% [55.0%, 63.3%]`` in one cell.
percent_ci = functools.partial(with_interval, percent)
