"""The research benchmark runs (quick sizes) and its fast α bootstrap agrees with the naive
pandas loop it is compared with; the timings themselves are never asserted."""

from __future__ import annotations

from benchmarks import MODULES, bench_research
from benchmarks.core import BenchContext


def test_quick_run_reports_a_ratio_and_agreement(tmp_path):
    assert "benchmarks.bench_research" in MODULES
    timing, agreement = bench_research.run(BenchContext(workdir=tmp_path, quick=True))
    assert timing.unit == "s" and timing.baseline and timing.ratio is not None
    assert agreement.value < 1e-12
