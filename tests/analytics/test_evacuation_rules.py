"""Evacuation rules: triggers → proposed levels per area, table-driven (issue 17)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.evacuation_rules import (
    Thresholds,
    check_rules,
    evaluate,
    evaluate_naive,
    parse_rules,
)
from bosai.errors import InvalidInputError
from sql.city_config import evacuation_rules_path

T0 = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
STATIONS = {
    "S1": Thresholds(1.0, 1.5, 2.0, 2.5, "湯川橋", "湯川"),
    "S2": Thresholds(2.0, 3.0, 4.0, 5.0, "宮古", "阿賀川"),
}
RULES = parse_rules(
    """
rules:
  - {id: s1-j, trigger: {kind: river_level, station: S1, threshold: judgement_m}, level: 3, areas: [A, B]}
  - {id: s1-d, trigger: {kind: river_level, station: S1, threshold: danger_m}, level: 4, areas: [A, B]}
  - {id: s2-j, trigger: {kind: river_level, station: S2, threshold: judgement_m}, level: 3, areas: [B, C]}
  - {id: s2-local, trigger: {kind: river_level, station: S2, level_m: 4.5}, level: 4, areas: [C]}
  - {id: slide, trigger: {kind: landslide_warning}, level: 4, areas: [L]}
  - {id: flood5, trigger: {kind: flood_forecast, forecast: 氾濫発生情報}, level: 5, areas: [C]}
