"""``bosai analyze``: the research workbench's analyses from the command line (JSON with --json).

* ``bosai analyze survey FILE --instrument ID`` — scoring, reliability (α, ω), items, choices,
  group comparisons (``--by participant_type``), free-text themes.
* ``bosai analyze uiux FILE`` — task times per task × method × group, paired and unpaired
  comparisons of methods.
* ``bosai analyze optin [--source db|FILE]`` — opt-in acceptance from the consent ledger (db) or
  from questionnaire answers (an export file).
* ``bosai analyze drill --drill ID [--compare ID]`` — drill evaluation from its event log, with
  the time to safe as interval-censored (Turnbull beside Kaplan–Meier) and a Cox model of it on
  age band, register and hazard zone (``time_to_safe``).

Everything printed is an aggregate, with small cells suppressed by the one rule of
``analytics.small_cells`` (a count of 1–4 people and every value derived from it are printed as
``<5`` / ``-``, in JSON as ``null`` with ``"suppressed": true`` on the record) — the same as on
the research pages and in the reports. The same functions are importable from ``analytics`` and
``surveys`` for notebooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import click

from bosai.errors import BosaiError, InvalidInputError

from .options import INSTRUMENT_OPTION, JSON_OPTION, MAPPING_OPTION, aware_datetime


def register(cli: click.Group) -> None:
    cli.add_command(analyze)


@click.group()
def analyze() -> None:
    """Analyses of questionnaires, UI/UX timings, opt-in acceptance and drills."""


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: NaN → null, numpy scalars → numbers, dates → ISO 8601 text."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict("records"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def composed(composition) -> dict[str, Any]:
    """A composition as printed: its nested result, its tidy tables and its method notes."""
    return {
        **composition.details,
        "tables": {k: v.to_dict("records") for k, v in composition.tables.items()},
        "method": composition.notes,
    }


def suppressed(data: dict[str, Any]) -> dict[str, Any]:
    """The results as printed: plain JSON values, small cells suppressed."""
    from analytics.small_cells import suppress_json

    return suppress_json(to_jsonable(data))  # type: ignore[return-value]


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print ``data`` (already :func:`suppressed`) as JSON, or the text ``lines`` made from it."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        for line in lines:
            click.echo(line)


def _count(value: Any) -> str:
    """A count in the text output (``<5`` where suppressed)."""
    return "<5" if value is None else str(value)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _parsed_or_refused(file: Path, instrument: str, mapping: Path | None):
    from surveys.validate import refuse_if_invalid, validate_file

    parsed = validate_file(file, instrument, mapping)
    refuse_if_invalid(parsed)
    return parsed


# ---------------------------------------------------------------- survey


@analyze.command("survey")
@click.argument("file", type=click.Path(path_type=Path))
@INSTRUMENT_OPTION
@MAPPING_OPTION
@click.option(
    "--by",
    "by",
    multiple=True,
    type=click.Choice(["participant_type", "age_band", "sex"]),
    help="Compare subscale scores between the groups of this attribute (repeatable).",
)
@click.option("--parametric", is_flag=True, help="t-test / ANOVA instead of rank tests.")
@click.option("--boot", default=2000, show_default=True, help="Bootstrap resamples for α.")
@click.option("--omega-boot", default=200, show_default=True, help="Bootstrap resamples for ω.")
@click.option("--seed", default=0, show_default=True, help="Bootstrap seed.")
@JSON_OPTION
def analyze_survey(
    file: Path,
    instrument_id: str,
    mapping: Path | None,
    by: tuple[str, ...],
    parametric: bool,
    boot: int,
    omega_boot: int,
    seed: int,
    as_json: bool,
) -> None:
    """Score an export: n; per subscale mean, sd, α, ω (with intervals); per item mean and n."""
    from compositions.survey import from_file

    composition = from_file(
        file,
        instrument_id,
        mapping,
        by,
        kind="parametric" if parametric else "ordinal",
        n_boot=boot,
        omega_boot=omega_boot,
        seed=seed,
    )
    result = suppressed(composed(composition))
    inst_id = result["instrument"]
    lines = [f"{inst_id} {file.name}: n = {_count(result['n'])}"]
    for name, sub in result["subscales"].items():
        lines.append(
            f"  {name:<14} mean {_fmt(sub['mean'], 2)}  sd {_fmt(sub['sd'], 2)}  "
            f"alpha {_fmt(sub['alpha'])}  omega {_fmt(sub['omega'])}  (n {_count(sub['n'])})"
        )
    if "sus" in result:
        lines.append(f"  SUS mean {_fmt(result['sus']['mean'], 1)} grade {result['sus']['grade']}")
    _emit(result, as_json, lines)


# ---------------------------------------------------------------- UI/UX


@analyze.command("uiux")
@click.argument("file", type=click.Path(path_type=Path))
@JSON_OPTION
def analyze_uiux(file: Path, as_json: bool) -> None:
    """Task times per task × method × group and paired comparisons (paper vs app)."""
    from compositions.uiux import from_file

    result = suppressed(composed(from_file(file)))
    lines = [f"{file.name}: {_count(result['n_participants'])} participants"]
    for row in result["summary"]:
        lines.append(
            f"  {row['task']} / {row['method']} / {row['group']}: n {_count(row['n'])} "
            f"median {_fmt(row['median_s'], 1)} s mean {_fmt(row['mean_s'], 1)} s"
        )
    for row in result["paired"]:
        lines.append(
            f"  paired {row['task']} ({row['group']}) {row['first']} - {row['second']}: "
            f"V {_fmt(row['statistic'], 0)} p {_fmt(row['p'], 4)} shift {_fmt(row['hl_shift_s'], 1)} s "
            f"[{_fmt(row['ci_low'], 1)}, {_fmt(row['ci_high'], 1)}]"
        )
    _emit(result, as_json, lines)


# ---------------------------------------------------------------- opt-in


def _research_viewer():
    from sql.viewer import SYSTEM

    return dataclasses.replace(SYSTEM, purpose="research")


def _parse_at(at: str | None) -> dt.datetime:
    if not at:
        return dt.datetime.now(dt.UTC)
    return aware_datetime(at, "--at", "2022-03-11T15:00+09:00")


def optin_from_db(engine, at: dt.datetime) -> dict[str, Any]:
    """The ledger report for every citizen in the database (the invited population); the
    attributes on ``at``'s date in Japan, as on the page and in the council report."""
    from compositions.optin import ledger

    return {"source": "db", **composed(ledger(engine, _research_viewer(), at))}


