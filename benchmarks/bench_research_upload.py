"""A questionnaire upload on the survey page: upload → validate → import → score 10,000
respondents × 40 items (target: at most 5 s), against the command line on the same file in the
same run (``bosai survey import`` then ``bosai analyze survey``).

The page side is timed through the page's own functions, not through a browser: what the survey
page calls when a file is dropped and imported — :func:`sql.imports.research_uploads.
check_survey` (validate + dry-run counts, shown before the button), :func:`~sql.imports.
research_uploads.import_survey_upload` given that check (stores the checked file all or
nothing, audit row) — and then the scoring the page shows,
:func:`compositions.survey.from_database` with the page's options (1,000 α resamples, 100 ω
resamples, small-cell threshold, compared by participant type). Streamlit's own upload transfer
and rendering are not included. The command line runs ``bosai survey import FILE --instrument
YAML`` and ``bosai analyze survey FILE --instrument YAML --by participant_type --boot 1000
--omega-boot 100`` in-process (click's ``main``), each against its own fresh SQLite database.
The file and the instrument (40 five-point items in four subscales, a participant type) are
generated with a fixed seed into the bench's scratch folder.
Ratio = page / command line (< 1: the page is faster).
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from pathlib import Path

import numpy as np

from .core import BenchContext, Result

RESPONDENTS = 10_000
ITEMS = 40
SUBSCALES = ("a", "b", "c", "d")
TYPES = (("resident", "住民"), ("visitor", "来訪者"), ("staff", "市職員"))
SEED = 20261206
INSTRUMENT_ID = "bench-40"
#: The survey page's resamples (α and effect sizes; ω).
PAGE_BOOT, PAGE_OMEGA_BOOT = 1_000, 100


def item_text(number: int) -> str:
    return f"設問{number + 1:02d}（ベンチマーク）"


def instrument_yaml() -> str:
    lines = [
        f"id: {INSTRUMENT_ID}",
        'version: "1.0"',
        "title: {ja: ベンチマーク用40項目, en: Benchmark 40 items}",
        "subscales:",
        *(f"  {s}: {{ja: 下位尺度{s.upper()}, en: Subscale {s.upper()}}}" for s in SUBSCALES),
        "items:",
        "  - id: participant_type",
        "    type: single",
        "    maps_to: participant_type",
        "    text: {ja: 参加区分, en: Participant type}",
        "    options:",
        *(f"      - {{code: {code}, ja: {ja}, en: {code}}}" for code, ja in TYPES),
    ]
    for number in range(ITEMS):
        reverse = ", reverse: true" if number % 5 == 4 else ""
        lines.append(
            f"  - {{id: q{number + 1:02d}, type: likert5, "
            f"subscale: {SUBSCALES[number % len(SUBSCALES)]}{reverse}, "
            f"text: {{ja: {item_text(number)}, en: Item {number + 1}}}}}"
        )
    return "\n".join(lines) + "\n"


def write_export(path: Path, respondents: int, seed: int = SEED) -> None:
    """A Google-Forms-like export: time stamp, participant type, 40 answers 1–5 (one factor
    per subscale, seeded)."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(respondents, len(SUBSCALES)))
    loadings = rng.uniform(0.5, 1.0, size=ITEMS)
    raw = np.empty((respondents, ITEMS))
    for number in range(ITEMS):
        sign = -1 if number % 5 == 4 else 1
        raw[:, number] = 3 + sign * factors[:, number % len(SUBSCALES)] * loadings[number]
    raw += rng.normal(scale=0.8, size=raw.shape)
    answers = np.clip(np.round(raw), 1, 5).astype(int)
    types = rng.integers(0, len(TYPES), size=respondents)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["タイムスタンプ", "参加区分", *(item_text(n) for n in range(ITEMS))])
        for row in range(respondents):
            stamp = f"2026/03/11 {10 + row // 3600 % 8:02d}:{row // 60 % 60:02d}:{row % 60:02d}"
            writer.writerow([stamp, TYPES[types[row]][1], *answers[row].tolist()])


def _prepared(url: str):
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(url)
    prepare_database(engine)
    return engine


