"""Soak: one writer ingesting status updates at 2,000/s and 20 dashboard sessions on the HQ map.

``python -m benchmarks.soak --seconds 60 [--sessions 20] [--rate 2000] [--backend sqlite]
[--backend postgresql] [--citizens 12000] [--json]``

For each backend: a demo city (``bosai demo``), the real Streamlit server (``streamlit run
dashboard/app.py``), a writer process feeding status reports through the real ingest path
(:func:`sql.ingest.ingest_status_reports`, one transaction per batch, paced to ``rate`` per
second) and ``sessions`` Playwright browser contexts in Debian's chromium, each on the HQ map,
whose live fragment refreshes every ``refresh_seconds`` (10 s, the city's setting). Each page
records when every run of the script or fragment starts and ends (a MutationObserver on
Streamlit's ``data-test-script-state``), so refresh times are measured in the browser, from
the request to the drawn result.

What it checks and reports:

- errors: exceptions on any page (``stException``), red outage banners, pages that lost their
  connection, JavaScript page errors, tracebacks in the server log, a failed writer;
- no lost or duplicated update: the stored reports with the run's keys are exactly those
  sent (count, distinct keys, and each row's content against the generator), and the derived
  latest status agrees with them;
- the writer's achieved rate and how far it fell behind its schedule;
- page refresh times p50/p95 (fragment refreshes; first loads separately), the number of
  refreshes, and the machine's load average and CPU count during the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from benchmarks.core import synthetic_report
from cityos.reference_server.runner import free_port
from dashboard.launch import CHROMIUM, CHROMIUM_ARGS, headless_command

ROOT = Path(__file__).resolve().parents[1]
# Twenty sessions share one machine: background tabs must keep their timers (the fragment's
# 10 s refresh) running.
SOAK_CHROMIUM_ARGS = [
    *CHROMIUM_ARGS,
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
]


def run_recorder(clock: str = "performance.now()", banner: str | None = None) -> str:
    """JavaScript that records every script or fragment run of the page in
    ``window.__bosaiRuns``: [start, end] read from ``clock`` (a JavaScript expression in ms),
    and with ``banner``, whether the page showed that text when the run ended."""
    return """
