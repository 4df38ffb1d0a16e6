"""Database engines: one place that knows the URL and each backend's connection settings.

``BOSAI_DATABASE_URL`` picks the database (default ``sqlite:///var/bosai.sqlite``, relative to the
working directory). ``postgresql://`` URLs use psycopg 3. SQLite runs in WAL mode with foreign
keys on and a busy timeout, so the dashboard can read while an import or ingest writes.

A PostgreSQL URL may name several servers, libpq's way —
``postgresql://user@h1:5432,h2:5432/bosai?target_session_attrs=read-write`` — and every new
connection goes to whichever of them is the primary now: after a failover the pools' dead
connections fail their pre-ping and are replaced by ones to the promoted node.

An engine per purpose (:func:`engine_for`): writes, staff actions and personal reads (which
append to the audit chain) use the primary; aggregate reads (map cells, KPIs, boards, reports)
may use a streaming replica named by ``BOSAI_DATABASE_REPLICA_URL`` (typically the same hosts
with ``target_session_attrs=prefer-standby``), and use the primary when none is set.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///var/bosai.sqlite"
#: How long a SQLite connection waits for a lock before failing (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("BOSAI_SQLITE_BUSY_TIMEOUT_MS", "5000"))

#: The read replica for aggregate reads (unset: they use the primary).
REPLICA_URL_ENV = "BOSAI_DATABASE_REPLICA_URL"
#: What an engine is for: ``primary`` (writes, personal reads, staff actions) or ``aggregate``.
PURPOSES = ("primary", "aggregate")

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
#: ``scheme://[userinfo@]h1:p1,h2:p2/rest`` — libpq's multi-host form, which URL parsers refuse.
_MULTI_HOST = re.compile(
    r"^(?P<scheme>[^:/]+)://(?P<user>[^@/]*@)?(?P<hosts>[^/?@]*,[^/?]*)(?P<rest>.*)$"
)


def _hosts_to_query(raw: str) -> str:
    """``postgresql://u@h1:p1,h2:p2/db?x=1`` → ``postgresql://u@/db?host=h1:p1&host=h2:p2&x=1``
    (SQLAlchemy's spelling of the same multi-host URL); anything else unchanged."""
    match = _MULTI_HOST.match(raw)
    if match is None:
        return raw
    path, _, query = match["rest"].partition("?")
    hosts = "&".join(f"host={h.strip()}" for h in match["hosts"].split(",") if h.strip())
    query = f"{hosts}&{query}" if query else hosts
    return f"{match['scheme']}://{match['user'] or ''}{path or '/'}?{query}"


def database_url(url: str | None = None) -> str:
    """The effective database URL, normalised to the drivers this project uses."""
    raw = url or os.environ.get("BOSAI_DATABASE_URL") or DEFAULT_URL
    parsed = make_url(_hosts_to_query(raw))
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def replica_url(url: str | None = None) -> str | None:
    """The read replica's URL (``BOSAI_DATABASE_REPLICA_URL``, or ``url``), normalised; None
    when there is none."""
    raw = url or os.environ.get(REPLICA_URL_ENV)
    return database_url(raw) if raw else None


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and ``bosai info``."""
    return make_url(_hosts_to_query(url)).render_as_string(hide_password=True)


def libpq_url(url: str) -> str:
    """A URI libpq and the PostgreSQL tools read (``pg_dump``, ``pg_basebackup``, ``psql``), the
    hosts of a multi-host URL back in libpq's ``h1:p1,h2:p2`` form; the password is kept (put it
    in ``PGPASSWORD`` rather than an argument)."""
    parsed = make_url(_hosts_to_query(url)).set(drivername="postgresql")
    hosts = parsed.query.get("host")
    if not isinstance(hosts, tuple) and not (isinstance(hosts, str) and ":" in hosts):
        return parsed.render_as_string(hide_password=False)
    hosts = hosts if isinstance(hosts, tuple) else (hosts,)
    bare = parsed.difference_update_query(["host"]).set(host="HOSTS", port=None)
    text = bare.render_as_string(hide_password=False)
    return text.replace("@HOSTS", "@" + ",".join(hosts), 1).replace(
        "//HOSTS", "//" + ",".join(hosts), 1
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A 64 MB page cache per connection (SQLite's default is 2 MB) and reads through a shared
    # memory map of up to 1 GB (the OS page cache, not per connection): the status_reports
    # indexes outgrow 2 MB within minutes of an incident, and every insert then re-read its
    # b-tree pages with a system call. Measured on a 200,000-report sync's write: the cache took
    # it from ~44,000 to ~50,000 reports/s, the memory map (median of 3 rounds on a growing
    # table) from ~47,500 to ~58,300/s.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """A new engine for ``url`` (or the configured one), with the backend's settings applied."""
    full = database_url(url)
    parsed = make_url(full)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            full,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, control transactions, so BEGIN covers every statement.
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_tx(dbapi_connection, _record):  # pragma: no cover - trivial
            dbapi_connection.isolation_level = None

        return engine
    return sa.create_engine(
        full,
        # A connection to a node that died or was demoted fails its ping at checkout and is
        # replaced; with several hosts in the URL the new one goes to the primary of the moment.
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        # Connections are renewed now and then, so a replica URL that fell back to the primary
        # during a failover returns to the standby once one is back.
        pool_recycle=300,
        connect_args={
            "connect_timeout": 5,
            "application_name": "bosai-ops",
            "options": _pg_session_options(parsed.query.get("options")),
            # A primary lost with its machine does not close its sockets: without keepalives a
            # statement waiting on it would hang for the kernel's default (hours).
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
        },
    )


#: Session settings every PostgreSQL connection gets (unless the URL's ``options`` set them):
#: the dashboard's statements are short, and JIT compilation added 12–30 ms to each one whose
#: estimated cost crossed ``jit_above_cost`` (measured at 1.2 M citizens, docs/SCALING.md).
PG_SESSION_SETTINGS = {"jit": "off"}


def _pg_session_options(given: str | tuple[str, ...] | None) -> str:
    """The libpq ``options`` string: the URL's own, plus :data:`PG_SESSION_SETTINGS` it lacks."""
    if isinstance(given, tuple):
        given = " ".join(given)
    given = given or ""
    extra = [
        f"-c {name}={value}"
        for name, value in PG_SESSION_SETTINGS.items()
        if f"{name}=" not in given.replace(" ", "")
    ]
    return " ".join(part for part in (given, *extra) if part)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (created once, then shared)."""
    full = database_url(url)
    with _lock:
        engine = _engines.get(full)
        if engine is None:
            engine = make_engine(full)
            _engines[full] = engine
        return engine


def url_for(url: str | None = None, purpose: str = "primary") -> str:
    """The URL for a purpose: ``primary`` (writes, staff actions, personal reads: they append
    to the audit chain) or ``aggregate`` (reads that tolerate a replica's lag: the replica of
    :func:`replica_url` when one is set and ``url`` is PostgreSQL, else the primary)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    full = database_url(url)
    if purpose == "aggregate" and make_url(full).get_backend_name() == "postgresql":
        return replica_url() or full
    return full


def engine_for(url: str | None = None, purpose: str = "primary") -> Engine:
    """The process-wide engine for a purpose (see :func:`url_for`)."""
    return get_engine(url_for(url, purpose))


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before restoring a backup)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
