"""A primary and its synchronous streaming standby of our own (never the shared server at 5432):
two PostgreSQL servers on free loopback ports with WAL archiving, created once for the
reliability tests that need them and removed afterwards (:mod:`deploy.pg_nodes`)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos.reference_server.runner import free_port
from sql.engine import dispose_engines, make_engine
from tests.conftest import PgServer, skip_or_fail


@dataclasses.dataclass
class PgPair:
    primary: object  # deploy.pg_nodes.PgNode
    standby: object
    archive: Path
    workdir: Path
    databases: PgServer

    def new_database(self) -> tuple[str, str]:
        """A fresh migrated database: (its URL on the primary, its URL on the standby)."""
        url = self.databases.new_database()
        name = url.rsplit("/", 1)[1]
        return url, self.standby.url(name)

    def both_hosts(self, database: str, attrs: str, standby_first: bool = False) -> str:
        """A multi-host URL naming both servers."""
        hosts = [f"127.0.0.1:{self.primary.port}", f"127.0.0.1:{self.standby.port}"]
        if standby_first:
            hosts.reverse()
        return f"postgresql://postgres@{','.join(hosts)}/{database}?target_session_attrs={attrs}"


@pytest.fixture(scope="session")
def pg_pair() -> Iterator[PgPair]:
    """Primary ``node_a`` (archiving to ``archive``) and its synchronous standby ``node_b``."""
    from deploy import pg_nodes
    from sql import replication

    try:
        pg_nodes.bindir()
    except pg_nodes.NodeError as exc:
        skip_or_fail("PG", str(exc))
    work = pg_nodes.workdir("bosai-pair-")
    archive = work / "archive"
    archive.mkdir()
    pg_nodes.give_to_postgres(archive)
    primary = pg_nodes.PgNode(work / "node_a", free_port(), "node_a")
    standby = pg_nodes.PgNode(work / "node_b", free_port(), "node_b")
    databases = None
    try:
        primary.init(pg_nodes.archive_settings(archive)).start()
        pg_nodes.PgNode.standby_of(primary, standby.data_dir, standby.port, standby.name)
        standby.start()
        engine = make_engine(primary.url())
        replication.set_synchronous(engine, (standby.name,))
        engine.dispose()
        databases = PgServer(primary.url())
        databases.create_template()
        yield PgPair(primary, standby, archive, work, databases)
    finally:
        dispose_engines()
        if databases is not None:
            databases.admin.dispose()
        for node in (standby, primary):
            node.remove()
        shutil.rmtree(work, ignore_errors=True)
