"""``bosai cityos serve | sync | push | check``: the city-OS connector on the command line."""

from __future__ import annotations

from pathlib import Path

import click

from bosai.errors import BosaiError

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Connector configuration file (default: $BOSAI_CITYOS_CONFIG, else the example "
    "for the reference city OS on loopback).",
)


def register(cli: click.Group) -> None:
    cli.add_command(cityos)


@click.group()
def cityos() -> None:
    """The city OS (都市OS): reference server, sync, push notifications."""


def _ready_engine(obj: dict):
    from sql.engine import get_engine
    from sql.migrate import current_revision, head_revision

    engine = get_engine(obj["database_url"])
    if current_revision(engine) != head_revision():
        raise BosaiError("the database schema is not up to date: run `bosai db upgrade` first")
    return engine


def _client(config_path: Path | None):
    from cityos.client import CityOSClient
    from cityos.config import load_config

    return CityOSClient(load_config(config_path))


@cityos.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option(
    "--issuer",
    envvar="BOSAI_CITYOS_ISSUER",
    default="http://127.0.0.1:9400",
    show_default=True,
    help="Issuer URL of the OpenID Connect provider whose tokens are accepted.",
)
@click.option(
    "--citizens",
    default=None,
    type=click.IntRange(min=10),
    help="Demo citizens [default: as many as the demo in the database, else 2,000].",
)
@click.option(
    "--seed", default=None, type=int, help="[default: the database's demo, else 20220311]"
)
@click.option("--city-file", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.pass_obj
def serve(
    obj: dict, host: str, port: int, issuer: str, citizens: int | None, seed: int | None, city_file
) -> None:
    """Run the reference city OS over the demo population (until Ctrl-C): by default the same
    people as the demo city loaded in the database, so the two match."""
    from cityos.reference_server.runner import serve as run
    from cityos.reference_server.settings import ServerSettings

    demo = _database_demo(obj["database_url"])
    citizens = citizens or int(demo.get("citizens", 2_000))
    seed = seed if seed is not None else int(demo.get("seed", 20220311))

    settings = ServerSettings.from_env(
        issuer=issuer, citizens=citizens, seed=seed, city_file=city_file
    )
    click.echo(
        f"reference city OS on http://{host}:{port} ({citizens:,} demo citizens, seed {seed}); "
        f"tokens from {issuer}",
        err=True,
    )
    run(settings, host, port)


def _database_demo(database_url: str) -> dict:
    """The demo loaded in the database (size, seed), or nothing when there is none or no
    database to read."""
    from sqlalchemy.exc import SQLAlchemyError

    from sql.demo_store import demo_state
    from sql.engine import get_engine

    try:
        return demo_state(get_engine(database_url)) or {}
    except SQLAlchemyError:
        return {}


@cityos.command()
@CONFIG_OPTION
@click.option("--full", is_flag=True, help="Fetch everything again, not only what changed.")
@click.pass_obj
def sync(obj: dict, config_path: Path | None, full: bool) -> None:
    """Pull users, consents, shelters and events into the database (all or nothing)."""
    from cityos.sync import sync as run_sync

    engine = _ready_engine(obj)
    with _client(config_path) as client:
        result = run_sync(engine, client, full=full)
    click.echo(result.summary())
    from sql import audit

    try:  # anchors the audit head every few minutes (issue 13.10); the sync is done either way
        audit.write_checkpoint_if_due(engine, "schedule")
    except (audit.CheckpointKeyError, OSError) as exc:
        click.echo(f"warning: no audit checkpoint written: {exc}", err=True)


@cityos.command()
@CONFIG_OPTION
@click.option(
    "--target",
    required=True,
    help="everyone, area:<district> or citizens:<subject>,<subject>,...",
)
@click.option("--title", required=True)
@click.option("--body", required=True)
@click.option(
    "--incident", "incident_id", type=int, default=None, help="Incident id to log it under."
)
@click.option(
    "--key", "idempotency_key", default=None, help="Idempotency key (repeat = no new push)."
)
@click.pass_obj
def push(
    obj: dict,
    config_path: Path | None,
    target: str,
    title: str,
    body: str,
    incident_id: int | None,
    idempotency_key: str | None,
) -> None:
    """Send a push-notification request through the city OS and record its deliveries."""
    from cityos.push import parse_target, send_push

    engine = _ready_engine(obj)
    parsed = parse_target(target)
    with _client(config_path) as client:
        outcome = send_push(
            engine,
            client,
            parsed,
            title,
            body,
            requested_by="system:cli",
            incident_id=incident_id,
            idempotency_key=idempotency_key,
        )
    click.echo(
        f"push {outcome.cityos_request_id} {outcome.status}: {outcome.recipient_count:,} "
        f"recipients, delivered {outcome.delivered:,}, opened {outcome.opened:,}, failed "
        f"{outcome.failed:,} (notification {outcome.notification_id}, "
        f"{outcome.events_recorded:,} delivery events recorded)"
    )


@cityos.command()
@CONFIG_OPTION
def check(config_path: Path | None) -> None:
    """Log in as the service account and check the session at the city OS."""
    with _client(config_path) as client:
        session = client.session()
        subject = client.session_subject(session)
        client.logout()
    click.echo(
        f"session ok: subject {subject}, roles {', '.join(session.roles) or 'none'}, "
        f"share target {session.share_target}; logged out"
    )
