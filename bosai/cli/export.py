"""``bosai export microdata``: de-identified drill, consent and status records for researchers.

The export is made by ``sql.policy.microdata_export`` (k-anonymous, a pseudonym drawn for this
export, generalised quasi-identifiers, recorded in the audit chain with its purpose and
requester) and written by ``reports.microdata`` beside its data dictionary and k report.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from bosai.errors import InvalidInputError


def register(cli: click.Group) -> None:
    cli.add_command(export)


@click.group()
def export() -> None:
    """Files that leave for researchers (de-identified)."""


@export.command("microdata")
@click.option("--purpose", required=True, help="What the data are for (recorded in the audit).")
@click.option("--requester", required=True, help="Who asked for them (recorded in the audit).")
@click.option("--drill", "drill_ref", default=None, help="Drill id or external id (drill table).")
@click.option("--incident", "incident_id", type=int, default=None, help="Status of one incident.")
@click.option(
    "--tables",
    default="drill,consent,status",
    show_default=True,
    help="Which tables, separated by commas.",
)
@click.option("--k", "k", type=int, default=5, show_default=True, help="Smallest class (people).")
@click.option(
    "--location",
    type=click.Choice(["cell", "district", "both"]),
    default="cell",
    show_default=True,
    help="The home's place: coarse H3 cell, district, or both.",
)
@click.option("--h3-resolution", type=int, default=6, show_default=True)
@click.option("--time-step", type=int, default=5, show_default=True, help="Minutes.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the files.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the k report as JSON.")
@click.pass_obj
def export_microdata(
    obj: dict,
    purpose: str,
    requester: str,
    drill_ref: str | None,
    incident_id: int | None,
    tables: str,
    k: int,
    location: str,
    h3_resolution: int,
    time_step: int,
    out_dir: Path,
    as_json: bool,
) -> None:
    """Export drill, consent and status records k-anonymously, with a data dictionary."""
    from bosai.cli.analyze import to_jsonable
    from bosai.cli.survey import _ready_engine
    from dashboard.research_models import microdata_files
    from sql.queries import research
    from sql.viewer import SYSTEM

    engine = _ready_engine(obj["database_url"])
    chosen = tuple(t.strip() for t in tables.split(",") if t.strip())
    drill_id = None
    if drill_ref is not None:
        drill = research.drill(engine, drill_ref)
        if drill is None:
            raise InvalidInputError(f"--drill: no drill {drill_ref!r}")
        drill_id = drill["id"]
    elif "drill" in chosen:
        chosen = tuple(t for t in chosen if t != "drill")
    viewer = dataclasses.replace(SYSTEM, purpose="research")
    try:
        made, files, _ = microdata_files(
            engine,
            viewer,
            purpose=purpose,
            requester=requester,
            drill_id=drill_id,
            incident_id=incident_id,
            tables=chosen,
            k=k,
            h3_resolution=h3_resolution,
            time_step=time_step,
            location=location,
        )
    except ValueError as exc:
        raise InvalidInputError(f"export microdata: {exc}") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
    report = made.report.to_dict("records")
    if as_json:
        click.echo(
            json.dumps(
                to_jsonable({"export": made.export_id, "files": sorted(files), "k_report": report}),
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    click.echo(f"export {made.export_id}: k = {k}, {len(files)} files in {out_dir}")
    for row in report:
        click.echo(
            f"  {row['table']:<8} {row['rows_exported']:>7} rows, {row['people_exported']:>6} "
            f"people; suppressed {row['rows_suppressed']} rows of {row['people_suppressed']} "
            f"people; smallest class {row['smallest_class']}"
        )
