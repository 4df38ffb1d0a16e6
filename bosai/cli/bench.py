"""``bosai bench``: run the benchmarks and print their figures (see benchmarks/)."""

from __future__ import annotations

import importlib
import json

import click

from bosai.errors import BosaiError


def register(cli: click.Group) -> None:
    cli.add_command(bench)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results.")
@click.option("--only", multiple=True, help="Run only benchmarks whose module name contains this.")
@click.option("--quick", is_flag=True, help="Smaller sizes (a smoke run, not for the notes).")
@click.option(
    "--pg-url",
    envvar="BOSAI_BENCH_PG_URL",
    default="postgresql://postgres@127.0.0.1:5432/test",
    show_default=True,
    help="PostgreSQL server for the PostgreSQL variants ('' to skip them).",
)
def bench(as_json: bool, only: tuple[str, ...], quick: bool, pg_url: str) -> None:
    """Measure features against baselines in the same run: [{name, value, unit, baseline, ratio}]."""
    from benchmarks import MODULES
    from benchmarks.core import BenchContext, scratch_dir

    selected = [m for m in MODULES if not only or any(o in m for o in only)]
    if not selected:
        raise BosaiError(f"no benchmark matches {', '.join(only)}; known: {', '.join(MODULES)}")
    results = []
    with scratch_dir() as workdir:
        ctx = BenchContext(workdir=workdir, quick=quick, pg_url=pg_url or None)
        for name in selected:
            module = importlib.import_module(name)
            if not as_json:
                click.echo(f"# {name}", err=True)
            for result in module.run(ctx):
                results.append(result.as_dict())
                if not as_json:
                    ratio = f"  ratio {result.ratio:.3f}" if result.ratio is not None else ""
                    base = (
                        f"  baseline {result.baseline:.4g}" if result.baseline is not None else ""
                    )
                    click.echo(
                        f"{result.name:<55} {result.value:>12.4g} {result.unit:<8}{base}{ratio}"
                    )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