""",
    "rules.yaml",
)


def series(**levels: list[float]) -> pd.DataFrame:
    """Observations every 10 minutes from T0 per station."""
    rows = [
        (station, T0 + dt.timedelta(minutes=10 * i), level)
        for station, values in levels.items()
        for i, level in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["station", "observed_at", "level_m"])


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


CASES = [
    # (name, observations, active, in_force, expected [(area, level, current, rule_ids, since)])
    ("quiet river: nothing", series(S1=[0.5, 0.8]), {}, {}, []),
    (
        "judgement level → 3 for the river's areas, since the first reading at it",
        series(S1=[1.8, 2.1, 2.2]),
        {},
        {},
        [("A", 3, None, ("s1-j",), at(10)), ("B", 3, None, ("s1-j",), at(10))],
    ),
    (
        "danger level → 4, both rules fired",
        series(S1=[2.1, 2.6]),
        {},
        {},
        [("A", 4, None, ("s1-j", "s1-d"), at(10)), ("B", 4, None, ("s1-j", "s1-d"), at(10))],
    ),
    (
        "a dip below restarts the time since the trigger",
        series(S1=[2.1, 1.9, 2.2, 2.3]),
        {},
        {},
        [("A", 3, None, ("s1-j",), at(20)), ("B", 3, None, ("s1-j",), at(20))],
    ),
    (
        "fallen below again: nothing",
        series(S1=[2.1, 1.9]),
        {},
        {},
        [],
    ),
    (
        "already at that level: no proposal; a higher one still proposed",
        series(S1=[2.6], S2=[4.1]),
        {},
        {"A": 4, "B": 3, "C": 3},
        [("B", 4, 3, ("s1-j", "s1-d", "s2-j"), at(0))],
    ),
    (
        "a local figure overrides the station's threshold",
        series(S2=[4.4, 4.6]),
        {},
        {},
        [("B", 3, None, ("s2-j",), at(0)), ("C", 4, None, ("s2-j", "s2-local"), at(10))],
    ),
    (
        "landslide warning and flood occurrence in force",
        series(S1=[0.1]),
        {"landslide_warning": at(-30), "flood_forecast:氾濫発生情報": at(-5)},
        {"L": 3},
        [("C", 5, None, ("flood5",), at(-5)), ("L", 4, 3, ("slide",), at(-30))],
    ),
    (
        "a forecast of another kind fires nothing",
        series(S1=[0.1]),
        {"flood_forecast:氾濫危険情報": at(-5)},
        {},
        [],
    ),
    ("no observations at all", series(), {}, {}, []),
]


@pytest.mark.parametrize(
    ("observations", "active", "in_force", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rules_propose_levels(observations, active, in_force, expected):
    for evaluation in (evaluate, evaluate_naive):
        got = evaluation(RULES, STATIONS, observations, active, in_force)
        assert [
            (p.area, p.level, p.current_level, p.rule_ids, p.triggered_at) for p in got
        ] == expected, evaluation.__name__


def test_the_deciding_trigger_says_what_to_tell_hq():
    (a, _b) = evaluate(RULES, STATIONS, series(S1=[2.2]), {}, {})
    assert a.trigger == {
        "kind": "river_level",
        "station": "S1",
        "station_name": "湯川橋",
        "river": "湯川",
        "threshold": "judgement_m",
        "threshold_m": 2.0,
        "level_m": 2.2,
    }


def test_vectorised_and_naive_agree_on_random_batches():
    rng = np.random.default_rng(17)
    stations = {f"S{i}": Thresholds(1.0, 1.5, 2.0 + i % 3 * 0.1, 2.6) for i in range(30)}
    text = "rules:\n" + "".join(
        f"  - {{id: r{i}, trigger: {{kind: river_level, station: S{i % 30}, "
        f"threshold: {'judgement_m' if i % 2 else 'danger_m'}}}, level: {3 if i % 2 else 4}, "
        f"areas: [{', '.join(f'A{(i * 7 + k) % 20}' for k in range(3))}]}}\n"
        for i in range(60)
    )
    rules = parse_rules(text, "random.yaml")
    for _ in range(20):
        obs = pd.DataFrame(
            [
                (f"S{s}", T0 + dt.timedelta(minutes=10 * k), float(rng.uniform(1.5, 3.0)))
                for s in range(30)
                for k in range(4)
            ],
            columns=["station", "observed_at", "level_m"],
        ).sample(frac=1, random_state=int(rng.integers(1000)))
        in_force = {f"A{a}": 3 for a in rng.choice(20, 5, replace=False)}
        assert evaluate(rules, stations, obs, {}, in_force) == evaluate_naive(
            rules, stations, obs, {}, in_force
        )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "rules:\n  - {trigger: {kind: river_level, station: S1}, level: 2, areas: [A]}",
            ":1:level",
        ),
        ("rules:\n  - {trigger: {kind: rain}, level: 3, areas: [A]}", ":1:trigger.kind"),
        ("rules:\n  - {trigger: {kind: river_level}, level: 3, areas: [A]}", ":1:trigger.station"),
        (
            "rules:\n  - {trigger: {kind: river_level, station: S, threshold: top}, level: 3, areas: [A]}",
            ":1:trigger.threshold",
        ),
        ("rules:\n  - {trigger: {kind: landslide_warning}, level: 4, areas: []}", ":1:areas"),
        (
            "rules:\n  - {id: x, trigger: {kind: landslide_warning}, level: 4, areas: [A]}\n"
            "  - {id: x, trigger: {kind: landslide_warning}, level: 5, areas: [A]}",
            ":2:id",
        ),
        (
            "rules:\n  - {trigger: {kind: flood_forecast}, level: 5, areas: [A]}",
            ":1:trigger.forecast",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_rule_and_field(text, where):
    with pytest.raises(InvalidInputError) as excinfo:
        parse_rules(text, "r.yaml")
    assert any(p.startswith(f"r.yaml{where}:") for p in excinfo.value.problems)


def test_the_citys_rules_file_parses_and_names_the_test_areas_and_stations():
    path = evacuation_rules_path("072028")
    rules = parse_rules(path.read_text(encoding="utf-8"), str(path))
    assert {r.level for r in rules} == {3, 4, 5}
    assert (
        check_rules(
            rules,
            ["yugawa-01", "agagawa-01"],
            ["YU-1", "YU-2", "YU-3", "AG-1", "AG-2", "LS-1"],
            str(path),
        )
        == []
    )
    assert check_rules(rules, [], ["YU-1"], "x")[0].startswith("x:1:trigger.station:")


def test_the_benchmark_runs_quick_and_reports_a_ratio(tmp_path):
    from benchmarks import MODULES, bench_evacuation
    from benchmarks.core import BenchContext

    assert "benchmarks.bench_evacuation" in MODULES
    results = bench_evacuation.run(BenchContext(workdir=tmp_path, quick=True))
    assert [r.name for r in results] == [
        "evacuation.rules_batch_ms",
        "evacuation.issue_30k_ms",
        "evacuation.city_counts_ms",
        "evacuation.demo_generate_s",
        "evacuation.map_proposals_ms",
    ]
    for result in results:
        assert result.unit in ("ms", "s") and result.baseline and result.ratio is not None
    assert "4 decisions" in results[-2].note  # the demo's part made its decisions
