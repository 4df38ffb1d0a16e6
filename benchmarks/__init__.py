"""Benchmarks: each module measures a feature against a baseline *in the same run*.

A module listed in :data:`MODULES` exposes ``run(ctx: BenchContext) -> list[Result]``.
``bosai bench [--json] [--only NAME] [--quick]`` runs them and prints
``[{name, value, unit, baseline, ratio}, ...]``. Figures go into the issue notes; nothing here is
ever a timed assertion in the test suite.
"""

MODULES: tuple[str, ...] = (
    "benchmarks.bench_demo",
    "benchmarks.bench_ingest",
    "benchmarks.bench_imports",
    "benchmarks.bench_cityos",
    "benchmarks.bench_research",
    "benchmarks.bench_research_upload",
    "benchmarks.bench_research_upload_browser",
    "benchmarks.bench_research_turnbull",
    "benchmarks.bench_hq_map",
    "benchmarks.bench_hq_pages",
    "benchmarks.bench_reports",
    "benchmarks.bench_scale",
    "benchmarks.bench_safety",
    "benchmarks.bench_evacuation",
)
