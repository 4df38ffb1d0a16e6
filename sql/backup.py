"""Backups of the whole database and their restore (``bosai backup`` / ``bosai restore``).

A backup file is a tar archive of two members:

- ``manifest.json``: the format, the backend, the schema revision, when it was taken, rows per
  table, the state of the audit chain, the content hash (:mod:`sql.content_hash`) of exactly
  the data in the payload, and the payload's SHA-256;
- the payload: ``database.sqlite`` — a copy made with SQLite's online backup API
  (``sqlite3.Connection.backup``: consistent while the dashboard and the ingest keep working) —
  or ``database.pgdump`` — ``pg_dump --format=custom`` of the ``public`` schema and the PostGIS
  extension, taken in the very snapshot the content hash was computed in.

A restore checks the file (format, payload checksum, backend, schema revision — a file from a
newer schema than this code knows is refused), refuses a database that holds data unless
``force``, then replaces the database's content in one step: SQLite's backup API into the
target file; on PostgreSQL ``DROP SCHEMA public CASCADE`` and the dump's script in one ``psql``
transaction. A backup from an older schema is migrated to head afterwards. Finally it proves the
result: the content hash equals the manifest's and the audit chain verifies as it did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from bosai.errors import BosaiError, InvalidInputError

from . import audit, migrate
from .content_hash import content_hash
from .engine import SQLITE_BUSY_TIMEOUT_MS, dispose_engines, libpq_url, redacted
from .models import Base

FORMAT = "bosai-ops-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
#: Tables that a freshly migrated database already fills (``bosai db upgrade``): not "data".
SETUP_TABLES = frozenset({"alembic_version", "cities", "spatial_ref_sys"})
CHUNK = 1 << 20


class BackupError(BosaiError):
    """A backup or restore could not be done (tools missing, target refused, ...)."""


class InvalidBackupError(InvalidInputError):
    """The file is not a Bosai Ops backup, or it is damaged (exit code 2)."""


class BackupTooNewError(BackupError):
    """The backup was written by a newer schema than this version of Bosai Ops knows."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    backend: str
    schema_revision: str | None
    created_at: str
    #: None when the backup was taken at another schema revision than this code's head.
    content_hash: str | None
    counts: dict[str, int]
    audit_rows: int | None
    audit_ok: bool | None
    payload: str
    payload_sha256: str
    payload_bytes: int
    tool: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2).encode()


@dataclasses.dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    revision: str
    migrated_from: str | None
    content_hash_matches: bool | None
    audit: audit.ChainReport
    replaced: dict[str, int]


# ------------------------------------------------------------------ helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _counts(conn: Connection) -> dict[str, int]:
    return {
        name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for name, table in sorted(Base.metadata.tables.items())
    }


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def tables_with_rows(engine: Engine) -> dict[str, int]:
    """Tables of the database (whatever its revision) that hold rows, apart from set-up rows."""
    found: dict[str, int] = {}
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        for name in names:
            if name in SETUP_TABLES:
                continue
            quoted = conn.dialect.identifier_preparer.quote(name)
            count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar_one()  # noqa: S608
            if count:
                found[name] = int(count)
    return found


def _sqlite_path(engine: Engine) -> Path:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the pg tools (password in PGPASSWORD, never in argv)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # libpq's spelling, which keeps a multi-host URL's hosts (h1:p1,h2:p2).
    uri = libpq_url(url.set(password=None).render_as_string(hide_password=False))
    return uri, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools (apt-get install "
            "postgresql-client-15) matching the server's major version"
        )
    return path


def _tool_version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or Path(path).name


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# ------------------------------------------------------------------ backup


def backup(engine: Engine, out: Path) -> Manifest:
    """Write a backup of the database behind ``engine`` to ``out`` (refuses to overwrite)."""
    out = Path(out)
    if out.exists():
        raise BackupError(f"{out} exists; choose another name or remove it first")
    backend = engine.dialect.name
    if backend not in PAYLOADS:
        raise BackupError(f"backups of {backend} databases are not supported")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bosai-backup-", dir=out.parent) as tmp:
        payload = Path(tmp) / PAYLOADS[backend]
        if backend == "sqlite":
            facts = _backup_sqlite(engine, payload)
        else:
            facts = _backup_postgres(engine, payload)
        manifest = Manifest(
            backend=backend,
            payload=payload.name,
            payload_sha256=_sha256(payload),
            payload_bytes=payload.stat().st_size,
            created_at=_now_iso(),
            **facts,
        )
        partial = Path(tmp) / "backup.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(payload, arcname=payload.name)
        os.replace(partial, out)
    return manifest


