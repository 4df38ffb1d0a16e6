"""``bosai demo``: load the deterministic demo city (a synthetic flood incident)."""

from __future__ import annotations

import time

import click

from bosai.errors import BosaiError

from .options import aware_datetime


def register(cli: click.Group) -> None:
    cli.add_command(demo)
    cli.add_command(serve_demo)


@click.command()
@click.option(
    "--citizens",
    default=12_000,
    show_default=True,
    type=click.IntRange(min=10),
    help="Opted-in citizens to generate.",
)
@click.option(
    "--seed",
    default=20220311,
    show_default=True,
    type=int,
    help="Random seed (same seed, same data).",
)
@click.option(
    "--start",
    default=None,
    help="Incident start, ISO 8601 with offset (default 2026-07-10T04:00+09:00).",
)
@click.option(
    "--if-empty", is_flag=True, help="Load only into an empty database; otherwise do nothing."
)
@click.option("--replace", is_flag=True, help="Replace a different demo already in the database.")
@click.option(
    "--evacuation",
    is_flag=True,
    help="Add river gauges, issuance areas and the evacuation information HQ issues as the "
    "city's rules propose (`make demo` does; the tests' demo leaves them to each test).",
)
@click.pass_obj
def demo(
    obj: dict,
    citizens: int,
    seed: int,
    start: str | None,
    if_empty: bool,
    replace: bool,
    evacuation: bool,
) -> None:
    """Generate the demo city for the configured city and load it (idempotent)."""
    from drills.demo_city import DEFAULT_START, DemoParams, generate
    from sql import demo_store
    from sql.city_config import active_city
    from sql.engine import get_engine
    from sql.migrate import current_revision, head_revision

    engine = get_engine(obj["database_url"])
    if current_revision(engine) != head_revision():
        raise BosaiError("the database schema is not up to date: run `bosai db upgrade` first")
    start_at = DEFAULT_START
    if start:
        start_at = aware_datetime(start, "--start", "2026-07-10T04:00+09:00", BosaiError)
    params = DemoParams(citizens=citizens, seed=seed, start=start_at, evacuation=evacuation)
    state = demo_store.demo_state(engine)
    if state == params.as_meta():
        click.echo(f"demo already loaded ({citizens:,} citizens, seed {seed}); nothing changed")
        return
    if if_empty and not demo_store.is_empty(engine):
        click.echo("the database is not empty; the demo was not loaded")
        return
    if state is not None:
        if not replace:
            raise BosaiError(
                f"the database holds another demo ({state['citizens']:,} citizens, seed {state['seed']}); "
                "add --replace to replace it"
            )
        demo_store.remove_demo(engine)
    elif not demo_store.is_empty(engine):
        raise BosaiError(
            "the database already holds data; the demo loads only into an empty database"
        )
    city = active_city(engine)
    began = time.perf_counter()
    data = generate(
        params, city, evacuation_rules=city_evacuation_rules(city) if evacuation else None
    )
    generated = time.perf_counter() - began
    written = demo_store.load_demo(engine, data.tables, params.as_meta())
    total = time.perf_counter() - began
    click.echo(
        f"demo city loaded for {city.name_ja}: {written.get('citizens', 0):,} citizens, "
        f"{written.get('households', 0):,} households, {written.get('shelters', 0):,} shelters, "
        f"{written.get('status_reports', 0):,} status reports, {written.get('rescue_requests', 0):,} rescue "
        f"requests in {total:.1f} s (generation {generated:.1f} s)"
    )


def city_evacuation_rules(city) -> list:
    """The city's evacuation rules (``sql/cities/evacuation/<code>.yaml``; none when absent)."""
    from analytics.evacuation_rules import parse_rules
    from sql.city_config import evacuation_rules_path

    path = evacuation_rules_path(city.municipality_code)
    if not path.is_file():
        return []
    return parse_rules(path.read_text(encoding="utf-8"), path.name)


@click.command("serve-demo")
@click.option("--port", default=8501, show_default=True, type=int, help="The dashboard's port.")
@click.option("--idp-port", default=9400, show_default=True, type=int)
@click.option("--cityos-port", default=8700, show_default=True, type=int)
@click.pass_obj
def serve_demo(obj: dict, port: int, idp_port: int, cityos_port: int) -> None:
    """The dashboard with the local identity provider and reference city OS beside it (all on
    127.0.0.1, a client secret made up at start); Ctrl-C stops all three."""
    from cityos.local_stack import run
    from sql import demo_store
    from sql.engine import get_engine

    state = demo_store.demo_state(get_engine(obj["database_url"]))
    if state is None:
        raise BosaiError("no demo city in the database: run `bosai demo` first")
    run(
        obj["database_url"],
        citizens=int(state["citizens"]),
        seed=int(state["seed"]),
        port=port,
        idp_port=idp_port,
        cityos_port=cityos_port,
    )
