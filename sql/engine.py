"""Database engines: one place that knows the URL and each backend's connection settings.

``BOSAI_DATABASE_URL`` picks the database (default ``sqlite:///var/bosai.sqlite``, relative to the
working directory). ``postgresql://`` URLs use psycopg 3. SQLite runs in WAL mode with foreign
keys on and a busy timeout, so the dashboard can read while an import or ingest writes.
"""

from __future__ import annotations

import os
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

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url(url: str | None = None) -> str:
    """The effective database URL, normalised to the drivers this project uses."""
    raw = url or os.environ.get("BOSAI_DATABASE_URL") or DEFAULT_URL
    parsed = make_url(raw)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and ``bosai info``."""
    return make_url(url).render_as_string(hide_password=True)


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
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={
            "connect_timeout": 5,
            "application_name": "bosai-ops",
            "options": _pg_session_options(parsed.query.get("options")),
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
