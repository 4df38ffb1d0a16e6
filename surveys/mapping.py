"""Mapping files: tell the importer what an export's columns and labels mean.

A mapping is YAML::

    instrument: drill-2022          # optional; checked against --instrument
    columns:                        # export header -> item id, or "ignore"
      "Q1 あなたの参加区分": participant_type
      "備考": ignore
    values:                         # extra answer labels per item -> option code or number
      participant_type: {"町内会の方": resident}
      ui_easy: {"簡単": 5}
    respondent_key: 回答番号         # column holding a stable respondent id (optional)
    timestamp: 回答日時              # column holding the submission time (optional)
    timezone: Asia/Tokyo            # of naive timestamps (default Asia/Tokyo)
    on_duplicate: error             # error | keep_first | keep_last

>>> m = parse_mapping({"columns": {"Q1": "age_band"}}, "m.yaml", known_items={"age_band"})
>>> m.columns, m.on_duplicate
({'q1': 'age_band'}, 'error')
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bosai.errors import InvalidInputError

from .instrument import normalise

ON_DUPLICATE = ("error", "keep_first", "keep_last")
IGNORE = "ignore"


@dataclasses.dataclass(frozen=True)
class Mapping:
    name: str = ""
    instrument: str | None = None
    #: normalised header -> item id (or ``"ignore"``)
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    #: item id -> {normalised label: code or number}
    values: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    respondent_key: str | None = None
    timestamp: str | None = None
    timezone: str = "Asia/Tokyo"
    on_duplicate: str = "error"


def parse_mapping(raw: Any, name: str, known_items: set[str]) -> Mapping:
    problems: list[str] = []
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{name}: a mapping file must be a YAML mapping")
    allowed = {
        "instrument",
        "columns",
        "values",
        "respondent_key",
        "timestamp",
        "timezone",
        "on_duplicate",
    }
    for key in raw:
        if key not in allowed:
            problems.append(f"{name}:{key}: unknown key (expected {', '.join(sorted(allowed))})")
    columns: dict[str, str] = {}
    for header, item in (raw.get("columns") or {}).items():
        item = str(item)
        if item != IGNORE and item not in known_items:
            problems.append(f"{name}:columns.{header}: {item!r} is not an item of the instrument")
        columns[normalise(header)] = item
    values: dict[str, dict[str, Any]] = {}
    for item, labels in (raw.get("values") or {}).items():
        if item not in known_items:
            problems.append(f"{name}:values.{item}: not an item of the instrument")
            continue
        if not isinstance(labels, dict):
            problems.append(f"{name}:values.{item}: expected label: value pairs")
            continue
        values[item] = {normalise(k): v for k, v in labels.items()}
    on_duplicate = str(raw.get("on_duplicate", "error"))
    if on_duplicate not in ON_DUPLICATE:
        problems.append(f"{name}:on_duplicate: must be one of {', '.join(ON_DUPLICATE)}")
    timezone = str(raw.get("timezone", "Asia/Tokyo"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{name}:timezone: unknown time zone {timezone!r}")
    if problems:
        raise InvalidInputError(f"{name}: invalid mapping file", problems)
    return Mapping(
        name=name,
        instrument=str(raw["instrument"]) if raw.get("instrument") else None,
        columns=columns,
        values=values,
        respondent_key=normalise(raw["respondent_key"]) if raw.get("respondent_key") else None,
        timestamp=normalise(raw["timestamp"]) if raw.get("timestamp") else None,
        timezone=timezone,
        on_duplicate=on_duplicate,
    )


def load_mapping(path: str | Path, known_items: set[str], instrument_id: str) -> Mapping:
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such mapping file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{path.name}: not a readable YAML file", [f"{path.name}:1: {exc}"]
        ) from exc
    mapping = parse_mapping(raw, path.name, known_items)
    if mapping.instrument and mapping.instrument != instrument_id:
        raise InvalidInputError(
            f"{path.name}: the mapping is for instrument {mapping.instrument!r}, not {instrument_id!r}"
        )
    return mapping