class _InTransaction:
    """Stands in for an engine for read helpers that open ``engine.connect()``: it hands out
    one open connection, so they read inside its transaction (the snapshot being dumped)."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def connect(self) -> contextlib.AbstractContextManager[Connection]:
        return contextlib.nullcontext(self._conn)


def _facts(conn: Connection) -> dict[str, Any]:
    """Revision, rows, content hash and audit state of what ``conn`` sees.

    The content hash and the audit check read through this code's models, so they are taken
    only at the schema this code is at; a backup of a database at another revision records
    its rows per table (by reflection) and no hash.
    """
    revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if revision != migrate.head_revision():
        return {
            "schema_revision": revision,
            "counts": _reflected_counts(conn),
            "content_hash": None,
            "audit_rows": None,
            "audit_ok": None,
        }
    bound: Any = _InTransaction(conn)
    chain = audit.verify(bound)
    return {
        "schema_revision": revision,
        "counts": _counts(conn),
        "content_hash": content_hash(bound),
        "audit_rows": chain.rows,
        "audit_ok": chain.ok,
    }


def _reflected_counts(conn: Connection) -> dict[str, int]:
    counts = {}
    for name in sorted(sa.inspect(conn).get_table_names()):
        if name in ("alembic_version", "spatial_ref_sys"):
            continue
        quoted = conn.dialect.identifier_preparer.quote(name)
        counts[name] = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar_one())  # noqa: S608
    return counts


def _backup_sqlite(engine: Engine, payload: Path) -> dict[str, Any]:
    source = sqlite3.connect(_sqlite_path(engine), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        target = sqlite3.connect(payload)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    copy = sa.create_engine(
        f"sqlite:///file:{payload}?mode=ro&uri=true", poolclass=sa.pool.NullPool
    )
    try:
        with copy.connect() as conn:
            facts = _facts(conn)
    finally:
        copy.dispose()
    return {**facts, "tool": f"sqlite3 backup API (SQLite {sqlite3.sqlite_version})"}


def _backup_postgres(engine: Engine, payload: Path) -> dict[str, Any]:
    pg_dump = _tool("pg_dump")
    uri, env = _libpq(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            done = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    "--schema=public",
                    "--extension=postgis",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={payload}",
                    f"--dbname={uri}",
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {_last_line(done.stderr)}")
            facts = _facts(conn)
    return {**facts, "tool": _tool_version(pg_dump)}


# ------------------------------------------------------------------ reading a file


def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup file (raises :class:`InvalidBackupError` for anything else)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            raw = json.loads(member.read())
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise InvalidBackupError(
            f"{path}: not a Bosai Ops backup (no readable {MANIFEST}: {type(exc).__name__})"
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InvalidBackupError(f"{path}: not a Bosai Ops backup (format is not {FORMAT!r})")
    if raw.get("format_version") != FORMAT_VERSION:
        raise InvalidBackupError(
            f"{path}: backup format version {raw.get('format_version')} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    try:
        return Manifest(**raw)
    except TypeError as exc:
        raise InvalidBackupError(f"{path}: the manifest is incomplete ({exc})") from exc


@contextmanager
def _extracted_payload(path: Path, manifest: Manifest, workdir: Path) -> Iterator[Path]:
    target = workdir / manifest.payload
    digest = hashlib.sha256()
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.extractfile(manifest.payload)
            if member is None:
                raise KeyError(manifest.payload)
            with target.open("wb") as fh:
                while block := member.read(CHUNK):
                    digest.update(block)
                    fh.write(block)
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise InvalidBackupError(
            f"{path}: the payload {manifest.payload} cannot be read ({type(exc).__name__})"
        ) from exc
    if digest.hexdigest() != manifest.payload_sha256:
        raise InvalidBackupError(
            f"{path}: the payload's checksum does not match the manifest (damaged file)"
        )
    yield target


def check_restorable(path: Path, manifest: Manifest, engine: Engine) -> None:
    """Refuse a backup of another backend or from a newer schema (before touching anything)."""
    backend = engine.dialect.name
    if manifest.backend != backend:
        raise BackupError(
            f"{path} is a {manifest.backend} backup; it cannot be restored into a {backend} "
            "database"
        )
    if manifest.schema_revision not in migrate.known_revisions():
        raise BackupTooNewError(
            f"{path} was written at schema revision {manifest.schema_revision}, which this "
            f"version of Bosai Ops does not know (its newest is {migrate.head_revision()}): "
            "upgrade Bosai Ops before restoring this backup"
        )


# ------------------------------------------------------------------ restore


def restore(engine: Engine, path: Path, *, force: bool = False) -> RestoreResult:
    """Replace the database behind ``engine`` with the backup in ``path`` (see module doc)."""
    path = Path(path)
    manifest = read_manifest(path)
    check_restorable(path, manifest, engine)
    holding = _holding(engine)
    if holding and not force:
        listed = ", ".join(f"{name} {count:,}" for name, count in sorted(holding.items())[:6])
        more = "" if len(holding) <= 6 else f" and {len(holding) - 6} more tables"
        raise BackupError(
            f"{redacted(str(engine.url))} holds data ({listed}{more}); add --force to replace "
            "it with the backup"
        )
    with tempfile.TemporaryDirectory(prefix="bosai-restore-") as tmp:
        with _extracted_payload(path, manifest, Path(tmp)) as payload:
            dispose_engines()
            engine.dispose()
            if manifest.backend == "sqlite":
                _restore_sqlite(engine, payload)
            else:
                _restore_postgres(engine, payload)
    engine.dispose()
    restored_at = migrate.current_revision(engine)
    migrated_from = None
    if restored_at != migrate.head_revision():
        migrated_from = restored_at
        migrate.upgrade(engine)
    matches = None
    if migrated_from is None and manifest.content_hash is not None:
        matches = content_hash(engine) == manifest.content_hash
        if not matches:
            raise BackupError(
                f"restored {path}, but the database's content hash differs from the backup's "
                "(the restore is incomplete; restore again)"
            )
    chain = audit.verify(engine)
    if manifest.audit_ok and not chain.ok:
        raise BackupError(
            f"restored {path}, but the audit chain no longer verifies at row "
            f"{chain.first_bad_id}: {chain.reason}"
        )
    return RestoreResult(
        manifest=manifest,
        revision=migrate.current_revision(engine) or "",
        migrated_from=migrated_from,
        content_hash_matches=matches,
        audit=chain,
        replaced=holding,
    )


def _holding(engine: Engine) -> dict[str, int]:
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).exists():
        return {}
    try:
        return tables_with_rows(engine)
    except sa.exc.OperationalError as exc:
        raise BackupError(
            f"cannot read the target database {redacted(str(engine.url))}: "
            f"{' '.join(str(getattr(exc, 'orig', exc)).split())}"
        ) from exc


def _restore_sqlite(engine: Engine, payload: Path) -> None:
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{payload}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            # One step: every page of the target is replaced under its write lock; readers see
            # the old database or the restored one, never a mix.
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            raise BackupError(f"restoring into {target_path} failed: {exc}") from exc
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgres(engine: Engine, payload: Path) -> None:
    pg_restore = _tool("pg_restore")
    psql = _tool("psql")
    uri, env = _libpq(engine)
    script = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(payload)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    # Everything in one transaction: the old schema is dropped only if the new one loads.
    loader = subprocess.run(
        [
            psql,
            "--quiet",
            "--no-psqlrc",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={uri}",
            "--command=DROP SCHEMA IF EXISTS public CASCADE",
            "--file=-",
        ],
        stdin=script.stdout,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert script.stdout is not None
    script.stdout.close()
    script_err = script.stderr.read().decode(errors="replace") if script.stderr else ""
    script.wait()
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {_last_line(script_err)}")
    if loader.returncode != 0:
        raise BackupError(
            f"restoring with psql failed (nothing changed): {_last_line(loader.stderr)}"
        )
