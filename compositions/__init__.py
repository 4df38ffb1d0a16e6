"""Compositions: read → evaluate → flatten, once, without Streamlit.

Each composition reads through ``sql.queries`` (aggregates; personal reads audited there),
calls the pure functions of ``analytics`` and ``surveys`` and returns a :class:`Composition`:
tidy tables (one row per estimate, the fixed columns named in each module, pingouin style) and
method notes. The research pages, ``bosai analyze`` and the council report all call these
functions, so they print the same numbers (``tests/dashboard/test_research_one_source.py``).

* :mod:`compositions.drill` — drill evaluation and the comparison of two drills;
* :mod:`compositions.optin` — opt-in acceptance from the consent ledger and the questionnaire;
* :mod:`compositions.survey` — questionnaire summary (scores, α, ω, items, group comparisons);
* :mod:`compositions.uiux` — UI/UX task times and the paper/app comparison;
* :mod:`compositions.time_to_safe` — a drill's time to safe, interval-censored.

Beside the research workbench, the operating pictures at a moment, read by the pages, the
replay, the reports and ``bosai bench`` alike:

* :mod:`compositions.hq_map_state` — the headquarters' picture (KPIs, map layers, shelter
  board) with its per-database cache;
* :mod:`compositions.safety_state` — the safety loop's picture (merged state, the
  unaccounted-for list, plan tracking) with its per-database cache.

Times: every date a composition derives (a citizen's age band on a day, withdrawals per day)
is the date in Japan (Asia/Tokyo), whoever calls it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

TOKYO = ZoneInfo("Asia/Tokyo")
#: A test between groups and its effect size: the columns the test tables share (the drill
#: comparison's log-rank tests, the questionnaire's group comparisons).
TEST_WITH_EFFECT = ("test", "statistic", "df", "p", "effect", "effect_value")


@dataclasses.dataclass
class Composition:
    """Tidy tables with fixed columns, method notes and the nested result (for charts and the
    CLI's JSON)."""

    tables: dict[str, pd.DataFrame]
    notes: dict[str, str]
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def note(self) -> str:
        """The method notes as one text (the downloads' method note)."""
        return "\n".join(f"{k}: {v}" for k, v in self.notes.items())


def tidy(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``rows`` as a frame with exactly ``columns`` in this order (missing ones empty)."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column in columns:
        if column not in frame:
            frame[column] = None
    return frame[list(columns)].reset_index(drop=True)


def japan_date(at: dt.datetime) -> dt.date:
    """The calendar day in Japan of an aware moment (naive values are refused)."""
    if at.tzinfo is None:
        raise ValueError("a naive date-time: give a time zone")
    return at.astimezone(TOKYO).date()


def minutes_key(minutes: float) -> str:
    """The column of "share by T minutes": ``share_by_10`` (the same for 10 and 10.0)."""
    return f"share_by_{float(minutes):g}"
