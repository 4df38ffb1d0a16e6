"""``bosai city show|set|load``: the city is configuration, never code."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from bosai.errors import BosaiError


def register(cli: click.Group) -> None:
    cli.add_command(city)


@click.group()
def city() -> None:
    """The configured city (municipality, JMA area codes, map extent)."""


@city.command("show")
@click.pass_obj
def city_show(obj: dict) -> None:
    """Print the active city as a city file (YAML)."""
    from sql.city_config import active_city, city_as_dict
    from sql.engine import get_engine

    click.echo(
        yaml.safe_dump(
            city_as_dict(active_city(get_engine(obj["database_url"]))),
            allow_unicode=True,
            sort_keys=False,
        ),
        nl=False,
    )


@city.command("set")
@click.argument("assignments", nargs=-1, required=True)
@click.pass_obj
def city_set(obj: dict, assignments: tuple[str, ...]) -> None:
    """Change fields of the active city: ``bosai city set name_en=Nanao center_lat=37.04 ...``.

    Setting ``municipality_code`` to a new code creates that city (with the other fields given)
    and makes it active.
    """
    from sql.city_config import set_city
    from sql.engine import get_engine

    values: dict[str, object] = {}
    for item in assignments:
        if "=" not in item:
            raise BosaiError(f"expected FIELD=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        values[key.strip()] = yaml.safe_load(value) if key.strip() == "settings" else value.strip()
    result = set_city(get_engine(obj["database_url"]), values, "bosai city set")
    click.echo(f"active city: {result.name_ja} ({result.municipality_code})")


@city.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
def city_load(obj: dict, file: Path) -> None:
    """Configure the city from a city file (see sql/cities/072028.yaml)."""
    from sql.city_config import read_city_file, set_city
    from sql.engine import get_engine

    result = set_city(get_engine(obj["database_url"]), read_city_file(file), str(file))
    click.echo(f"active city: {result.name_ja} ({result.municipality_code})")
