"""The ``bosai`` command. Each sub-command group lives in its own module of this package."""

from __future__ import annotations

import sys

import click

from bosai.errors import BosaiError

#: Modules that add commands; each exposes ``register(cli: click.Group) -> None``.
COMMAND_MODULES = (
    "bosai.cli.db",
    "bosai.cli.city",
    "bosai.cli.demo",
    "bosai.cli.bench",
    "bosai.cli.imports",
    "bosai.cli.evacuation",
    "bosai.cli.survey",
    "bosai.cli.analyze",
    "bosai.cli.export",
    "bosai.cli.cityos",
    "bosai.cli.drill",
    "bosai.cli.backup",
    "bosai.cli.staff",
    "bosai.cli.audit",
    "bosai.cli.retention",
    "bosai.cli.report",
    "bosai.cli.replica",
    "bosai.cli.deploy",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="BOSAI_DATABASE_URL",
    default=None,
    help="Database URL (default: $BOSAI_DATABASE_URL or sqlite:///var/bosai.sqlite).",
)
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Bosai Ops: disaster operations dashboard and research workbench."""
    from sql.engine import database_url as effective_url

    ctx.obj = {"database_url": effective_url(database_url)}


def _register_all() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)


_register_all()


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point: expected errors become one line on stderr and a non-zero exit code."""
    try:
        cli.main(args=argv, prog_name="bosai", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("bosai: aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BosaiError as exc:
        click.echo(f"bosai: error: {_one_line(exc)}", err=True)
        for line in getattr(exc, "problems", [])[:50]:
            click.echo(line, err=True)
        extra = len(getattr(exc, "problems", [])) - 50
        if extra > 0:
            click.echo(f"... and {extra} more problems", err=True)
        return exc.exit_code
    except Exception as exc:  # one line, never a traceback, for anything unforeseen
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            click.echo(f"bosai: error: database unavailable: {_one_line(exc.orig)}", err=True)
            return 1
        if "BOSAI_DEBUG" in __import__("os").environ:
            raise
        click.echo(f"bosai: error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        return 1
    return 0


def run() -> None:  # pragma: no cover
    sys.exit(main())