def optin_from_file(file: Path, instrument: str, mapping: Path | None) -> dict[str, Any]:
    """Opt-in answers of a questionnaire export, overall and per participant type, age band
    and sex."""
    from compositions.optin import questionnaire
    from surveys.validate import responses_frame

    frame = responses_frame(_parsed_or_refused(file, instrument, mapping))
    result = {"source": file.name, **composed(questionnaire(frame))}
    for attribute in ("participant_type", "age_band", "sex"):
        if attribute in frame and frame[attribute].notna().any():
            result[f"by_{attribute}"] = {
                str(level): questionnaire(part).details
                for level, part in frame.groupby(attribute, sort=True)
            }
    return result


@analyze.command("optin")
@click.option(
    "--source",
    default="db",
    show_default=True,
    help="'db' (the consent ledger) or a questionnaire export file.",
)
@click.option("--instrument", "instrument_id", default="drill-2022", show_default=True)
@click.option("--mapping", type=click.Path(path_type=Path), help="Mapping file for an export.")
@click.option("--at", default=None, help="Reference time for the ledger (ISO 8601; default now).")
@JSON_OPTION
@click.pass_obj
def analyze_optin(
    obj: dict,
    source: str,
    instrument_id: str,
    mapping: Path | None,
    at: str | None,
    as_json: bool,
) -> None:
    """Opt-in acceptance per data item and share target, funnel, timing preference, logit."""
    if source == "db":
        from bosai.cli.survey import _ready_engine

        result = suppressed(optin_from_db(_ready_engine(obj["database_url"]), _parse_at(at)))
        lines = [f"consent ledger at {result['at']}: {_count(result['invited'])} citizens"]
        for row in result["by_data_item"]:
            lines.append(
                f"  {row['data_item']:<16} {_count(row['count']):>6} / {_count(row['n'])}  "
                f"{_fmt(row['share'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
            )
    else:
        path = Path(source)
        if not path.is_file():
            raise BosaiError(f"--source: neither 'db' nor an existing file: {source!r}")
        result = suppressed(optin_from_file(path, instrument_id, mapping))
        lines = [f"{path.name}: n = {_count(result['n'])}"]
        for code, row in result.get("consent_timing", {}).items():
            lines.append(f"  consent timing {code}: {_count(row['count'])} / {_count(row['n'])}")
    _emit(result, as_json, lines)