window.__bosaiRuns = [];
window.__bosaiRunning = null;
const watch = () => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) { setTimeout(watch, 50); return; }
  const note = () => {
    const state = app.getAttribute("data-test-script-state");
    if (state === "running" && window.__bosaiRunning === null) {
      window.__bosaiRunning = CLOCK;
    } else if (state === "notRunning" && window.__bosaiRunning !== null) {
      const run = [window.__bosaiRunning, CLOCK];
      const banner = BANNER;
      if (banner !== null) run.push(document.body.innerText.includes(banner));
      window.__bosaiRuns.push(run);
      window.__bosaiRunning = null;
    }
  };
  new MutationObserver(note).observe(app, {attributes: true});
  note();
};
watch();
""".replace("CLOCK", clock).replace("BANNER", json.dumps(banner, ensure_ascii=False))


#: Records every script or fragment run of the page: [start ms, end ms].
RUN_RECORDER = run_recorder()


# ------------------------------------------------------------------ the writer


def soak_report(run: str, i: int, citizens: int, incident_id: int, at: dt.datetime) -> dict:
    """The ``i``-th update of a soak run (content derived from ``run`` and ``i``)."""
    return synthetic_report(f"soak:{run}:{i}", i, citizens, incident_id, at)


def session_errors(n: int, page: Any, outage_banner: str | None = None) -> list[str]:
    """What is wrong on browser session ``n``'s page: an exception or a traceback shown, the
    ``outage_banner`` shown (when given), its connection to the server lost."""
    errors = []
    if page.locator("[data-testid='stException']").count():
        errors.append(f"session {n}: an exception is shown")
    text = page.inner_text("body")
    if "Traceback" in text:
        errors.append(f"session {n}: a traceback is shown")
    if outage_banner is not None and outage_banner in text:
        errors.append(f"session {n}: an outage banner is shown")
    state = page.locator("[data-testid='stApp']").get_attribute("data-test-connection-state")
    if state != "CONNECTED":
        errors.append(f"session {n}: connection {state}")
    return errors


def add_writer_parser(sub: Any, help_text: str) -> argparse.ArgumentParser:
    """The ``writer`` command (what :func:`start_writer` runs): URL, --run, --rate, --seconds,
    --batch; the caller adds its own."""
    w = sub.add_parser("writer", help=help_text)
    w.add_argument("url")
    w.add_argument("--run", required=True)
    w.add_argument("--rate", type=int, default=2_000)
    w.add_argument("--seconds", type=float, default=60)
    w.add_argument("--batch", type=int, default=500)
    return w


def start_writer(
    module: str, url: str, run: str, rate: int, seconds: float, *extra: str, stdout=None
) -> subprocess.Popen:
    """Start ``python -m MODULE writer URL --run RUN --rate RATE --seconds SECONDS EXTRA…``
    from the repository root, its stderr (and ``stdout``) piped, as text."""
    command = [sys.executable, "-m", module, "writer", url, "--run", run, "--rate", str(rate)]
    return subprocess.Popen(
        [*command, "--seconds", str(seconds), *extra],
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def writer(url: str, run: str, rate: int, seconds: float, batch: int, incident_id: int) -> dict:
    """Feed ``rate`` updates a second for ``seconds`` through the ingest path, in batches on a
    fixed schedule; returns what was sent and how well the schedule was kept."""
    from sql.engine import make_engine
    from sql.ingest import ingest_status_reports
    from sql.models import Citizen

    engine = make_engine(url)
    with engine.connect() as conn:
        citizens = conn.execute(sa.select(sa.func.max(Citizen.id))).scalar_one()
    interval = batch / rate
    sent = inserted = 0
    worst_lag = 0.0
    batch_seconds: list[float] = []
    print("ready", flush=True)
    began = time.perf_counter()
    k = 0
    while True:
        due = began + k * interval
        if due - began >= seconds:
            break
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        worst_lag = max(worst_lag, -wait)
        now = dt.datetime.now(dt.UTC)
        rows = [soak_report(run, sent + j, citizens, incident_id, now) for j in range(batch)]
        started = time.perf_counter()
        inserted += ingest_status_reports(engine, rows, batch_size=batch).inserted
        batch_seconds.append(time.perf_counter() - started)
        sent += batch
        k += 1
    # On schedule, the last batch is sent one interval before the end: the run lasted `seconds`.
    elapsed = max(time.perf_counter() - began, seconds)
    engine.dispose()
    return {
        "sent": sent,
        "inserted": inserted,
        "elapsed_s": elapsed,
        "rate_per_s": sent / elapsed,
        "worst_lag_s": worst_lag,
        "batch_ms_p50": float(np.percentile(batch_seconds, 50) * 1000),
        "batch_ms_p95": float(np.percentile(batch_seconds, 95) * 1000),
        "citizens": citizens,
    }


def check_updates(url: str, run: str, sent: int, citizens: int, incident_id: int) -> dict:
    """No update lost or duplicated: the stored reports of ``run`` are exactly those sent, with
    the content sent, and the latest status agrees with what is stored."""
    from sql.engine import make_engine
    from sql.models import CitizenLatestStatus, StatusReport

    sr = StatusReport.__table__
    ls = CitizenLatestStatus.__table__
    engine = make_engine(url)
    problems: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(sr.c.idempotency_key, sr.c.citizen_id, sr.c.state, sr.c.incident_id).where(
                sr.c.idempotency_key.like(f"soak:{run}:%")
            )
        ).all()
        keys = [r.idempotency_key for r in rows]
        if len(rows) != sent:
            problems.append(f"{len(rows)} stored of {sent} sent")
        if len(set(keys)) != len(keys):
            problems.append(f"{len(keys) - len(set(keys))} duplicated keys")
        wrong = 0
        for r in rows:
            i = int(r.idempotency_key.rsplit(":", 1)[1])
            if not 0 <= i < sent:
                wrong += 1
                continue
            expect = soak_report(run, i, citizens, incident_id, dt.datetime.now(dt.UTC))
            if (r.citizen_id, r.state, r.incident_id) != (
                expect["citizen_id"],
                expect["state"],
                expect["incident_id"],
            ):
                wrong += 1
        if wrong:
            problems.append(f"{wrong} stored reports differ from what was sent")
        # The latest status of each citizen is the newest stored report (reported_at, id).
        newest = (
            sa.select(
                sr.c.citizen_id,
                sr.c.id,
                sa.func.row_number()
                .over(
                    partition_by=sr.c.citizen_id,
                    order_by=(sr.c.reported_at.desc(), sr.c.id.desc()),
                )
                .label("rn"),
            )
            .where(sr.c.incident_id == incident_id)
            .subquery()
        )
        disagree = conn.execute(
            sa.select(sa.func.count())
            .select_from(newest.join(ls, ls.c.citizen_id == newest.c.citizen_id))
            .where(
                newest.c.rn == 1, ls.c.incident_key == incident_id, ls.c.report_id != newest.c.id
            )
        ).scalar_one()
        if disagree:
            problems.append(f"latest status disagrees with the reports for {disagree} citizens")
    engine.dispose()
    return {"stored": len(rows), "distinct": len(set(keys)), "problems": problems}


# ------------------------------------------------------------------ the server


@contextmanager
def streamlit_server(url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "BOSAI_DATABASE_URL": url, **(env or {})}
    proc = subprocess.Popen(
        headless_command(port),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {log}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy; see {log}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


# ------------------------------------------------------------------ one soak


@dataclasses.dataclass
class SoakResult:
    backend: str
    seconds: float
    sessions: int
    rate_target: int
    writer: dict[str, Any]
    updates: dict[str, Any]
    errors: list[str]
    refreshes: int
    refresh_ms_p50: float | None
    refresh_ms_p95: float | None
    refresh_ms_max: float | None
    first_load_s_p50: float | None
    first_load_s_max: float | None
    load_average: tuple[float, float, float]
    cpus: int
    citizens: int

    def line(self) -> str:
        w = self.writer
        return (
            f"{self.backend}: {self.seconds:.0f} s, {self.sessions} sessions, writer "
            f"{w.get('rate_per_s', 0):,.0f}/s of {self.rate_target:,}/s (worst lag "
            f"{w.get('worst_lag_s', 0):.2f} s, batch p95 {w.get('batch_ms_p95', 0):.0f} ms), "
            f"{self.updates.get('stored', 0):,} stored of {w.get('sent', 0):,} sent, "
            f"{len(self.errors)} errors; HQ map refreshes {self.refreshes}: p50 "
            f"{_ms(self.refresh_ms_p50)}, p95 {_ms(self.refresh_ms_p95)}, max "
            f"{_ms(self.refresh_ms_max)}; first load p50 {_s(self.first_load_s_p50)}; load "
            f"average {self.load_average[0]:.1f}/{self.load_average[1]:.1f} on {self.cpus} CPUs"
        )


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} ms"


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} s"


def prepare_demo(url: str, citizens: int) -> None:
    from bosai.cli import main as bosai
    from sql.engine import dispose_engines

    if bosai(["--database-url", url, "db", "upgrade"]) != 0:
        raise RuntimeError("bosai db upgrade failed")
    if bosai(["--database-url", url, "demo", "--citizens", str(citizens)]) != 0:
        raise RuntimeError("bosai demo failed")
    dispose_engines()


def soak(
    backend: str,
    url: str,
    *,
    seconds: float,
    sessions: int,
    rate: int,
    workdir: Path,
    batch: int = 500,
    log: Callable[[str], None] = lambda _line: None,
) -> SoakResult:
    """One soak on a database that already holds a demo city (see the module doc)."""
    from playwright.sync_api import sync_playwright

    run = f"{backend}{int(time.time())}"
    errors: list[str] = []
    server_log = workdir / f"streamlit-{backend}.log"
    with streamlit_server(url, server_log) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=SOAK_CHROMIUM_ARGS)
        pages = []
        first_loads: list[float] = []
        opened: list[float] = []
        for n in range(sessions):  # all sessions open at once, as staff would at a call-out
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(RUN_RECORDER)
            page = context.new_page()
            page.on("pageerror", lambda exc, n=n: errors.append(f"session {n}: page error {exc}"))
            opened.append(time.perf_counter())
            page.goto(f"{base}/hq-map", wait_until="commit")
            pages.append(page)
        for n, page in enumerate(pages):
            page.wait_for_selector(
                "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=600_000
            )
            page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=600_000)
            # From navigation to the end of the first script run, measured in the page.
            first_end = page.evaluate("window.__bosaiRuns.length ? window.__bosaiRuns[0][1] : null")
            first_loads.append(
                first_end / 1000 if first_end is not None else time.perf_counter() - opened[n]
            )
        log(f"{backend}: {sessions} sessions on the HQ map; writer starts")
        for page in pages:
            page.evaluate("window.__bosaiRuns = []")
        load_before = os.getloadavg()
        proc = start_writer(
            "benchmarks.soak",
            url,
            run,
            rate,
            seconds,
            "--batch",
            str(batch),
            stdout=subprocess.PIPE,
        )
        deadline = time.monotonic() + seconds + 120
        loads = [load_before]
        while proc.poll() is None and time.monotonic() < deadline:
            pages[0].wait_for_timeout(2_000)  # keeps Playwright's event loop turning
            loads.append(os.getloadavg())
        out, err = proc.communicate(timeout=120)
        writer_result: dict[str, Any] = {}
        if proc.returncode != 0:
            errors.append(f"writer failed ({proc.returncode}): {err.strip()[-500:]}")
        else:
            writer_result = json.loads(out.strip().splitlines()[-1])
        durations: list[float] = []
        for n, page in enumerate(pages):
            runs = page.evaluate("window.__bosaiRuns")
            durations += [(end - start) for start, end in runs]
            errors += session_errors(n, page, outage_banner="に接続できません")
        browser.close()
    for line in server_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if "Traceback" in line or " ERROR " in line:
            errors.append(f"server log: {line.strip()[:300]}")
    updates: dict[str, Any] = {}
    if writer_result:
        updates = check_updates(
            url, run, writer_result["sent"], writer_result["citizens"], incident_id=1
        )
        errors += [f"updates: {p}" for p in updates["problems"]]
    peak = max(loads, key=lambda x: x[0])
    arr = np.asarray(durations) if durations else None
    return SoakResult(
        backend=backend,
        seconds=seconds,
        sessions=sessions,
        rate_target=rate,
        writer=writer_result,
        updates=updates,
        errors=errors,
        refreshes=len(durations),
        refresh_ms_p50=float(np.percentile(arr, 50)) if arr is not None else None,
        refresh_ms_p95=float(np.percentile(arr, 95)) if arr is not None else None,
        refresh_ms_max=float(arr.max()) if arr is not None else None,
        first_load_s_p50=float(np.median(first_loads)) if first_loads else None,
        first_load_s_max=max(first_loads) if first_loads else None,
        load_average=peak,
        cpus=os.cpu_count() or 0,
        citizens=writer_result.get("citizens", 0),
    )


@contextmanager
def demo_database(backend: str, workdir: Path, pg_url: str | None, citizens: int) -> Iterator[str]:
    """A fresh database holding the demo city (dropped afterwards on PostgreSQL)."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'soak.sqlite'}"
        prepare_demo(url, citizens)
        yield url
        return
    from sqlalchemy.engine import make_url

    base = make_url(pg_url or "postgresql://postgres@127.0.0.1:5432/test").set(
        drivername="postgresql+psycopg"
    )
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"bosai_soak_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        prepare_demo(url, citizens)
        yield url
    finally:
        from sql.engine import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    sub = parser.add_subparsers(dest="command")
    w = add_writer_parser(sub, "the writer process (started by the soak)")
    w.add_argument("--incident", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--citizens", type=int, default=12_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BOSAI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "writer":
        result = writer(args.url, args.run, args.rate, args.seconds, args.batch, args.incident)
        print(json.dumps(result), flush=True)
        return 0
    results = []
    failed = False
    for backend in args.backend or ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix="bosai-soak-") as tmp:
            workdir = Path(tmp)
            with demo_database(backend, workdir, args.pg_url, args.citizens) as url:
                result = soak(
                    backend,
                    url,
                    seconds=args.seconds,
                    sessions=args.sessions,
                    rate=args.rate,
                    workdir=workdir,
                    log=lambda line: print(line, file=sys.stderr, flush=True),
                )
            if result.errors:
                failed = True
                kept = ROOT / "test-artifacts" / f"soak-{backend}.log"
                kept.parent.mkdir(exist_ok=True)
                shutil.copyfile(workdir / f"streamlit-{backend}.log", kept)
        results.append(result)
        if not args.json:
            print(result.line(), flush=True)
            for error in result.errors[:20]:
                print(f"  error: {error}", flush=True)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results], ensure_ascii=False, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
