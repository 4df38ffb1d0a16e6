"""Small pieces the imports' database checks and row builders share: a problem at a record's
place in its file, the columns a record type is stored in, a record's attributes as columns, a geometry's
bounding-box columns."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from importers.problems import Problem, reason


class _Located(Protocol):
    file: str
    row: int


def row_problem(record: _Located, column: str, problem: str, **values: Any) -> Problem:
    """A problem of ``record``'s row in its file: ``problem`` is the catalog key under
    ``importers.problem`` (``unknown_station`` …), ``values`` fill its reason."""
    return Problem(
        record.file, record.row, column, reason(f"importers.problem.{problem}", **values)
    )


def record_columns(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The record's attributes of these names, as the columns of the same names."""
    return {name: getattr(record, name) for name in names}


#: The bounding-box columns every table with a polygon keeps beside its WKB.
BOUNDS_COLUMNS = ("min_lon", "min_lat", "max_lon", "max_lat")
#: The columns a record's ``geometry`` is stored in.
GEOMETRY_COLUMNS = ("geom_wkb", *BOUNDS_COLUMNS)


def stored_columns(record_type: type, key: str) -> tuple[str, ...]:
    """The columns a record type is stored in, in the order of its fields: each field by its
    own name, its ``geometry`` as :data:`GEOMETRY_COLUMNS` — but neither where it was read
    (``file``, ``row``) nor its ``key``."""
    columns: list[str] = []
    for field in dataclasses.fields(record_type):
        if field.name == "geometry":
            columns += GEOMETRY_COLUMNS
        elif field.name not in ("file", "row", key):
            columns.append(field.name)
    return tuple(columns)


def bounds_columns(geometry: Any) -> dict[str, float]:
    """A geometry's bounding box as the :data:`BOUNDS_COLUMNS`."""
    return dict(zip(BOUNDS_COLUMNS, geometry.bounds, strict=True))
