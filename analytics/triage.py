"""Triage score of rescue requests — one documented formula, shown on the rescue queue.

    score = 30 × (on the evacuation-support register)
          + 5 × min(people, 10)
          + 15 × min(injured, 4)
          + 10 × min(flood depth at the place in m, 5)
          + min(minutes waiting, 120) / 4

Each term is capped so no single factor can bury the others; the highest possible score is
30 + 50 + 60 + 50 + 30 = 220. The weights are a starting point for the city to tune with its
fire service (``weights=``); the page always shows the formula in use.

>>> import pandas as pd, datetime as dt
>>> now = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)
>>> requests = pd.DataFrame({"on_register": [True, False], "people_count": [1, 4],
...     "injured_count": [0, 1], "flood_depth_m": [1.0, 0.0],
...     "requested_at": [now - dt.timedelta(minutes=40), now - dt.timedelta(minutes=8)]})
>>> triage_scores(requests, now).round(1).tolist()
[55.0, 37.0]
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class TriageWeights:
    register: float = 30.0
    per_person: float = 5.0
    people_cap: int = 10
    per_injured: float = 15.0
    injured_cap: int = 4
    per_metre_depth: float = 10.0
    depth_cap_m: float = 5.0
    minutes_divisor: float = 4.0
    minutes_cap: float = 120.0

    def formula(self, lang: str = "ja") -> str:
        """The formula as text for the page (numbers from these weights)."""
        if lang == "en":
            return (
                f"score = {self.register:g} × on register + {self.per_person:g} × min(people, "
                f"{self.people_cap}) + {self.per_injured:g} × min(injured, {self.injured_cap}) + "
                f"{self.per_metre_depth:g} × min(flood depth m, {self.depth_cap_m:g}) + "
                f"min(minutes waiting, {self.minutes_cap:g}) / {self.minutes_divisor:g}"
            )
        return (
            f"スコア = {self.register:g} ×（要支援者）+ {self.per_person:g} × min(人数, "
            f"{self.people_cap}) + {self.per_injured:g} × min(負傷者数, {self.injured_cap}) + "
            f"{self.per_metre_depth:g} × min(想定浸水深 m, {self.depth_cap_m:g}) + "
            f"min(待ち時間 分, {self.minutes_cap:g}) ÷ {self.minutes_divisor:g}"
        )


DEFAULT_WEIGHTS = TriageWeights()


def minutes_waiting(requested_at: pd.Series, now: dt.datetime) -> pd.Series:
    """Whole minutes since each request (never negative)."""
    requested = pd.to_datetime(requested_at, utc=True)
    minutes = (pd.Timestamp(now) - requested).dt.total_seconds() / 60.0
    return minutes.clip(lower=0).fillna(0)


def _numbers(column: pd.Series) -> pd.Series:
    """The column as floats (an object column of numbers and None, as a queue row may be)."""
    return pd.to_numeric(column, errors="coerce").astype(float)


def triage_scores(
    requests: pd.DataFrame, now: dt.datetime, weights: TriageWeights = DEFAULT_WEIGHTS
) -> pd.Series:
    """The score of each request (columns: on_register, people_count, injured_count,
    flood_depth_m, requested_at)."""
    w = weights
    register = requests["on_register"].fillna(False).astype(bool).astype(float)
    people = _numbers(requests["people_count"]).fillna(1).clip(lower=0, upper=w.people_cap)
    injured = _numbers(requests["injured_count"]).fillna(0).clip(lower=0, upper=w.injured_cap)
    depth = _numbers(requests["flood_depth_m"]).fillna(0).clip(lower=0, upper=w.depth_cap_m)
    waiting = minutes_waiting(requests["requested_at"], now).clip(upper=w.minutes_cap)
    score = (
        w.register * register
        + w.per_person * people
        + w.per_injured * injured
        + w.per_metre_depth * depth
        + waiting / w.minutes_divisor
    )
    return pd.Series(np.round(score.to_numpy(dtype=float), 6), index=requests.index, name="score")