def bench_files(ctx: BenchContext, name: str) -> tuple[int, Path, Path]:
    """The respondents (2,000 with ``--quick``), the generated export and the instrument YAML,
    written into the scratch folder ``name``."""
    respondents = 2_000 if ctx.quick else RESPONDENTS
    folder = ctx.workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "bench_survey_export.csv"
    instrument = folder / f"{INSTRUMENT_ID}.yaml"
    write_export(export, respondents)
    instrument.write_text(instrument_yaml(), encoding="utf-8")
    return respondents, export, instrument


def command_line(ctx: BenchContext, export: Path, instrument: Path) -> float:
    """Seconds for ``bosai survey import`` + ``bosai analyze survey`` (the page's options) on
    ``export``, in-process, against a fresh SQLite database of its own. The modules the two
    commands use are imported before the clock starts (the browser bench runs it in a process
    that has not imported scipy yet: ~2 s of imports is not the command's work)."""
    import compositions.survey  # noqa: F401
    import sql.imports.surveys  # noqa: F401
    import surveys.validate  # noqa: F401
    from bosai.cli import main
    from sql.engine import dispose_engines

    cli_url = ctx.sqlite_url("research_upload_cli")
    _prepared(cli_url).dispose()
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        code_import = main(
            [
                "--database-url",
                cli_url,
                "survey",
                "import",
                str(export),
                "--instrument",
                str(instrument),
            ]
        )
        code_score = main(
            [
                "analyze",
                "survey",
                str(export),
                "--instrument",
                str(instrument),
                "--by",
                "participant_type",
                "--boot",
                str(PAGE_BOOT),
                "--omega-boot",
                str(PAGE_OMEGA_BOOT),
                "--json",
            ]
        )
    seconds = time.perf_counter() - start
    dispose_engines()
    if code_import or code_score:
        raise RuntimeError(f"command line failed ({code_import}, {code_score})")
    return seconds


def run(ctx: BenchContext) -> list[Result]:
    import dataclasses

    from analytics.small_cells import THRESHOLD
    from compositions.survey import from_database
    from sql.engine import dispose_engines
    from sql.imports import research_uploads as uploads
    from sql.viewer import SYSTEM

    respondents, export, instrument = bench_files(ctx, "research_upload")
    data, yaml_upload = export.read_bytes(), (instrument.name, instrument.read_bytes())
    researcher = dataclasses.replace(SYSTEM, role="researcher", subject="bench", purpose="bench")
    boot, omega_boot = PAGE_BOOT, PAGE_OMEGA_BOOT

    # The page: check (report, preview, dry-run counts), import in the dialog, score.
    page_engine = _prepared(ctx.sqlite_url("research_upload_page"))
    page_start = time.perf_counter()
    check = uploads.check_survey(page_engine, export.name, data, instrument_yaml=yaml_upload)
    checked = time.perf_counter()
    if not check.ok:
        raise RuntimeError(f"generated export does not pass: {check.report.head().to_dict()}")
    done = uploads.import_survey_upload(
        page_engine, researcher, export.name, data, instrument_yaml=yaml_upload, check=check
    )
    imported = time.perf_counter()
    scored = from_database(
        page_engine,
        INSTRUMENT_ID,
        ("participant_type",),
        n_boot=boot,
        omega_boot=omega_boot,
        min_group=THRESHOLD,
    )
    page_end = time.perf_counter()
    page = page_end - page_start
    page_engine.dispose()
    dispose_engines()

    cli = command_line(ctx, export, instrument)
    size = f"{respondents:,} x {ITEMS}"
    return [
        Result(
            f"survey upload: check + import + score on the page's functions ({size})",
            page,
            "s",
            cli,
            note=(
                "value: research_uploads.check_survey + import_survey_upload + "
                "compositions.survey.from_database (page options) on SQLite; baseline: "
                "`bosai survey import` + `bosai analyze survey` on the same file in-process; "
                f"ratio < 1 = page faster; target value <= 5 s; inserted {done['inserted']:,}; "
                f"n scored {scored.details['n']:,}"
            ),
        ),
        Result(f"survey upload: check only ({size})", checked - page_start, "s"),
        Result(f"survey upload: import after the check ({size})", imported - checked, "s"),
        Result(f"survey upload: scoring on the page ({size})", page_end - imported, "s"),
    ]