# ---------------------------------------------------------------- drills


def drill_report(
    engine,
    ref: str,
    minutes: tuple[float, ...] = (10, 30, 60),
    origin: str = "drill_start",
    compare: str | None = None,
) -> dict[str, Any]:
    """Evaluation of one drill (and its comparison with another) from the database."""
    from compositions.drill import DrillNotFound, evaluate

    try:
        composition = evaluate(engine, _research_viewer(), ref, minutes, origin, compare)
    except DrillNotFound as exc:
        which = (
            "--compare" if compare is not None and str(exc.args[0]) == str(compare) else "--drill"
        )
        raise InvalidInputError(f"{which}: no drill {exc.args[0]!r}") from exc
    return composed(composition)


@analyze.command("drill")
@click.option("--drill", "drill_ref", required=True, help="Drill id or external id.")
@click.option("--compare", default=None, help="Compare with this drill (id or external id).")
@click.option(
    "--minutes", default="10,30,60", show_default=True, help="T for 'share by T minutes'."
)
@click.option(
    "--origin",
    type=click.Choice(["drill_start", "notification_sent"]),
    default="drill_start",
    show_default=True,
)
@JSON_OPTION
@click.pass_obj
def analyze_drill(
    obj: dict, drill_ref: str, compare: str | None, minutes: str, origin: str, as_json: bool
) -> None:
    """Notification funnel, Kaplan–Meier time-to-event per group, register people confirmed."""
    from bosai.cli.survey import _ready_engine

    try:
        ts = tuple(float(m) for m in minutes.split(",") if m.strip())
    except ValueError as exc:
        raise InvalidInputError(f"--minutes: numbers separated by commas: {minutes!r}") from exc
    engine = _ready_engine(obj["database_url"])
    report = drill_report(engine, drill_ref, ts, origin, compare)
    report["time_to_safe"] = time_to_safe_report(engine, report["drill"]["id"])
    result = suppressed(report)
    lines = [f"{result['drill']['name']}: {_count(result['participants'])} participants"]
    for row in result["funnel"]:
        lines.append(f"  {row['stage']:<22} {_count(row['count'])}")
    lines += time_to_safe_lines(result["time_to_safe"])
    _emit(result, as_json, lines)


# ---------------------------------------------------------------- drills: time to safe (issue 16)


def time_to_safe_report(engine, drill_id: int) -> dict[str, Any]:
    """Turnbull beside Kaplan–Meier and the Cox model of the drill's time to safe."""
    from compositions.time_to_safe import drill_time_to_safe

    return drill_time_to_safe(engine, _research_viewer(), drill_id)


def time_to_safe_lines(tts: dict[str, Any]) -> list[str]:
    """The text output of the time-to-safe models (already suppressed)."""
    median = tts.get("turnbull_median")
    lines = [
        f"  time to safe ({tts['event']}): {_count(tts['observed'])} of {_count(tts['n'])} "
        f"safe; Turnbull median in ({_fmt(median[0], 1)}, {_fmt(median[1], 1)}] min"
        if median
        else f"  time to safe ({tts['event']}): Turnbull median not reached",
        f"    Kaplan-Meier median (arrival records as exact): {_fmt(tts['km_median'], 1)} min",
    ]
    ph = {row["term"]: row for row in tts.get("ph_test", [])}
    for row in tts.get("cox", []):
        check = ph.get(row["term"], {}).get("p")
        lines.append(
            f"    HR {row['term']:<22} {_fmt(row['hazard_ratio'], 2)} "
            f"[{_fmt(row['ci_low'], 2)}, {_fmt(row['ci_high'], 2)}] p {_fmt(row['p'], 3)} "
            f"(n {_count(row['n'])}; PH check p {_fmt(check, 3)})"
        )
    return lines
