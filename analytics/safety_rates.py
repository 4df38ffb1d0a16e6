"""Response and confirmed-safe rates of the safety overview (安否), from aggregate counts.

The input is the long table of :func:`sql.queries.safety.safety_counts`: one row per group
(district, age band, ...) and latest ``state`` (missing for citizens who have not answered) with
the number of ``citizens``. A citizen has *responded* when they sent any status in the incident;
is *confirmed safe* when the latest status is a safe one (自宅で無事, 避難所, 自宅外で無事).

>>> import pandas as pd
>>> counts = pd.DataFrame({"district": ["北", "北", "北", "南"],
...                        "state": ["safe_at_home", "injured", None, None],
...                        "citizens": [6, 1, 3, 4]})
>>> table = rates(counts, ["district"])
>>> table[["district", "citizens", "responded", "confirmed", "response_rate"]].to_dict("records")
[{'district': '北', 'citizens': 10, 'responded': 7, 'confirmed': 6, 'response_rate': 0.7}, {'district': '南', 'citizens': 4, 'responded': 0, 'confirmed': 0, 'response_rate': 0.0}]
>>> display_suppressed(table, lang="en")[["district", "citizens", "confirmed_rate"]].to_dict("records")
[{'district': '北', 'citizens': '10', 'confirmed_rate': '60.0%'}, {'district': '南', 'citizens': '<5', 'confirmed_rate': '—'}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bosai.vocab import SAFE_STATES

from .small_cells import LABELS, MASK, is_small

COUNT_COLUMNS = ("citizens", "responded", "confirmed", "needs_help")
#: Each rate and the count it is the share of.
RATE_NUMERATORS = {"response_rate": "responded", "confirmed_rate": "confirmed"}
#: States in which someone needs help now (injured, needs rescue).
HELP_STATES = ("injured", "needs_rescue")


def rates(counts: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Citizens, responded, confirmed safe and needing help per group, with the two rates.

    Parameters
    ----------
    counts
        Columns ``by``, ``state`` (missing = no answer) and ``citizens``.
    by
        Group columns (e.g. ``["district"]``, ``["age_band"]``, both, or none for the total).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns (missing values kept as a group), ``citizens``, ``responded``,
        ``confirmed``, ``needs_help``, ``response_rate``, ``confirmed_rate`` (0 for an empty
        group), sorted by ``by``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"state": ["at_shelter", None], "citizens": [3, 1]})
    >>> rates(c, [])[["citizens", "confirmed_rate"]].to_dict("records")
    [{'citizens': 4, 'confirmed_rate': 0.75}]
    """
    by = list(by)
    state = counts["state"]
    n = counts["citizens"].astype(int)
    frame = counts[by].copy() if by else pd.DataFrame(index=counts.index)
    frame["citizens"] = n
    frame["responded"] = np.where(state.notna(), n, 0)
    frame["confirmed"] = np.where(state.isin(SAFE_STATES), n, 0)
    frame["needs_help"] = np.where(state.isin(HELP_STATES), n, 0)
    if by:
        table = frame.groupby(by, dropna=False, sort=True)[list(COUNT_COLUMNS)].sum().reset_index()
    else:
        table = pd.DataFrame([frame[list(COUNT_COLUMNS)].sum()]).astype(int)
    base = table["citizens"].where(table["citizens"] > 0)
    for rate, numerator in RATE_NUMERATORS.items():
        table[rate] = (table[numerator] / base).fillna(0.0)
    for column in COUNT_COLUMNS:
        table[column] = table[column].astype(int)
    return table.reset_index(drop=True)


def order_bands(table: pd.DataFrame, codes: Sequence[str], column: str = "age_band"):
    """``table`` with its age bands in the given order (youngest first, unknown last).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"age_band": ["75+", "unknown", "0-14"]})
    >>> order_bands(t, ["0-14", "75+"])["age_band"].tolist()
    ['0-14', '75+', 'unknown']
    """
    rank = {code: i for i, code in enumerate(codes)}
    key = table[column].map(lambda c: rank.get(c, len(rank)))
    return table.assign(_order=key).sort_values("_order", kind="stable").drop(columns="_order")


def band_bounds(code: str) -> tuple[int, int | None] | None:
    """First and last age of a band code (``"15-39"`` → (15, 39), ``"75+"`` → (75, None));
    None for ``"unknown"``.

    Examples
    --------
    >>> band_bounds("15-39"), band_bounds("75+"), band_bounds("unknown")
    ((15, 39), (75, None), None)
    """
    if code.endswith("+"):
        return int(code[:-1]), None
    if "-" in code:
        lo, hi = code.split("-", 1)
        return int(lo), int(hi)
    return None


def display_suppressed(table: pd.DataFrame, lang: str = "ja") -> pd.DataFrame:
    """A display copy of a :func:`rates` table with small cells suppressed (as text).

    Counts from 1 to 4 show as 「5未満」. A rate shows as 「—」 when its base (citizens) or its
    numerator is such a small count, so that no small count can be recovered from it.
    """
    out = table.copy().astype(object)
    small = {c: table[c].map(is_small) for c in COUNT_COLUMNS if c in table}
    label = LABELS.get(lang, LABELS["ja"])
    for column, hidden in small.items():
        out[column] = [
            label if h else f"{int(v):,}" for v, h in zip(table[column], hidden, strict=True)
        ]
    for rate, numerator in RATE_NUMERATORS.items():
        hidden = small["citizens"] | small[numerator]
        out[rate] = [MASK if h else f"{v:.1%}" for v, h in zip(table[rate], hidden, strict=True)]
    return out


def chartable(table: pd.DataFrame, suppressed: bool) -> pd.DataFrame:
    """The rows of a :func:`rates` table a chart may draw: all, or without small groups when
    cells are suppressed (a bar's height would give the small count away)."""
    if not suppressed:
        return table
    keep = ~table["citizens"].map(is_small)
    for numerator in RATE_NUMERATORS.values():
        keep &= ~table[numerator].map(is_small)
    return table[keep]


def household_display_suppressed(table: pd.DataFrame, lang: str = "ja") -> pd.DataFrame:
    """A display copy of household counts (``households``, ``households_unaccounted``,
    ``members``, ``members_unaccounted``) with counts from 1 to 4 as 「5未満」.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"district": ["北"], "households": [12], "households_unaccounted": [2],
    ...                   "members": [30], "members_unaccounted": [3]})
    >>> household_display_suppressed(t).iloc[0].tolist()
    ['北', '12', '5未満', '30', '5未満']
    """
    out = table.copy().astype(object)
    label = LABELS.get(lang, LABELS["ja"])
    for column in ("households", "households_unaccounted", "members", "members_unaccounted"):
        out[column] = [label if is_small(v) else f"{int(v):,}" for v in table[column]]
    return out
