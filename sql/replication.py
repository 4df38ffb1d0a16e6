"""Streaming replication as the database sees it: which node this is, how far a standby lags,
which standbys the primary waits for, promotion.

Every statement a node answers about replication is here (the rest of the product never writes
SQL for it): :mod:`deploy.pg_nodes` manages the server processes and calls these; the dashboard
asks :func:`replica_lag` for its freshness banner; ``bosai replica status`` prints
:func:`node_state`.

Synchronous replication is the primary's setting: ``synchronous_standby_names`` names the
standbys (by their ``application_name``) a commit waits for, and ``synchronous_commit`` says
how far — ``remote_apply``: until the standby has applied it, so an acknowledged write exists
on both nodes *and* is visible to aggregate reads on the replica at once. On SQLite every
function here answers "a single primary" and changes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: How far a commit waits for the synchronous standby (see the module doc).
SYNC_COMMIT = "remote_apply"


@dataclasses.dataclass(frozen=True)
class NodeState:
    """One server's view of replication."""

    role: str  # "primary" or "standby" ("primary" on SQLite)
    timeline: int | None
    lsn: str | None
    #: Standby: seconds behind its primary (0 when it has applied all it received).
    lag_seconds: float | None
    #: Primary: the standbys streaming from it, with their sync state and lag.
    standbys: tuple[dict[str, Any], ...] = ()
    synchronous_standby_names: str = ""
    synchronous_commit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_pg(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


_LAG_SQL = sa.text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()"
    " THEN 0.0 ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END"
)


def _lag(conn: Connection) -> float | None:
    if not conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one():
        return None
    lag = conn.execute(_LAG_SQL).scalar()
    return max(float(lag), 0.0) if lag is not None else None


def replica_lag(engine: Engine) -> float | None:
    """Seconds the node behind ``engine`` lags its primary: 0.0 when it has applied everything
    it received, None when it is not a standby (a primary, SQLite, or a replica URL that fell
    back to the primary)."""
    if not _is_pg(engine):
        return None
    with engine.connect() as conn:
        return _lag(conn)


def node_state(engine: Engine) -> NodeState:
    """Role, timeline, position, lag and (on a primary) its standbys."""
    if not _is_pg(engine):
        return NodeState(role="primary", timeline=None, lsn=None, lag_seconds=None)
    with engine.connect() as conn:
        standby = bool(conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one())
        timeline = conn.execute(sa.text("SELECT timeline_id FROM pg_control_checkpoint()")).scalar()
        if standby:
            lsn = conn.execute(sa.text("SELECT pg_last_wal_replay_lsn()::text")).scalar()
            return NodeState("standby", timeline, lsn, _lag(conn))
        lsn = conn.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()
        rows = conn.execute(
            sa.text(
                "SELECT application_name AS name, state, sync_state,"
                " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag_bytes,"
                " EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag_seconds"
                " FROM pg_stat_replication ORDER BY application_name"
            )
        ).mappings()
        names = conn.execute(sa.text("SHOW synchronous_standby_names")).scalar_one()
        commit = conn.execute(sa.text("SHOW synchronous_commit")).scalar_one()
        return NodeState(
            "primary",
            timeline,
            lsn,
            None,
            tuple(dict(r) for r in rows),
            synchronous_standby_names=names,
            synchronous_commit=commit,
        )


def _quoted_names(names: tuple[str, ...]) -> str:
    for name in names:
        if not name or '"' in name or "'" in name:
            raise ValueError(f"not a standby name: {name!r}")
    return ", ".join(f'"{n}"' for n in names)


def set_synchronous(engine: Engine, standbys: tuple[str, ...], commit: str = SYNC_COMMIT) -> None:
    """On the primary: wait for one of ``standbys`` (application names) on every commit, as far
    as ``commit`` says; ``standbys=()`` turns waiting off (a primary without a standby would
    otherwise stop acknowledging writes). Takes effect at once (configuration reload)."""
    value = f"FIRST 1 ({_quoted_names(standbys)})" if standbys else ""
    if commit not in ("on", "remote_write", "remote_apply", "local", "off"):
        raise ValueError(f"not a synchronous_commit level: {commit!r}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"ALTER SYSTEM SET synchronous_standby_names = '{value}'"))
        conn.execute(sa.text(f"ALTER SYSTEM SET synchronous_commit = '{commit}'"))
        conn.execute(sa.text("SELECT pg_reload_conf()"))


def promote(engine: Engine, wait_seconds: int = 60) -> bool:
    """Promote the standby behind ``engine`` to primary (``pg_promote``); True once it is."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return bool(
            conn.execute(sa.text("SELECT pg_promote(true, :s)"), {"s": wait_seconds}).scalar_one()
        )


def checkpoint(engine: Engine) -> None:
    """A checkpoint now. After a promotion it writes the new timeline into the control file,
    which ``pg_rewind`` reads: rewinding against a freshly promoted node without it finds "the
    same timeline" and does nothing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("CHECKPOINT"))


def current_lsn(engine: Engine) -> str:
    """The primary's current WAL position (a restore point for point-in-time recovery)."""
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar_one())


def archive_now(engine: Engine, timeout: float = 60) -> str:
    """Close the current WAL segment and wait until the archiver has shipped it (everything
    committed so far is then in the WAL archive); returns the segment's file name."""
    import time

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        segment = conn.execute(sa.text("SELECT pg_walfile_name(pg_switch_wal())")).scalar_one()
        deadline = time.monotonic() + timeout
        while True:
            last, failed = conn.execute(
                sa.text("SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver")
            ).one()
            if last is not None and last[:24] >= segment[:24]:
                return str(segment)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"WAL segment {segment} not archived after {timeout:.0f} s "
                    f"(last archived {last}, last failed {failed})"
                )
            time.sleep(0.1)


def server_now(engine: Engine) -> Any:
    """The server's clock (for a recovery target time that matches its commit timestamps)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
