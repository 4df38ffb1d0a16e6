"""``python -m cityos.reference_server --port 8700 --issuer http://127.0.0.1:9400``."""

from __future__ import annotations

from pathlib import Path

import click

from .runner import serve
from .settings import ServerSettings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--issuer", default=None, help="OpenID Connect issuer URL of the city's provider.")
@click.option("--citizens", default=None, type=int, help="Size of the demo population.")
@click.option("--seed", default=None, type=int, help="Seed of the demo population.")
@click.option("--city-file", default=None, type=click.Path(path_type=Path, dir_okay=False))
def main(host, port, issuer, citizens, seed, city_file) -> None:
    """Run the reference city OS."""
    settings = ServerSettings.from_env(
        issuer=issuer, citizens=citizens, seed=seed, city_file=city_file
    )
    serve(settings, host, port)


if __name__ == "__main__":  # pragma: no cover
    main()
