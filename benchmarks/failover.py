"""Failover drill: lose the primary under a live ingest with the HQ map open, promote the
standby, rejoin the old primary with ``pg_rewind``, fail back — and count what was lost.

``python -m benchmarks.failover [--seconds 60] [--rate 2000] [--sessions 3] [--citizens 2000]
[--seed 20110311] [--json]``

On loopback, with real parts (:mod:`deploy.pg_nodes`): two PostgreSQL servers of our own on
free ports — ``node_a`` the primary, ``node_b`` its streaming standby, every commit waiting until
the standby has applied it (``synchronous_commit = remote_apply``) — a demo city, one Streamlit
server whose database URL names both nodes (``target_session_attrs=read-write``; aggregate reads
on ``prefer-standby``), ``sessions`` headless chromium sessions on the HQ map (refreshing every
``REFRESH_SECONDS``), and a writer process that feeds status reports through
:func:`sql.ingest.ingest_status_reports` at ``rate`` a second in batches of 500 and enters a
staff head count (:func:`sql.actions.shelters.record_head_count`: occupancy, activity log and
audit row in one transaction) every quarter second, retrying a failed write until it is
acknowledged.

At a seeded random moment in the first half of the run the drill SIGKILLs the primary and every
process of it, notices it gone (three failed connection attempts), promotes the standby
(``pg_ctl promote``), verifies the audit chain on the new primary, rewinds the old primary
(``pg_rewind``) and starts it as the new primary's synchronous standby; later it fails back (a
clean switchover: the new primary stops after shipping its last WAL, the old one is promoted,
the other rejoins). Reported:

- acknowledged writes lost (goal 0) and duplicates (0) — status reports by their keys, head
  counts by their time — and the writes in flight at the kill (stored once either way);
- seconds from the kill until the ingest was acknowledged again, and until it was back on
  schedule; the same for the failback;
- seconds from the kill until every HQ map session had drawn a refresh again (no outage
  banner), measured in the pages; the same for the failback;
- the audit chain verified on the new primary and at the end, and the two nodes' content hashes
  equal at the end;
- the machine's load average.

The test suite runs a 20-second drill (``tests/reliability/test_failover.py``); the long
drill's figures are in docs/SCALING.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.soak import (
    SOAK_CHROMIUM_ARGS,
    add_writer_parser,
    check_updates,
    prepare_demo,
    run_recorder,
    session_errors,
    soak_report,
    start_writer,
    streamlit_server,
)
from cityos.reference_server.runner import free_port
from dashboard.launch import CHROMIUM
from deploy.pg_nodes import PgNode, workdir

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "bosai"
#: The HQ map's refresh during the drill (the demo city says 10 s): the time until the map
#: answers again is measured to within one refresh.
REFRESH_SECONDS = 2
#: The outage banner's words (ja), as a person reads them.
BANNER = "に接続できません"
DRILL_SUBJECT = "drill-failover"
#: Records every script or fragment run of the page: [start, end (wall-clock ms), banner shown].
RUN_RECORDER = run_recorder(clock="Date.now()", banner=BANNER)


# ------------------------------------------------------------------ the writer process


def _retrying(what: str, write: Callable[[], Any], log: Callable[[dict], None]) -> Any:
    """Run ``write`` until it succeeds; each failure is logged (the database may be away)."""
    from sqlalchemy import exc as sa_exc

    while True:
        try:
            return write()
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DBAPIError) as error:
            log({"error": what, "at": time.time(), "kind": type(error.orig or error).__name__})
            time.sleep(0.1)


def writer(url: str, run: str, rate: int, seconds: float, batch: int, out: Path) -> None:
    """Status reports at ``rate``/s on a fixed schedule and a staff head count every 0.25 s,
    each retried until acknowledged; one JSON line per acknowledgement in ``out``. Runs for at
    least ``seconds`` and until the file ``out`` with the suffix ``.stop`` exists."""
    from sql.actions import ActionRefused
    from sql.actions.shelters import record_head_count
    from sql.engine import make_engine
    from sql.ingest import ingest_status_reports
    from sql.models import Citizen, Shelter
    from sql.viewer import Viewer

    engine = make_engine(url)
    lock = threading.Lock()
    sink = out.open("a", encoding="utf-8")

    def log(record: dict) -> None:
        with lock:
            sink.write(json.dumps(record) + "\n")
            sink.flush()

    def first_ids() -> tuple[int, int]:
        with engine.connect() as conn:
            return (
                conn.execute(sa.select(sa.func.max(Citizen.id))).scalar_one(),
                conn.execute(sa.select(sa.func.min(Shelter.id))).scalar_one(),
            )

    citizens, shelter = _retrying("start", first_ids, log)
    viewer = Viewer(role="hq", subject=DRILL_SUBJECT, name="failover drill", purpose="drill")
    stop = threading.Event()
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)

    def staff() -> None:
        seq = 0
        while not stop.is_set():
            observed = base + dt.timedelta(milliseconds=seq)

            def enter(observed=observed, seq=seq) -> str:
                try:
                    record_head_count(engine, viewer, shelter, 1, seq % 1000, observed)
                    return "entered"
                except ActionRefused:  # a retry of an entry whose acknowledgement was lost
                    return "already"

            outcome = _retrying("staff", enter, log)
            log(
                {"staff": seq, "observed": observed.isoformat(), "ack": time.time(), "how": outcome}
            )
            seq += 1
            stop.wait(0.25)

    helper = threading.Thread(target=staff, daemon=True)
    helper.start()
    interval = batch / rate
    began = time.time()
    log({"start": began, "citizens": citizens, "interval": interval})
    k = sent = 0
    stop_file = out.with_suffix(".stop")
    while True:
        due = began + k * interval
        if due - began >= seconds and stop_file.exists():
            break
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        now = dt.datetime.now(dt.UTC)
        sending = time.time()
        rows = [soak_report(run, sent + j, citizens, 1, now) for j in range(batch)]
        result = _retrying(
            "ingest", lambda rows=rows: ingest_status_reports(engine, rows, batch_size=batch), log
        )
        log(
            {
                "batch": k,
                "sent": sending,
                "first": sent,
                "n": batch,
                "due": due,
                "ack": time.time(),
                "inserted": result.inserted,
            }
        )
        sent += batch
        k += 1
    stop.set()
    helper.join(timeout=60)
    log({"end": time.time(), "sent": sent})
    engine.dispose()
    sink.close()


# ------------------------------------------------------------------ the drill


@dataclasses.dataclass
class FailoverResult:
    seconds: float
    rate_target: int
    sessions: int
    citizens: int
    seed: int
    kill_after_s: float
    processes_killed: int
    detected_s: float
    promoted_s: float
    rejoined_s: float | None
    updates_sent: int
    updates_stored: int
    updates_lost: int
    updates_duplicated: int
    updates_in_flight_at_kill: int
    writer_rate_per_s: float
    staff_acknowledged: int
    staff_lost: int
    staff_duplicated: int
    staff_unacknowledged_commits: int
    ingest_resumed_s: float | None
    ingest_on_schedule_s: float | None
    map_answered_s: float | None
    map_answered_per_session_s: list[float | None]
    hq_state_answered_s: float | None
    audit_rows_new_primary: int
    audit_ok_new_primary: bool
    failback_write_gap_s: float | None
    failback_map_answered_s: float | None
    failback_hq_state_answered_s: float | None
    audit_rows_end: int
    audit_ok_end: bool
    content_equal_end: bool
    final_primary: str
    errors: list[str]
    load_average_before: tuple[float, float, float]
    load_average_end: tuple[float, float, float]
    cpus: int

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.updates_lost == 0
            and self.updates_duplicated == 0
            and self.staff_lost == 0
            and self.staff_duplicated == 0
            and self.audit_ok_new_primary
            and self.audit_ok_end
            and self.content_equal_end
            and self.ingest_resumed_s is not None
            and self.hq_state_answered_s is not None
            and self.map_answered_s is not None
        )

    def lines(self) -> list[str]:
        la, le = self.load_average_before, self.load_average_end
        return [
            f"failover drill: {self.seconds:.0f} s at {self.rate_target:,} updates/s, "
            f"{self.sessions} HQ map sessions, {self.citizens:,} citizens, seed {self.seed}",
            f"primary SIGKILLed after {self.kill_after_s:.1f} s ({self.processes_killed} "
            f"processes); noticed after {self.detected_s:.2f} s; standby promoted after "
            f"{self.promoted_s:.2f} s; old primary rejoined as standby after "
            f"{_s(self.rejoined_s)}",
            f"acknowledged writes lost: {self.updates_lost} of {self.updates_sent:,} status "
            f"updates, {self.staff_lost} of {self.staff_acknowledged} staff head counts; "
            f"duplicates: {self.updates_duplicated} / {self.staff_duplicated}; "
            f"{self.updates_in_flight_at_kill} updates in flight at the kill were stored once "
            f"on retry; {self.staff_unacknowledged_commits} head counts committed whose "
            "acknowledgement was lost were found on retry (not entered twice); writer "
            f"{self.writer_rate_per_s:,.0f} updates/s overall",
            f"ingest acknowledged again after {_s(self.ingest_resumed_s)}, back on schedule "
            f"after {_s(self.ingest_on_schedule_s)}; HQ map state built again after "
            f"{_s(self.hq_state_answered_s)}, drawn again in every browser session after "
            f"{_s(self.map_answered_s)} (refresh every {REFRESH_SECONDS} s)",
            f"audit chain on the new primary: {self.audit_rows_new_primary} rows, "
            f"{'verified' if self.audit_ok_new_primary else 'BROKEN'}; failback: writes paused "
            f"{_s(self.failback_write_gap_s)}, HQ map state after "
            f"{_s(self.failback_hq_state_answered_s)}, drawn after "
            f"{_s(self.failback_map_answered_s)}; at the end: {self.final_primary} primary, "
            f"audit {self.audit_rows_end} rows "
            f"{'verified' if self.audit_ok_end else 'BROKEN'}, content "
            f"{'identical on both nodes' if self.content_equal_end else 'DIFFERS between nodes'}",
            f"load average {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f} before, "
            f"{le[0]:.2f}/{le[1]:.2f}/{le[2]:.2f} at the end, {self.cpus} CPUs; "
            f"{len(self.errors)} errors",
        ]


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _urls(first: PgNode, second: PgNode) -> tuple[str, str]:
    hosts = f"127.0.0.1:{first.port},127.0.0.1:{second.port}"
    read = f"127.0.0.1:{second.port},127.0.0.1:{first.port}"
    return (
        f"postgresql://postgres@{hosts}/{DATABASE}?target_session_attrs=read-write",
        f"postgresql://postgres@{read}/{DATABASE}?target_session_attrs=prefer-standby",
    )


def _answers(node: PgNode) -> bool:
    import psycopg

    try:
        with psycopg.connect(node.conninfo() + " dbname=postgres connect_timeout=1") as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _engine(node: PgNode):
    from sql.engine import make_engine

    return make_engine(node.url(DATABASE))


def _set_sync(primary: PgNode, standby: PgNode) -> None:
    from sql import replication

    engine = _engine(primary)
    try:
        replication.set_synchronous(engine, (standby.name,))
    finally:
        engine.dispose()


def _wait_streaming(primary: PgNode, standby: PgNode, timeout: float = 60) -> None:
    from sql import replication

    engine = _engine(primary)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = [
                s["name"]
                for s in replication.node_state(engine).standbys
                if s["state"] == "streaming"
            ]
            if standby.name in names:
                return
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise RuntimeError(f"{standby.name} did not start streaming from {primary.name}")


def _fast_refresh(url: str) -> None:
    from sql.city_config import active_city, set_city
    from sql.engine import make_engine

    engine = make_engine(url)
    try:
        settings = dict(active_city(engine).settings or {})
        set_city(engine, {"settings": {**settings, "refresh_seconds": REFRESH_SECONDS}})
    finally:
        engine.dispose()


def _audit(node: PgNode) -> tuple[int, bool]:
    from sql import audit

    engine = _engine(node)
    try:
        report = audit.verify(engine)
        return report.rows, report.ok
    finally:
        engine.dispose()


def _content(node: PgNode) -> str:
    from sql.content_hash import content_hash

    engine = _engine(node)
    try:
        return content_hash(engine)
    finally:
        engine.dispose()


def _acks(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write_gap(acks: list[dict], since: float) -> tuple[float | None, float | None]:
    """After the first failed ingest write past ``since``: seconds from ``since`` to the next
    acknowledged batch, and to the first batch acknowledged no later behind its schedule than
    the writer was just before ``since`` (or within two batch intervals). (0, 0) when no write
    failed."""
    start = next((a for a in acks if "start" in a), None)
    interval = start["interval"] if start else 0.25
    failed = next((a["at"] for a in acks if a.get("error") == "ingest" and a["at"] > since), None)
    if failed is None:
        return 0.0, 0.0
    before = [a["ack"] - a["due"] for a in acks if "batch" in a and a["ack"] <= since]
    allowed = max(before[-1] if before else 0.0, 2 * interval)
    batches = [a for a in acks if "batch" in a and a["ack"] > failed]
    if not batches:
        return None, None
    resumed = batches[0]["ack"] - since
    on_time = next((b["ack"] - since for b in batches if b["ack"] - b["due"] <= allowed), None)
    return resumed, on_time


class HqProbe:
    """Builds the HQ state as the map's refresh does (:func:`build_hq_state`, the HQ role,
    aggregates on the replica URL) back to back in a thread: when it answers, without the
    browser's rendering."""

    def __init__(self, primary_url: str, replica_url: str):
        self.runs: list[tuple[float, float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(primary_url, replica_url), daemon=True
        )
        self._thread.start()

    def _loop(self, primary_url: str, replica_url: str) -> None:
        from compositions.hq_map_state import HqMapCache, build_hq_state
        from sql.city_config import active_city
        from sql.engine import make_engine
        from sql.viewer import Viewer

        engine, reads = make_engine(primary_url), make_engine(replica_url)
        viewer = Viewer(role="hq", subject="drill-hq-probe", purpose="drill")
        cache = HqMapCache()
        city = None
        while not self._stop.is_set():
            began = time.time()
            try:
                city = city or active_city(engine)
                build_hq_state(engine, cache, viewer, 1, city, read_engine=reads)
                ok = True
            except Exception:  # the database is away: try again
                ok = False
            self.runs.append((began, time.time(), ok))
            self._stop.wait(0.25)
        engine.dispose()
        reads.dispose()

    def answered(self, since: float) -> float | None:
        """Seconds from ``since`` to the end of the first build begun after it that answered."""
        good = [end for start, end, ok in self.runs if start >= since and ok]
        return min(good) - since if good else None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _writer_started(acks_file: Path, proc: subprocess.Popen, timeout: float = 120) -> float:
    """Wait until the writer has connected and begun; returns when it began (its clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = next((a for a in _acks(acks_file) if "start" in a), None)
        if start is not None:
            return float(start["start"])
        if proc.poll() is not None:
            raise RuntimeError(f"the writer stopped: {proc.stderr.read()[-500:]}")
        time.sleep(0.1)
    raise RuntimeError("the writer did not start")


def _map_answered(pages: list, since: float) -> list[float | None]:
    """Per session: seconds from ``since`` to the end of the first page run that started after
    it and drew without the outage banner."""
    out: list[float | None] = []
    for page in pages:
        runs = page.evaluate("window.__bosaiRuns")
        good = [end for start, end, banner in runs if start >= since * 1000 and not banner]
        out.append(min(good) / 1000 - since if good else None)
    return out


def _wait_for_sessions(pages: list, since: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(v is not None for v in _map_answered(pages, since)):
            return
        pages[0].wait_for_timeout(250)


def _staff_check(node: PgNode, acks: list[dict]) -> tuple[int, int]:
    """Lost and duplicated staff head counts on ``node``."""
    from sql.models import ShelterOccupancy

    occ = ShelterOccupancy.__table__
    engine = _engine(node)
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(sa.select(occ.c.observed_at).where(occ.c.entered_by == DRILL_SUBJECT))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    stored = [r.astimezone(dt.UTC).isoformat() for r in rows]
    acked = {a["observed"] for a in acks if "staff" in a}
    return len(acked - set(stored)), len(stored) - len(set(stored))


def drill(
    *,
    seconds: float,
    rate: int,
    sessions: int,
    citizens: int,
    seed: int,
    log: Callable[[str], None] = lambda _line: None,
) -> FailoverResult:
    """One failover drill (see the module doc); everything it started is stopped and removed."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    errors: list[str] = []
    base = workdir("bosai-failover-")
    a = PgNode(base / "node_a", free_port(), "node_a")
    b = PgNode(base / "node_b", free_port(), "node_b")
    load_before = os.getloadavg()
    probe: HqProbe | None = None
    try:
        a.init().start()
        from sql.engine import make_engine

        admin = make_engine(a.url())
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
        admin.dispose()
        prepare_demo(a.url(DATABASE), citizens)
        _fast_refresh(a.url(DATABASE))
        PgNode.standby_of(a, b.data_dir, b.port, b.name).start()
        _wait_streaming(a, b)
        _set_sync(a, b)
        primary_url, replica_url = _urls(a, b)
        log(f"nodes up: {a.name} primary on {a.port}, {b.name} synchronous standby on {b.port}")
        run = f"failover{int(time.time())}"
        acks_file = base / "acks.jsonl"
        timeline: dict[str, float] = {}
        server = streamlit_server(
            primary_url, base / "streamlit.log", env={"BOSAI_DATABASE_REPLICA_URL": replica_url}
        )
        with server as app:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=SOAK_CHROMIUM_ARGS)
                pages = []
                for n in range(sessions):
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    context.add_init_script(RUN_RECORDER)
                    page = context.new_page()
                    page.on(
                        "pageerror", lambda e, n=n: errors.append(f"session {n}: page error {e}")
                    )
                    page.goto(f"{app}/hq-map", wait_until="commit")
                    pages.append(page)
                for page in pages:
                    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(
                        timeout=300_000
                    )
                log(f"{sessions} HQ map sessions open; writer starts")
                proc = start_writer(
                    "benchmarks.failover", primary_url, run, rate, seconds, "--out", str(acks_file)
                )
                began = _writer_started(acks_file, proc)
                probe = HqProbe(primary_url, replica_url)
                kill_after = rng.uniform(0.2 * seconds, 0.4 * seconds)
                while time.time() < began + kill_after:
                    pages[0].wait_for_timeout(100)
                if proc.poll() is not None:
                    raise RuntimeError(f"the writer stopped early: {proc.stderr.read()[-500:]}")
                killed_at = time.time()
                timeline["killed"] = killed_at
                killed = a.kill()
                timeline["gone"] = time.time()
                log(f"{a.name} SIGKILLed ({killed} processes) after {kill_after:.1f} s")
                misses = 0
                while misses < 3:
                    misses = 0 if _answers(a) else misses + 1
                    time.sleep(0.05)
                timeline["detected"] = time.time()
                b.promote()
                timeline["promoted"] = time.time()
                log(f"{b.name} promoted after {timeline['promoted'] - killed_at:.2f} s")
                audit_new = _audit(b)
                a.rewind_from(b)
                a.start()
                _wait_streaming(b, a)
                _set_sync(b, a)
                timeline["rejoined"] = time.time()
                log(
                    f"{a.name} rewound and streaming from {b.name} after "
                    f"{timeline['rejoined'] - killed_at:.1f} s"
                )
                # Fail back: a clean switchover while the writer goes on.
                back_at = max(began + 0.6 * seconds, time.time() + 1)
                while time.time() < back_at:
                    pages[0].wait_for_timeout(100)
                timeline["failback"] = time.time()
                b.stop("fast")
                a.promote()
                b.rewind_from(a)
                b.start()
                _wait_streaming(a, b)
                _set_sync(a, b)
                log(
                    f"failed back: {a.name} primary again after "
                    f"{time.time() - timeline['failback']:.1f} s"
                )
                pages[0].wait_for_timeout(2_000)  # writes go on after the failback
                acks_file.with_suffix(".stop").touch()
                _, err = proc.communicate(timeout=seconds + 300)
                probe.stop()
                _wait_for_sessions(pages, killed_at, timeout=180)
                _wait_for_sessions(pages, timeline["failback"], timeout=180)
                if proc.returncode != 0:
                    errors.append(f"writer failed ({proc.returncode}): {err.strip()[-500:]}")
                pages[0].wait_for_timeout(REFRESH_SECONDS * 1000 + 1000)
                runs = [page.evaluate("window.__bosaiRuns") for page in pages]
                (ROOT / "test-artifacts").mkdir(exist_ok=True)
                (ROOT / "test-artifacts" / "failover-runs.json").write_text(
                    json.dumps({"timeline": timeline, "runs": runs}), encoding="utf-8"
                )
                answered = _map_answered(pages, killed_at)
                back_answered = _map_answered(pages, timeline["failback"])
                pages[0].screenshot(path=str(ROOT / "test-artifacts" / "failover-hq-map.png"))
                for n, page in enumerate(pages):
                    errors += session_errors(n, page)
                browser.close()
        for line in (base / "streamlit.log").read_text(errors="replace").splitlines():
            if "Traceback" in line:
                errors.append(f"server log: {line.strip()[:300]}")
        acks = _acks(acks_file)
        end = next((x for x in acks if "end" in x), {})
        sent = int(end.get("sent", 0))
        start = next((x for x in acks if "start" in x), {})
        updates = check_updates(a.url(DATABASE), run, sent, int(start.get("citizens", 1)), 1)
        errors += [f"updates: {p}" for p in updates["problems"]]
        acked_updates = sum(x["n"] for x in acks if "batch" in x)
        staff_lost, staff_dup = _staff_check(a, acks)
        resumed, on_schedule = _write_gap(acks, killed_at)
        back_gap, _ = _write_gap(acks, timeline["failback"])
        audit_end = _audit(a)
        equal = _content(a) == _content(b)
        in_flight_updates = sum(
            x["n"] for x in acks if "batch" in x and x["sent"] < killed_at < x["ack"]
        )
        batches = [x for x in acks if "batch" in x]
        writer_rate = sent / max(batches[-1]["ack"] - start.get("start", 0), 1e-9) if batches else 0
        in_flight_staff = sum(1 for x in acks if "staff" in x and x["how"] == "already")
        return FailoverResult(
            seconds=seconds,
            rate_target=rate,
            sessions=sessions,
            citizens=int(start.get("citizens", 0)),
            seed=seed,
            kill_after_s=kill_after,
            processes_killed=killed,
            detected_s=timeline["detected"] - killed_at,
            promoted_s=timeline["promoted"] - killed_at,
            rejoined_s=timeline["rejoined"] - killed_at,
            updates_sent=sent,
            updates_stored=updates["stored"],
            updates_lost=max(acked_updates - updates["stored"], 0),
            updates_duplicated=updates["stored"] - updates["distinct"],
            updates_in_flight_at_kill=in_flight_updates,
            writer_rate_per_s=writer_rate,
            staff_acknowledged=sum(1 for x in acks if "staff" in x),
            staff_lost=staff_lost,
            staff_duplicated=staff_dup,
            staff_unacknowledged_commits=in_flight_staff,
            ingest_resumed_s=resumed,
            ingest_on_schedule_s=on_schedule,
            map_answered_s=None if None in answered else max(answered),
            map_answered_per_session_s=answered,
            hq_state_answered_s=probe.answered(killed_at),
            audit_rows_new_primary=audit_new[0],
            audit_ok_new_primary=audit_new[1],
            failback_write_gap_s=back_gap,
            failback_map_answered_s=None if None in back_answered else max(back_answered),
            failback_hq_state_answered_s=probe.answered(timeline["failback"]),
            audit_rows_end=audit_end[0],
            audit_ok_end=audit_end[1],
            content_equal_end=equal,
            final_primary=a.name,
            errors=errors,
            load_average_before=load_before,
            load_average_end=os.getloadavg(),
            cpus=os.cpu_count() or 0,
        )
    finally:
        from sql.engine import dispose_engines

        if probe is not None:
            probe.stop()
        dispose_engines()
        kept = ROOT / "test-artifacts"
        kept.mkdir(exist_ok=True)
        for name in ("streamlit.log", "node_a.log", "node_b.log", "acks.jsonl"):
            if (base / name).exists():
                shutil.copyfile(base / name, kept / f"failover-{name}")
        for node in (a, b):
            node.remove()
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.failover")
    sub = parser.add_subparsers(dest="command")
    w = add_writer_parser(sub, "the writer process (started by the drill)")
    w.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20110311)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "writer":
        writer(args.url, args.run, args.rate, args.seconds, args.batch, args.out)
        return 0
    result = drill(
        seconds=args.seconds,
        rate=args.rate,
        sessions=args.sessions,
        citizens=args.citizens,
        seed=args.seed,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        print(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            print(line)
        for error in result.errors[:20]:
            print(f"  error: {error}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
