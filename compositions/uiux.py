"""UI/UX task times: per task × method × group, and the comparison of methods (paper vs app),
paired within participants (Wilcoxon signed-rank, Hodges–Lehmann shift with R's interval) and
unpaired (rank-sum).

Tables (fixed columns): ``summary`` :data:`SUMMARY`; ``paired`` :data:`PAIRED`; ``unpaired``
:data:`UNPAIRED` — each test with its effect size (the Hodges–Lehmann shift and interval).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.uiux_timing import analyse
from sql.queries import research

from . import Composition, tidy

SUMMARY = (
    "task",
    "method",
    "group",
    "n",
    "attempts",
    "median_s",
    "q1_s",
    "q3_s",
    "mean_s",
    "sd_s",
    "min_s",
    "max_s",
    "successes",
    "failures",
    "errors",
    "outliers",
)
#: The rank test of two methods and the Hodges–Lehmann shift with its interval.
SHIFT_TEST = ("statistic", "p", "hl_shift_s", "ci_low", "ci_high", "method")
PAIRED = (
    "task",
    "group",
    "first",
    "second",
    "n",
    "incomplete_pairs",
    "median_first_s",
    "median_second_s",
    *SHIFT_TEST,
)
UNPAIRED = ("task", "first", "second", "n_first", "n_second", *SHIFT_TEST)


def comparison(frame: pd.DataFrame) -> Composition:
    """``participant, group, task, method, seconds, success …`` → the composition."""
    result = analyse(frame)
    tables = {
        "summary": tidy(result["summary"], SUMMARY),
        "paired": tidy(result["paired"], PAIRED),
        "unpaired": tidy(result["unpaired"], UNPAIRED),
    }
    return Composition(tables, dict(result["method"]), result)


def from_database(engine: Engine, sessions: list[str] | None = None) -> Composition:
    return comparison(research.uiux_timings(engine, sessions))


def from_file(file: Path) -> Composition:
    from surveys.timing_sheet import read_timing_sheet

    composition = comparison(read_timing_sheet(file).frame)
    composition.details["file"] = Path(file).name
    return composition
