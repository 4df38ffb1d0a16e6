"""``bosai replica …``: a streaming standby beside the primary, synchronous commit, promotion
after the primary is lost, the old primary's rejoin, and point-in-time recovery.

The server-side steps are PostgreSQL's own tools run by :mod:`deploy.pg_nodes` (data
directories made by these commands or by ``initdb``, configuration inside the data directory);
what the servers answer is asked through :mod:`sql.replication`. See docs/SCALING.md for the
runbook and the failover drill (``python -m benchmarks.failover``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .options import JSON_OPTION


def register(cli: click.Group) -> None:
    cli.add_command(replica)


@click.group("replica")
def replica() -> None:
    """Streaming replica, failover and point-in-time recovery (PostgreSQL)."""


def _hosts(url: str) -> list[str]:
    """One single-host URL per host of a (multi-host) database URL."""
    from sqlalchemy.engine import make_url

    from sql.engine import database_url

    parsed = make_url(database_url(url))
    hosts = parsed.query.get("host")
    if not hosts:
        return [parsed.render_as_string(hide_password=False)]
    hosts = hosts if isinstance(hosts, tuple) else tuple(hosts.split(","))
    out = []
    for host in hosts:
        name, _, port = host.partition(":")
        single = parsed.difference_update_query(["host", "target_session_attrs"]).set(
            host=name, port=int(port) if port else None
        )
        out.append(single.render_as_string(hide_password=False))
    return out


@replica.command("status")
@JSON_OPTION
@click.pass_obj
def status(obj: dict, as_json: bool) -> None:
    """Each server of the database URL (and BOSAI_DATABASE_REPLICA_URL): role, timeline,
    position, lag; on the primary its standbys and what a commit waits for."""
    import os

    from sql import replication
    from sql.engine import REPLICA_URL_ENV, make_engine, redacted

    urls = _hosts(obj["database_url"])
    if os.environ.get(REPLICA_URL_ENV):
        urls += [u for u in _hosts(os.environ[REPLICA_URL_ENV]) if u not in urls]
    rows = []
    for url in urls:
        engine = make_engine(url)
        try:
            state = replication.node_state(engine).as_dict()
        except Exception as exc:  # a server that is down is part of the answer
            state = {"role": "unreachable", "error": type(exc).__name__}
        finally:
            engine.dispose()
        rows.append({"server": redacted(url), **state})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        line = f"{row['server']}: {row['role']}"
        if row["role"] == "standby":
            line += f", timeline {row['timeline']}, replayed {row['lsn']}, lag {row['lag_seconds']:.1f} s"
        elif row["role"] == "primary":
            line += f", timeline {row['timeline']}, at {row['lsn']}"
            if row["synchronous_standby_names"]:
                line += (
                    f"; commits wait ({row['synchronous_commit']}) for "
                    f"{row['synchronous_standby_names']}"
                )
            else:
                line += "; commits do not wait for a standby"
            for s in row["standbys"]:
                line += f"\n  standby {s['name']}: {s['state']}, {s['sync_state']}, {s['replay_lag_bytes']} bytes behind"
        click.echo(line)


@replica.command("create")
@click.option("--from", "source", required=True, help="The primary: 'host=H port=P user=U'.")
@click.option("--data-dir", type=click.Path(path_type=Path), required=True)
@click.option("--port", type=int, required=True, help="The standby's port (127.0.0.1).")
@click.option(
    "--name", required=True, help="Its name (application_name; what the primary waits for)."
)
def create(source: str, data_dir: Path, port: int, name: str) -> None:
    """Make and start a streaming standby (pg_basebackup); then `bosai replica sync NAME` on the
    primary makes every commit wait for it."""
    from deploy.pg_nodes import PgNode

    node = PgNode.standby_of(source, data_dir, port, name).start()
    click.echo(f"standby {name} streaming into {node.data_dir} on port {port}")


@replica.command("sync")
@click.argument("standbys", nargs=-1)
@click.option("--off", is_flag=True, help="Stop waiting for any standby.")
@click.option(
    "--commit",
    default="remote_apply",
    show_default=True,
    type=click.Choice(["on", "remote_write", "remote_apply"]),
    help="How far a commit waits.",
)
@click.pass_obj
def sync(obj: dict, standbys: tuple[str, ...], off: bool, commit: str) -> None:
    """On the primary: every commit waits for the first of STANDBYS that is connected."""
    from bosai.errors import BosaiError
    from sql import replication
    from sql.engine import make_engine

    if not standbys and not off:
        raise BosaiError("name the standby (or --off)")
    engine = make_engine(obj["database_url"])
    try:
        replication.set_synchronous(engine, () if off else standbys, commit)
    finally:
        engine.dispose()
    click.echo(
        "commits no longer wait for a standby"
        if off
        else f"commits wait ({commit}) for {', '.join(standbys)}"
    )


@replica.command("promote")
@click.argument("url")
def promote(url: str) -> None:
    """Promote the standby at URL to primary (after the primary is lost). It then
    acknowledges writes alone until a standby rejoins (`bosai replica rejoin`, then `sync`)."""
    from bosai.errors import BosaiError
    from sql import replication
    from sql.engine import make_engine

    engine = make_engine(url)
    try:
        if replication.node_state(engine).role != "standby":
            raise BosaiError("that server is not a standby")
        replication.promote(engine)
        replication.checkpoint(engine)
        state = replication.node_state(engine)
    finally:
        engine.dispose()
    click.echo(f"promoted: primary on timeline {state.timeline}")


@replica.command("rejoin")
@click.option("--from", "source", required=True, help="The new primary: 'host=H port=P user=U'.")
@click.option("--data-dir", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--port", type=int, required=True)
@click.option("--name", required=True)
def rejoin(source: str, data_dir: Path, port: int, name: str) -> None:
    """Bring a lost primary back as a standby of the new one (pg_rewind) and start it."""
    from deploy.pg_nodes import PgNode

    node = PgNode(data_dir, port, name)
    node.stop()
    node.rewind_from(source)
    node.start()
    click.echo(f"{name} rewound and streaming from {source}")


@replica.command("restore")
@click.option("--base", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--archive", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--data-dir", type=click.Path(path_type=Path), required=True)
@click.option("--port", type=int, required=True)
@click.option("--to-time", help="Recover up to (not including) this moment (ISO 8601 with zone).")
@click.option("--to-lsn", help="…or this WAL position.")
@click.option("--database", default="bosai", show_default=True)
def restore(
    base: Path,
    archive: Path,
    data_dir: Path,
    port: int,
    to_time: str | None,
    to_lsn: str | None,
    database: str,
) -> None:
    """Point-in-time recovery into a new server: the base backup, then the WAL archive up to
    the moment; prints the content hash and checks the audit chain."""
    from bosai.errors import BosaiError
    from deploy.pg_nodes import PgNode
    from sql import audit
    from sql.content_hash import content_hash
    from sql.engine import make_engine

    node = PgNode.restore_to(
        base, archive, data_dir, port, "restored", target_time=to_time, target_lsn=to_lsn
    )
    node.start()
    node.wait_primary()
    engine = make_engine(node.url(database))
    try:
        chain = audit.verify(engine)
        digest = content_hash(engine)
    finally:
        engine.dispose()
    click.echo(
        f"restored into {data_dir} on port {port}: content hash {digest}, audit chain "
        f"{chain.rows} rows {'verified' if chain.ok else 'BROKEN'}"
    )
    if not chain.ok:
        raise BosaiError(f"the audit chain is broken at row {chain.first_bad_id}: {chain.reason}")
