"""``bosai evacuation …``: evacuation information — areas, river stations and water levels in;
rules checked; a decision's CAP message and the feed out."""

from __future__ import annotations

import time
from pathlib import Path

import click

from bosai.errors import InvalidInputError

from .imports import _both, _engine, _report
from .options import SHOW_ADDED_OPTION, SHOW_CHANGES_OPTION


def register(cli: click.Group) -> None:
    cli.add_command(evacuation_group)


@click.group("evacuation")
def evacuation_group() -> None:
    """Evacuation information by area (避難情報): import areas, stations and water levels; check
    the city's rules; write CAP messages and the feed."""


def _refuse(parsed) -> None:
    if parsed.problems:
        raise InvalidInputError(
            _both("importers.error.invalid_evacuation_input"), [str(p) for p in parsed.problems]
        )


def _read_and_import(obj: dict, file: Path, dry_run: bool, read, store) -> None:
    """Read FILE with ``read``, refuse it whole on any problem, and ``store`` it (or, with
    ``dry_run``, show what would change)."""
    from sql.viewer import SYSTEM

    started = time.perf_counter()
    engine = _engine(obj)
    parsed = read(file)
    _refuse(parsed)
    _report(store(engine, SYSTEM, parsed, file.name, dry_run=dry_run), dry_run, started)


#: ``bosai evacuation NAME FILE [--dry-run]``: the reader in :mod:`importers.evacuation`, the
#: store in :mod:`sql.imports.evacuation`, the --dry-run option, the command's help.
FILE_IMPORTS = (
    (
        "import-areas",
        "read_areas",
        "import_areas",
        SHOW_CHANGES_OPTION,
        "Issuance areas (地区・町字・ハザード区域) from GeoJSON or CSV with WKT; upserted by "
        "区域コード, all or nothing.",
    ),
    (
        "import-stations",
        "read_stations",
        "import_stations",
        SHOW_CHANGES_OPTION,
        "River water-level stations with their four thresholds (CSV); upserted by 観測所コード.",
    ),
    (
        "import-levels",
        "read_observations",
        "import_observations",
        SHOW_ADDED_OPTION,
        "Water-level observations (観測所コード, 観測日時, 水位) from CSV; repeats change nothing.",
    ),
)


def _add_file_import(name: str, read: str, store: str, dry_run_option, help_text: str) -> None:
    @evacuation_group.command(name, help=help_text)
    @click.argument("file", type=click.Path(path_type=Path))
    @dry_run_option
    @click.pass_obj
    def command(obj: dict, file: Path, dry_run: bool) -> None:
        from importers import evacuation as readers
        from sql.imports import evacuation as stores

        _read_and_import(obj, file, dry_run, getattr(readers, read), getattr(stores, store))


for _file_import in FILE_IMPORTS:
    _add_file_import(*_file_import)


@evacuation_group.command("import-jma")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@SHOW_ADDED_OPTION
@click.pass_obj
def import_jma_command(obj: dict, paths: tuple[Path, ...], dry_run: bool) -> None:
    """JMA XML telegrams the rules use as triggers: 土砂災害警戒情報 (VXWW50) for the city and
    指定河川洪水予報 (VXKO) for its rivers — files or folders; other telegrams are skipped, a
    telegram already stored changes nothing, any problem refuses the whole batch."""
    from importers.jma_triggers import read_trigger_telegrams
    from sql.imports.evacuation import import_trigger_telegrams
    from sql.viewer import SYSTEM

    started = time.perf_counter()
    engine = _engine(obj)
    batch = read_trigger_telegrams(paths)
    _refuse(batch)
    summary = import_trigger_telegrams(engine, SYSTEM, batch.telegrams, dry_run=dry_run)
    summary.skipped += len(batch.skipped)
    summary.notes += [f"{file}: {why}" for file, why in batch.skipped]
    _report(summary, dry_run, started)


@evacuation_group.command("check-rules")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.pass_obj
def check_rules_command(obj: dict, file: Path | None) -> None:
    """Check the city's evacuation rules (default: the active city's file) against the stored
    areas and stations."""
    from analytics.evacuation_rules import check_rules, parse_rules
    from sql.city_config import active_city, evacuation_rules_path
    from sql.queries.evacuation import areas_frame, stations_frame

    engine = _engine(obj)
    city = active_city(engine)
    path = file or evacuation_rules_path(city.municipality_code)
    rules = parse_rules(path.read_text(encoding="utf-8"), str(path))
    problems = check_rules(
        rules,
        stations_frame(engine, city.municipality_code).get("code", []),
        areas_frame(engine, city.municipality_code).get("code", []),
        str(path),
    )
    if problems:
        raise InvalidInputError(f"{path}: rules name unknown stations or areas", problems)
    click.echo(f"{path}: {len(rules)} rules OK")


@evacuation_group.command("cap")
@click.argument("decision_key")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write to this file.")
@click.pass_obj
def cap_command(obj: dict, decision_key: str, out: Path | None) -> None:
    """The CAP 1.2 message of one decision."""
    from reports.cap import decision_message

    data = decision_message(_engine(obj), decision_key)
    if out:
        out.write_bytes(data)
    else:
        click.echo(data.decode("utf-8"))


@evacuation_group.command("announcement")
@click.argument("decision_key")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The PDF to write.")
@click.pass_obj
def announcement_command(obj: dict, decision_key: str, out: Path) -> None:
    """The printable loudspeaker/radio announcement (PDF) of one decision."""
    from reports.announcement import announcement_pdf

    out.write_bytes(announcement_pdf(_engine(obj), decision_key))
    click.echo(str(out))


@evacuation_group.command("feed")
@click.option("--incident", "incident_id", type=int, required=True)
@click.option("--base-url", default="https://example.invalid/cap", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write to this file.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write feed.atom and the CAP messages it links into this directory (e.g. "
    "dashboard/static/evacuation, served at <app URL>/app/static/evacuation/feed.atom).",
)
@click.pass_obj
def feed_command(
    obj: dict, incident_id: int, base_url: str, out: Path | None, directory: Path | None
) -> None:
    """The Atom feed of the CAP messages in force for an incident."""
    from reports.cap import atom_feed, publish_dir

    if directory is not None:
        for path in publish_dir(_engine(obj), incident_id, base_url, directory):
            click.echo(str(path))
        return
    data = atom_feed(_engine(obj), incident_id, base_url)
    if out:
        out.write_bytes(data)
    else:
        click.echo(data.decode("utf-8"))
