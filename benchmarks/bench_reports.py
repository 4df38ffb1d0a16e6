"""The council report as PDF on the demo incident (its charts and maps drawn by kaleido in
Debian's chromium), against baselines measured in the same run.

- ``council PDF, cold``: from nothing to PDF bytes in a process that has not drawn a chart
  yet (kaleido starts chromium while the data are read); target: at most 15 s for a PDF with
  8 charts or more. Baseline: the same report as HTML without charts (reading and computing
  only), so the ratio is what the charts and the PDF cost on top.
- ``council PDF, warm``: the same with the renderer already running (the dashboard's case
  after its first report).
- ``charts to PNG, one kaleido server``: the report's figures through the process's kaleido
  server, against the same figures each exported with a fresh kaleido (a new chromium per
  figure — what ``fig.write_image`` does without a server).

The machine's load average is reported with the figures: the times scale with it.
"""

from __future__ import annotations

import os
import time

from .core import BenchContext, Result, load_demo_city

TARGET_S = 15.0


def run(ctx: BenchContext) -> list[Result]:
    from reports import charts, council
    from sql.engine import make_engine

    citizens = 2_000 if ctx.quick else 12_000
    url = ctx.sqlite_url("reports")
    load_demo_city(url, citizens)
    engine = make_engine(url)
    load_before = os.getloadavg()[0]

    charts.stop_renderer()  # cold: no kaleido server, no chromium yet
    start = time.perf_counter()
    report = council.build(engine, incident="1")
    pdf = council.to_pdf(report)
    cold = time.perf_counter() - start
    figures = [c.figure for c in report.charts]

    start = time.perf_counter()
    council.to_pdf(council.build(engine, incident="1"))
    warm = time.perf_counter() - start

    start = time.perf_counter()
    council.to_html(council.build(engine, incident="1", draw_charts=False))
    html_only = time.perf_counter() - start

    start = time.perf_counter()
    for figure in figures:
        charts.render_png(figure)
    shared = time.perf_counter() - start
    fresh_count = 3 if ctx.quick else len(figures)
    start = time.perf_counter()
    for figure in figures[:fresh_count]:
        charts.render_png_fresh(figure)
    fresh = (time.perf_counter() - start) * len(figures) / fresh_count
    engine.dispose()
    load_after = os.getloadavg()[0]

    n = len(figures)
    size = f"demo incident, {citizens:,} citizens, {n} charts, {len(pdf) / 1e6:.1f} MB"
    machine = f"load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} cores"
    return [
        Result(
            f"council PDF, cold ({size})",
            cold,
            "s",
            html_only,
            note=f"target <= {TARGET_S:.0f} s with >= 8 charts; baseline: the same report as "
            f"HTML without charts; {machine}",
        ),
        Result(
            f"council PDF, warm renderer ({n} charts)",
            warm,
            "s",
            html_only,
            note="kaleido server already running; baseline as above",
        ),
        Result(
            f"{n} charts to PNG, one kaleido server",
            shared,
            "s",
            fresh,
            note=(
                "baseline: each figure with a fresh kaleido + chromium"
                + (f" (timed on {fresh_count}, scaled to {n})" if fresh_count < n else "")
                + "; ratio < 1 = faster"
            ),
        ),
    ]
