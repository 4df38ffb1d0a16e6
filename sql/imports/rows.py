"""Small pieces the imports' database checks and row builders share: a problem at a record's
place in its file, a record's attributes as columns, a geometry's bounding-box columns."""

from __future__ import annotations

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


def bounds_columns(geometry: Any) -> dict[str, float]:
    """A geometry's bounding box as the ``min_lon``, ``min_lat``, ``max_lon``, ``max_lat``
    columns every table with a polygon keeps beside its WKB."""
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}
