"""``bosai drill run``: play a drill scenario live through the city OS into the database."""

from __future__ import annotations

from pathlib import Path

import click

from .cityos import CONFIG_OPTION, _client, _ready_engine


def register(cli: click.Group) -> None:
    cli.add_command(drill)


@click.group()
def drill() -> None:
    """Drills (訓練): live scenarios through the city OS."""


@drill.command()
@click.option(
    "--scenario", required=True, help="Scenario name (drills/scenarios/NAME.yaml) or file."
)
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Scenario seconds per real second (60: one scenario minute per second).",
)
@click.option(
    "--until",
    "until_min",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop at this scenario minute.",
)
@click.option("--tick", "tick_s", default=0.5, show_default=True, type=click.FloatRange(min=0.01))
@CONFIG_OPTION
@click.pass_obj
def run(
    obj: dict,
    scenario: str,
    speed: float,
    until_min: float | None,
    tick_s: float,
    config_path: Path | None,
) -> None:
    """Play SCENARIO's citizen events through the city OS, in accelerated real time."""
    from bosai.errors import BosaiError
    from cityos.drill_player import run_drill
    from drills.live_drill import ScenarioError, load_scenario

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        raise BosaiError(str(exc), exit_code=2) from exc
    engine = _ready_engine(obj)

    def progress(minute: float, report) -> None:
        total = sum(report.emitted.values())
        click.echo(f"\rminute {minute:6.1f}: {total:,} events played", nl=False, err=True)

    with _client(config_path) as client:
        report = run_drill(
            engine,
            client,
            loaded,
            speed=speed,
            until_min=until_min,
            tick_s=tick_s,
            on_tick=progress,
        )
    click.echo("", err=True)
    click.echo(report.summary())
