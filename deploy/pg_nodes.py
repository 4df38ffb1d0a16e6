"""PostgreSQL servers of our own: a primary, its streaming standby, failover, rejoin, and
point-in-time recovery — the processes and data directories, with PostgreSQL's own tools.

A :class:`PgNode` is one server: a data directory and a port on 127.0.0.1 (trust
authentication on loopback only), started and stopped with ``pg_ctl``, made a standby with
``pg_basebackup``, rejoined after a failover with ``pg_rewind``, restored to a moment with
``recovery_target_time`` / ``recovery_target_lsn`` from the WAL archive. The programs run as the
``postgres`` OS user when we are root (``runuser``), as the current user otherwise. What the
servers answer about replication (lag, standbys, promotion, synchronous commit) is asked in
:mod:`sql.replication`.

Used by ``bosai replica …``, the failover drill (``python -m benchmarks.failover``) and the
tests; a production cluster on Debian is the same steps on ``pg_createcluster`` clusters (see
docs/SCALING.md). Every node gets data checksums and ``wal_log_hints`` (``pg_rewind`` needs
one of them), ``wal_level = replica``, ``hot_standby_feedback`` (aggregate reads on a standby
do not cancel each other with the primary's vacuum) and ``wal_keep_size`` enough for a rewound
node to catch up without a slot.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bosai.errors import BosaiError

#: Settings every node of ours starts with (its postgresql.conf).
BASE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "replica",
    "max_wal_senders": "10",
    "wal_keep_size": "'1GB'",
    "wal_log_hints": "on",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "max_connections": "200",
    "logging_collector": "off",
    "log_line_prefix": "'%m [%p] '",
}
#: The file that holds what differs between nodes (port, name): rewritten after every copy
#: (``pg_basebackup`` and ``pg_rewind`` copy the source's configuration files).
NODE_CONF = "bosai-node.conf"
#: Settings only a primary may carry (a promoted standby must not wait for a standby it lacks).
PRIMARY_ONLY = ("synchronous_standby_names", "synchronous_commit")


class NodeError(BosaiError):
    """A PostgreSQL program failed; the message names the step and the server's last words."""


def bindir() -> Path:
    """The PostgreSQL programs: ``BOSAI_PG_BINDIR``, else ``pg_config --bindir``, else the
    newest ``/usr/lib/postgresql/*/bin``."""
    given = os.environ.get("BOSAI_PG_BINDIR")
    if given:
        return Path(given)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise NodeError("PostgreSQL server programs not found: apt-get install postgresql-15")
    return found[-1].parent


