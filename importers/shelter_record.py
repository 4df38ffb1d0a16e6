"""One shelter as read from a file, with fields named like the ``Shelter`` model's columns.

A field left ``None`` means "this source does not say" — the write side never overwrites a
known value with it. (The GSI 指定避難所 file, for example, has no hazard flags: importing it
must not clear the flags the 指定緊急避難場所 file set.)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bosai.vocab import HAZARD_KINDS

from .problems import Problem

#: The eight hazard flags in their published order, as shelter columns.
HAZARD_FLAG_COLUMNS = tuple(f"hazard_{kind}" for kind in HAZARD_KINDS)

#: Shelter model columns a reader may fill.
SHELTER_COLUMNS = (
    "standard_id",
    "gsi_id",
    "local_id",
    "municipality_code",
    "name",
    "kana",
    "address",
    "district",
    "lat",
    "lon",
    "elevation_m",
    "capacity",
    "capacity_text",
    *HAZARD_FLAG_COLUMNS,
    "is_emergency_site",
    "is_designated_shelter",
    "is_welfare_shelter",
    "target_groups",
    "barrier_free",
    "pets_allowed",
    "phone",
    "notes",
    "source",
    "is_synthetic",
)


@dataclasses.dataclass
class RecordOrigin:
    """Where a record came from: for messages and for the rejects file."""

    file: str
    row: int
    raw: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ShelterRecord:
    name: str
    lat: float
    lon: float
    source: str  # gsi, standard, occupancy, demo, city_os
    #: Which published list the record comes from (not a column; used to match duplicates):
    #: gsi_emergency_site, gsi_shelter, standard_emergency_site, occupancy, demo, ...
    dataset: str = ""
    standard_id: str | None = None
    gsi_id: str | None = None
    local_id: str | None = None
    municipality_code: str | None = None
    kana: str | None = None
    address: str | None = None
    district: str | None = None
    elevation_m: float | None = None
    capacity: int | None = None
    capacity_text: str | None = None
    hazard_flood: bool | None = None
    hazard_landslide: bool | None = None
    hazard_storm_surge: bool | None = None
    hazard_earthquake: bool | None = None
    hazard_tsunami: bool | None = None
    hazard_large_fire: bool | None = None
    hazard_inland_flood: bool | None = None
    hazard_volcano: bool | None = None
    is_emergency_site: bool | None = None
    is_designated_shelter: bool | None = None
    is_welfare_shelter: bool | None = None
    target_groups: str | None = None
    barrier_free: bool | None = None
    pets_allowed: bool | None = None
    phone: str | None = None
    notes: str | None = None
    is_synthetic: bool = False
    #: The ID as published in a standard list (unique within its municipality only).
    published_id: str | None = None
    #: Names as published, to find the city when the file has no municipality code.
    prefecture_name: str | None = None
    municipality_name: str | None = None
    origin: RecordOrigin | None = None

    def column_values(self) -> dict[str, Any]:
        """The model columns this record knows (``None`` fields left out)."""
        return {
            name: getattr(self, name) for name in SHELTER_COLUMNS if getattr(self, name) is not None
        }

    @property
    def has_hazard_flags(self) -> bool:
        return any(getattr(self, name) is not None for name in HAZARD_FLAG_COLUMNS)

    @property
    def identity(self) -> str:
        """The record's stable ID as a short text for messages."""
        for scheme in ("standard_id", "gsi_id", "local_id"):
            value = getattr(self, scheme)
            if value:
                return f"{scheme}={value}"
        return f"name={self.name}"


@dataclasses.dataclass
class ShelterBatch:
    """What a shelter reader returns: valid records, problems, and the rows they came from."""

    format: str  # gsi, standard
    files: list[Path]
    records: list[ShelterRecord]
    problems: list[Problem]
    #: Rows with problems (for ``--skip-invalid``'s rejects file), keyed by (file, row).
    rejected: dict[tuple[str, int], RecordOrigin] = dataclasses.field(default_factory=dict)
    #: Column names of the input as published (the rejects file repeats them).
    raw_columns: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def extend(self, other: ShelterBatch) -> None:
        self.files += other.files
        self.records += other.records
        self.problems += other.problems
        self.rejected.update(other.rejected)
        self.raw_columns.update(other.raw_columns)
