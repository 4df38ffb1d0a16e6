"""Shared fixtures: real databases (a SQLite file and PostgreSQL/PostGIS), opt-in requirements.

PostgreSQL comes from ``BOSAI_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
each test gets a fresh database cloned from a migrated template, dropped afterwards. Where the
server (or PostGIS, a browser, the shared open data) is missing, tests skip with the reason —
unless ``BOSAI_REQUIRE_PG`` / ``BOSAI_REQUIRE_BROWSER`` / ``BOSAI_REQUIRE_OPENDATA`` (or
``CI=true``) forbid skipping, in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from sql.engine import make_engine
from sql.setup import prepare_database

ROOT = Path(__file__).resolve().parents[1]
OPENDATA = Path(os.environ.get("BOSAI_OPENDATA_DIR", ROOT.parent / "shared" / "data" / "opendata"))
PG_URL = os.environ.get("BOSAI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def required(kind: str) -> bool:
    """True when tests of this kind ("PG", "BROWSER", "OPENDATA") must run, never skip."""
    return _truthy(f"BOSAI_REQUIRE_{kind}") or _truthy("CI")


def skip_or_fail(kind: str, reason: str) -> None:
    if required(kind):
        pytest.fail(f"{reason} (BOSAI_REQUIRE_{kind} or CI forbids skipping)", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------- PostgreSQL


class PgServer:
    """Creates per-test databases on the test server from one migrated template."""

    def __init__(self, url: str):
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self.prefix = f"bosai_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        engine = make_engine(self.url_for(self.template))
        try:
            prepare_database(engine)
        finally:
            engine.dispose()

    def new_database(self, migrated: bool = True) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            if migrated:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = PgServer(PG_URL)
        with server.admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            has_postgis = conn.exec_driver_sql(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).first()
    except Exception as exc:
        skip_or_fail("PG", f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
        return
    if not has_postgis:
        skip_or_fail(
            "PG",
            "PostGIS is not installed on the test server (apt-get install postgresql-15-postgis-3)",
        )
    server.create_template()
    yield server
    server.close()


def sql(url: str, statement: str, **params):
    """Run one SQL statement on the database at ``url`` in its own transaction (a test's
    independent check, or a change made "by someone else"); its rows, if it returns any."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def drop_audit_triggers(conn: sa.Connection) -> None:
    """What someone with DDL rights must do first to edit or delete audit rows: drop the
    append-only triggers (migration 0013). Tests that prove tampering is *found* do this."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_log", "audit_checkpoints"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        for table in ("audit_log", "audit_checkpoints"):
            for action in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def empty_sqlite_audit_log(db) -> None:
    """Empty the audit log of a copied SQLite database (``sqlite3`` connection) for a test that
    counts its own rows: past the append-only triggers and back."""
    triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
    ).fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DELETE FROM audit_log")
    for _, ddl in triggers:
        db.execute(ddl)


@pytest.fixture(autouse=True)
def _audit_key_outside_the_repository(tmp_path_factory, monkeypatch):
    """Audit checkpoints (``sql.audit.checkpoint_key``) key with a file of the test session,
    never ``var/`` of the working tree."""
    monkeypatch.delenv("BOSAI_AUDIT_KEY", raising=False)
    key = tmp_path_factory.getbasetemp() / "audit-checkpoint.key"
    monkeypatch.setenv("BOSAI_AUDIT_KEY_FILE", str(key))


# ---------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    prepare_database(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def sqlite_backup(source_url: str, target: Path, *, empty_audit: bool = False) -> str:
    """Copy the SQLite database at ``source_url`` to ``target`` with SQLite's backup API (so
    the WAL comes along) — with ``empty_audit``, its audit log emptied for a test that counts
    its own rows. The copy's URL."""
    import sqlite3

    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    if empty_audit:
        empty_sqlite_audit_log(copy)  # rows other tests left are not this test's
        copy.commit()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory, sqlite_template):
    """``demo_city(citizens)``: the URL of a SQLite file holding the demo city of that size
    (``bosai demo``; seeded, so the same every time), built once per size per test session.
    Tests only read it; one that writes takes a copy (:func:`sqlite_backup`)."""
    from bosai.cli import main

    built: dict[int, str] = {}

    def build(citizens: int) -> str:
        if citizens not in built:
            path = tmp_path_factory.mktemp(f"demo{citizens}") / "demo.sqlite"
            shutil.copyfile(sqlite_template, path)
            url = f"sqlite:///{path}"
            assert main(["--database-url", url, "demo", "--citizens", str(citizens)]) == 0
            built[citizens] = url
        return built[citizens]

    return build


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "bosai.sqlite"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# ---------------------------------------------------------------- engines


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request, tmp_path, sqlite_template) -> Iterator[str]:
    """URL of a fresh, migrated database with the default city — on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield _sqlite_copy(sqlite_template, tmp_path)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.new_database()
    yield url
    from sql.engine import dispose_engines

    dispose_engines()
    server.drop(url)


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    """A migrated engine on each backend (the test runs twice: SQLite and PostgreSQL)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    return _sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def sqlite_engine(sqlite_url) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    url = pg_server.new_database()
    yield url
    from sql.engine import dispose_engines

    dispose_engines()
    pg_server.drop(url)


