"""Evacuation rules per observation batch: 100 river stations, 50 issuance areas.

- ``evacuation.rules_batch_ms``: :func:`analytics.evacuation_rules.evaluate` on one batch —
  every station's last six hours (36 readings each, 3,600 rows) against 200 rules (each
  station's 避難判断水位 → level 3 and 氾濫危険水位 → level 4 for two or three of the 50 areas),
  with levels in force in some areas — against the naive per-area loop in the same run
  (:func:`~analytics.evacuation_rules.evaluate_naive`: for each area, each rule naming it, the
  station's readings found by a scan). ``ratio`` = ours / naive. Both give the same proposals
  (checked here, and in the tests on random batches). The issue's target is ≤ 50 ms.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .core import BenchContext, Result, best_of


def workload(stations: int = 100, areas: int = 50, readings: int = 36, seed: int = 17):
    from analytics.evacuation_rules import Thresholds, parse_rules

    rng = np.random.default_rng(seed)
    thresholds = {
        f"S{i:03d}": Thresholds(1.0, 1.5, 2.0 + (i % 5) * 0.1, 2.8 + (i % 5) * 0.1)
        for i in range(stations)
    }
    lines = ["rules:"]
    for i in range(stations):
        targets = ", ".join(f"A{(i * 3 + k) % areas:02d}" for k in range(2 + i % 2))
        lines.append(
            f"  - {{id: j{i}, trigger: {{kind: river_level, station: S{i:03d}, "
            f"threshold: judgement_m}}, level: 3, areas: [{targets}]}}"
        )
        lines.append(
            f"  - {{id: d{i}, trigger: {{kind: river_level, station: S{i:03d}, "
            f"threshold: danger_m}}, level: 4, areas: [{targets}]}}"
        )
    rules = parse_rules("\n".join(lines), "bench.yaml")
    t0 = dt.datetime(2026, 7, 10, 0, 0, tzinfo=dt.UTC)
    rise = np.linspace(0.8, 3.2, readings)
    rows = [
        (f"S{i:03d}", t0 + dt.timedelta(minutes=10 * k), float(rise[k] * rng.uniform(0.6, 1.1)))
        for i in range(stations)
        for k in range(readings)
    ]
    observations = pd.DataFrame(rows, columns=["station", "observed_at", "level_m"])
    in_force = {f"A{a:02d}": 3 for a in range(0, areas, 4)}
    return rules, thresholds, observations, in_force


def run(ctx: BenchContext) -> list[Result]:
    from analytics.evacuation_rules import evaluate, evaluate_naive

    rules, thresholds, observations, in_force = workload(
        stations=30 if ctx.quick else 100, areas=15 if ctx.quick else 50
    )
    ours = evaluate(rules, thresholds, observations, {}, in_force)
    naive = evaluate_naive(rules, thresholds, observations, {}, in_force)
    if ours != naive:
        raise AssertionError("the vectorised and the naive evaluation disagree")
    fast = best_of(lambda: evaluate(rules, thresholds, observations, {}, in_force), repeat=5)
    slow = best_of(lambda: evaluate_naive(rules, thresholds, observations, {}, in_force), repeat=2)
    return [
        Result(
            "evacuation.rules_batch_ms",
            fast * 1000,
            "ms",
            baseline=slow * 1000,
            note=f"{len(rules)} rules, {len(observations)} readings, {len(ours)} proposals; "
            "ratio = ours / naive per-area loop",
        )
    ]