def _run_as() -> list[str]:
    """``runuser -u postgres --`` when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _owner() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam("postgres")
    return user.pw_uid, user.pw_gid


def workdir(prefix: str = "bosai-pg-", parent: str | Path | None = None) -> Path:
    """A fresh directory the server programs may write (owned by ``postgres`` when root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    give_to_postgres(path)
    return path


def give_to_postgres(path: Path) -> None:
    owner = _owner()
    if owner is not None:
        os.chown(path, *owner)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


class PgNode:
    """One PostgreSQL server of ours: ``data_dir`` (created by :meth:`init`,
    :meth:`standby_of` or :meth:`restore_to`), listening on 127.0.0.1:``port``; ``name`` is its
    ``cluster_name`` and, as a standby, its ``application_name`` (what
    ``synchronous_standby_names`` lists)."""

    def __init__(self, data_dir: Path | str, port: int, name: str):
        self.data_dir = Path(data_dir)
        self.port = int(port)
        self.name = name
        self.log = self.data_dir.with_name(f"{self.data_dir.name}.log")

    def __repr__(self) -> str:
        return f"PgNode({self.name!r}, port={self.port}, data_dir={str(self.data_dir)!r})"

    # ------------------------------------------------------------ addresses

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def conninfo(self) -> str:
        """libpq key/value connection string to this node (for a standby's primary_conninfo)."""
        return f"host=127.0.0.1 port={self.port} user=postgres"

    # ------------------------------------------------------------ programs

    def _program(self, name: str, *args: str, check: bool = True, timeout: float = 600):
        argv = [*_run_as(), str(bindir() / name), *args]
        done = subprocess.run(
            argv, capture_output=True, text=True, check=False, timeout=timeout, cwd="/"
        )
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise NodeError(
                f"{name} for {self.name} failed ({done.returncode}): "
                f"{said[-1] if said else 'no message'}; server log: {_tail(self.log)}"
            )
        return done

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        owner = _owner()
        if owner is not None:
            os.chown(path, *owner)
        path.chmod(0o600)

    def _write_node_conf(self) -> None:
        socket_dir = self.data_dir.parent
        self._write(
            self.data_dir / NODE_CONF,
            f"port = {self.port}\ncluster_name = '{self.name}'\n"
            f"unix_socket_directories = '{socket_dir}'\n",
        )

    def _strip_auto_conf(self, names: Sequence[str]) -> None:
        """Remove settings from ``postgresql.auto.conf`` (copied from another node)."""
        auto = self.data_dir / "postgresql.auto.conf"
        if not auto.exists():
            return
        kept = [
            line
            for line in auto.read_text(encoding="utf-8").splitlines()
            if not any(
                line.strip().startswith(f"{n} ") or line.strip().startswith(f"{n}=") for n in names
            )
        ]
        self._write(auto, "\n".join(kept) + "\n")

    def _follow(self, primary_conninfo: str) -> None:
        """Make this (stopped) data directory a standby of ``primary_conninfo``."""
        self._strip_auto_conf((*PRIMARY_ONLY, "primary_conninfo", "primary_slot_name"))
        auto = self.data_dir / "postgresql.auto.conf"
        text = auto.read_text(encoding="utf-8") if auto.exists() else ""
        conninfo = f"{primary_conninfo} application_name={self.name}"
        self._write(auto, text + f"primary_conninfo = '{conninfo}'\n")
        self._write(self.data_dir / "standby.signal", "")
        self._write_node_conf()

    # ------------------------------------------------------------ creating

    def init(self, settings: dict[str, str] | None = None) -> PgNode:
        """A new cluster (``initdb`` with data checksums, trust on loopback) with
        :data:`BASE_SETTINGS` and ``settings``; not started."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._program(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--data-checksums",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        conf = self.data_dir / "postgresql.conf"
        lines = [f"{k} = {v}" for k, v in {**BASE_SETTINGS, **(settings or {})}.items()]
        text = conf.read_text(encoding="utf-8")
        self._write(
            conf,
            text + "\n# Bosai Ops\n" + "\n".join(lines) + f"\ninclude_if_exists = '{NODE_CONF}'\n",
        )
        self._write_node_conf()
        return self

    @classmethod
    def standby_of(
        cls, primary: PgNode | str, data_dir: Path | str, port: int, name: str
    ) -> PgNode:
        """A streaming standby of ``primary`` (a node, or a libpq connection string such as
        ``host=10.0.0.1 port=5432 user=replicator``) made with ``pg_basebackup`` (WAL streamed
        during the copy); not started. It carries none of the primary's synchronous settings."""
        source = primary.conninfo() if isinstance(primary, PgNode) else primary
        node = cls(data_dir, port, name)
        node._program(
            "pg_basebackup",
            "-D",
            str(node.data_dir),
            "-d",
            f"{source} application_name={name}",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        node._follow(source)
        return node

    def base_backup(self, target: Path | str) -> Path:
        """A base backup of this running node in ``target`` (for point-in-time recovery)."""
        target = Path(target)
        self._program(
            "pg_basebackup", "-D", str(target), "-d", self.conninfo(), "-X", "stream", "-c", "fast"
        )
        return target

    @classmethod
    def restore_to(
        cls,
        base: Path | str,
        archive: Path | str,
        data_dir: Path | str,
        port: int,
        name: str,
        *,
        target_time: str | None = None,
        target_lsn: str | None = None,
    ) -> PgNode:
        """Point-in-time recovery: a copy of the base backup ``base`` that replays the WAL
        archive ``archive`` up to (not including) ``target_time`` (a timestamp with zone) or
        ``target_lsn``, then becomes a primary of its own. Not started; :meth:`start` runs the
        recovery and waits until it is done."""
        if (target_time is None) == (target_lsn is None):
            raise NodeError("give exactly one of target_time and target_lsn")
        node = cls(data_dir, port, name)
        argv = [*_run_as(), "cp", "-a", str(base), str(node.data_dir)]
        subprocess.run(argv, check=True, capture_output=True)
        node._strip_auto_conf(
            (*PRIMARY_ONLY, "primary_conninfo", "archive_mode", "archive_command")
        )
        target = (
            f"recovery_target_time = '{target_time}'"
            if target_time
            else f"recovery_target_lsn = '{target_lsn}'"
        )
        auto = node.data_dir / "postgresql.auto.conf"
        node._write(
            auto,
            auto.read_text(encoding="utf-8")
            + f'restore_command = \'cp "{archive}/%f" "%p"\'\n{target}\n'
            "recovery_target_inclusive = off\nrecovery_target_action = 'promote'\n"
            "archive_mode = off\n",
        )
        for leftover in ("standby.signal", "postmaster.pid"):
            (node.data_dir / leftover).unlink(missing_ok=True)
        node._write(node.data_dir / "recovery.signal", "")
        node._write_node_conf()
        return node

    # ------------------------------------------------------------ running

    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first)
        except (OSError, ValueError, IndexError):
            return None
        # A killed server can linger as a zombie where nothing reaps it (a container's init).
        return pid if _alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def _wait_reaped(self, timeout: float = 30) -> None:
        """Wait until a killed postmaster is gone from the process table: PostgreSQL's
        lock-file check counts an unreaped zombie as a running server (a container's init may
        take a moment to reap it)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + timeout
        while Path(f"/proc/{pid}").exists() and not _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def start(self, timeout: int = 120) -> PgNode:
        """Start and wait until it accepts connections (a standby: read-only ones)."""
        self._wait_reaped()
        if not self.log.exists():
            self._write(self.log, "")
        self._program(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(timeout),
            "start",
        )
        return self

    def wait_primary(self, timeout: float = 300) -> None:
        """Wait until recovery has ended and this node accepts writes (after
        :meth:`restore_to` or :meth:`promote`)."""
        from sql import replication
        from sql.engine import make_engine

        engine = make_engine(self.url())
        try:
            deadline = time.monotonic() + timeout
            while replication.node_state(engine).role != "primary":
                if time.monotonic() > deadline:
                    raise NodeError(f"{self.name} still in recovery; log: {_tail(self.log)}")
                time.sleep(0.2)
        finally:
            engine.dispose()

    def stop(self, mode: str = "fast", timeout: int = 60) -> None:
        """Stop cleanly (``fast``: sessions are ended, a primary sends its last WAL first)."""
        if self.running():
            self._program(
                "pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", str(timeout), "stop"
            )

    def kill(self) -> int:
        """SIGKILL the postmaster and every process of it at once, as if its machine were lost.
        Returns how many processes were killed."""
        pid = self.pid()
        if pid is None:
            return 0
        victims = [pid, *_children(pid)]
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(v) for v in victims):
            time.sleep(0.01)
        return len(victims)

    def promote(self, timeout: int = 60) -> None:
        """End recovery: this standby becomes a primary (a new timeline)."""
        self._program("pg_ctl", "-D", str(self.data_dir), "-w", "-t", str(timeout), "promote")

    def rewind_from(self, source: PgNode | str) -> None:
        """Rejoin as a standby of ``source`` (a node or a libpq connection string) after a
        failover: ``pg_rewind`` undoes what this node wrote after the timelines parted (it first
        finishes crash recovery of a killed node in single-user mode), then it follows
        ``source``. Must be stopped; not started."""
        if self.running():
            raise NodeError(f"{self.name} is running; stop it before pg_rewind")
        self._wait_reaped()
        from sql import replication
        from sql.engine import make_engine

        conninfo = source.conninfo() if isinstance(source, PgNode) else source
        engine = make_engine(_conninfo_url(conninfo))
        try:
            replication.checkpoint(engine)
        finally:
            engine.dispose()
        self._program(
            "pg_rewind",
            "-D",
            str(self.data_dir),
            f"--source-server={conninfo} dbname=postgres",
        )
        self._follow(conninfo)

    def remove(self) -> None:
        """Stop (immediately) and delete the data directory and its log."""
        if self.running():
            self._program(
                "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False
            )
            self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log.unlink(missing_ok=True)


def _conninfo_url(conninfo: str) -> str:
    """``host=h port=p user=u`` → ``postgresql://u@h:p/postgres`` (for our engines)."""
    parts = dict(item.split("=", 1) for item in conninfo.split())
    user = parts.get("user", "postgres")
    password = f":{parts['password']}" if "password" in parts else ""
    host = parts.get("host", "127.0.0.1")
    port = parts.get("port", "5432")
    return f"postgresql://{user}{password}@{host}:{port}/{parts.get('dbname', 'postgres')}"


def archive_settings(archive: Path) -> dict[str, str]:
    """Continuous WAL archiving into ``archive`` (never overwriting a segment already there)."""
    return {
        "archive_mode": "on",
        "archive_command": f'\'test ! -f "{archive}/%f" && cp "%p" "{archive}/%f"\'',
        "archive_timeout": "60",
    }


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