@pytest.fixture
def pg_engine(pg_url) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture
def opendata() -> Path:
    """../shared/data/opendata (real public files); skipped with a reason when absent."""
    if not OPENDATA.is_dir():
        skip_or_fail("OPENDATA", f"shared open data not found at {OPENDATA}")
    return OPENDATA


@pytest.fixture
def demo_engine(engine):
    """A small demo city on each backend (its incident 1 is in emergency mode)."""
    from drills.demo_city import DemoParams, generate
    from sql import policy
    from sql.city_config import active_city
    from sql.demo_store import load_demo

    data = generate(DemoParams(citizens=600), active_city(engine))
    load_demo(engine, data.tables, data.params.as_meta())
    policy.forget_recent_views()
    return engine


# ---------------------------------------------------------------- hostile outside text


def hostile_headline(beacon: str) -> str:
    """A telegram headline written as an attacker would: bold, a link, a remote image (the
    beacon), raw HTML, Streamlit's own directives and an autolink."""
    return (
        f"**至急** [詳細はこちら]({beacon}/link) ![x]({beacon}/beacon) "
        f'<img src="{beacon}/img"> <a href="{beacon}/a">開く</a> :red[赤字] '
        f":material/warning: $x^2$ www.example.com {beacon}/bare"
    )


def write_hostile_telegram(path: Path, beacon: str) -> Path:
    """Write a JMA VPWW54 telegram for the demo city (会津若松市, 0720200) — the newest one, a
    大雨警報 — whose headline is :func:`hostile_headline` (for ``bosai import warnings``)."""
    from xml.sax.saxutils import escape

    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">
  <Control>
    <Title>気象警報・注意報（Ｈ２７）</Title>
    <DateTime>2026-07-11T00:00:00Z</DateTime>
    <Status>通常</Status>
    <EditorialOffice>福島地方気象台</EditorialOffice>
    <PublishingOffice>福島地方気象台</PublishingOffice>
  </Control>
  <Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
    <Title>福島県気象警報・注意報</Title>
    <ReportDateTime>2026-07-11T09:00:00+09:00</ReportDateTime>
    <TargetDateTime>2026-07-11T09:00:00+09:00</TargetDateTime>
    <EventID/>
    <InfoType>発表</InfoType>
    <Serial/>
    <InfoKind>気象警報・注意報</InfoKind>
    <InfoKindVersion>1.2_0</InfoKindVersion>
    <Headline><Text>{escape(hostile_headline(beacon))}</Text></Headline>
  </Head>
  <Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/meteorology1/">
    <Warning type="気象警報・注意報（市町村等）"><Item><Kind><Name>大雨警報</Name><Code>03</Code><Status>発表</Status></Kind><Area><Name>会津若松市</Name><Code>0720200</Code></Area></Item></Warning>
  </Body>
</Report>
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def hostile_telegram(tmp_path):
    """``hostile_telegram(beacon_url)``: the path of :func:`write_hostile_telegram`'s file."""
    return lambda beacon: write_hostile_telegram(tmp_path / "hostile_vpww54.xml", beacon)


# ---------------------------------------------------------------- evacuation information

EVACUATION_DATA = Path(__file__).with_name("data") / "evacuation"


@pytest.fixture
def evacuation_engine(demo_engine):
    """The demo city with issuance areas (YU-1, YU-2, YU-3 along the 湯川, AG-1, AG-2 along
    the 阿賀川, LS-1 in the hills) and two river stations (yugawa-01, agagawa-01)."""
    from importers.evacuation import read_areas, read_stations
    from sql.imports.evacuation import import_areas, import_stations
    from sql.viewer import SYSTEM

    for name in ("areas.geojson", "areas.csv"):
        import_areas(demo_engine, SYSTEM, read_areas(EVACUATION_DATA / name), name)
    import_stations(
        demo_engine, SYSTEM, read_stations(EVACUATION_DATA / "stations.csv"), "stations.csv"
    )
    return demo_engine


def prepare_evacuation_board(url: str, tmp_path: Path) -> str:
    """Through ``bosai evacuation``: the areas and stations of :data:`EVACUATION_DATA` and the
    湯川 past its 避難判断水位 (2.40 m) 20 minutes before incident 1's "now" (2.1, 2.45,
    2.6 m at −30, −20, −10 minutes). Returns ``url``."""
    import datetime as dt

    from bosai.cli import main
    from sql.engine import make_engine
    from sql.incident_clock import incident_clock

    for command, name in (
        ("import-areas", "areas.geojson"),
        ("import-areas", "areas.csv"),
        ("import-stations", "stations.csv"),
    ):
        assert (
            main(["--database-url", url, "evacuation", command, str(EVACUATION_DATA / name)]) == 0
        )
    engine = make_engine(url)
    now = incident_clock(engine, 1)
    engine.dispose()
    levels = tmp_path / "levels.csv"
    levels.write_text(
        "観測所コード,観測日時,水位\n"
        + "".join(
            f"yugawa-01,{(now - dt.timedelta(minutes=m)).isoformat()},{lv}\n"
            for m, lv in ((30, 2.1), (20, 2.45), (10, 2.6))
        ),
        encoding="utf-8",
    )
    assert main(["--database-url", url, "evacuation", "import-levels", str(levels)]) == 0
    return url
