"""Hazard zones into the database, upserted by their stable ``source_key``.

Geometry is stored as WKB in WGS84 with its bounding box; on PostgreSQL the ``geom`` column is
generated from the WKB by the database (never written here). With ``replace`` the zones of the
same dataset and kind that the new file no longer has are removed (a new edition of a map
supersedes the old one).
"""

from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from importers.hazard_zones import HazardZoneRecord

from ..models import HazardZone
from ..models.base import utcnow
from .rows import GEOMETRY_COLUMNS, bounds_columns, record_columns
from .summary import ImportSummary
from .write_scope import write_session

_COMPARED = (
    "kind",
    "rank_code",
    "rank_label",
    "depth_min_m",
    "depth_max_m",
    "phenomenon",
    "source_dataset",
    "name",
    "attributes",
    "geom_wkb",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
)

#: The columns a zone takes from its record as they are.
_RECORD_COLUMNS = ("source_key", *(c for c in _COMPARED if c not in GEOMETRY_COLUMNS))


def zone_values(record: HazardZoneRecord) -> dict[str, Any]:
    return {
        **record_columns(record, _RECORD_COLUMNS),
        "geom_wkb": shapely.to_wkb(record.geometry, output_dimension=2, byte_order=1),
        **bounds_columns(record.geometry),
        "is_synthetic": False,
    }


def upsert_hazard_zones(
    target: Engine | Session,
    records: list[HazardZoneRecord],
    *,
    dry_run: bool = False,
    replace: bool = False,
) -> ImportSummary:
    summary = ImportSummary("hazards", dry_run=dry_run)
    now = utcnow()
    with write_session(target, dry_run) as session:
        keys = [r.source_key for r in records]
        existing: dict[str, dict[str, Any]] = {}
        for chunk in range(0, len(keys), 500):
            rows = session.execute(
                sa.select(
                    HazardZone.id,
                    *(getattr(HazardZone, c) for c in _COMPARED),
                    HazardZone.source_key,
                ).where(HazardZone.source_key.in_(keys[chunk : chunk + 500]))
            ).mappings()
            existing.update({row["source_key"]: dict(row) for row in rows})
        inserts, updates = [], []
        for record in records:
            values = zone_values(record)
            old = existing.get(record.source_key)
            if old is None:
                inserts.append({**values, "imported_at": now})
                summary.note_added(
                    f"{record.source_key} {record.rank_label or ''} {record.name or ''}".rstrip()
                )
                continue
            changed = [c for c in _COMPARED if _differs(old[c], values[c])]
            if not changed:
                summary.unchanged += 1
                continue
            updates.append({"id": old["id"], **{c: values[c] for c in changed}, "imported_at": now})
            summary.note_changed(f"{record.source_key}: {', '.join(changed)}")
        if inserts:
            session.execute(sa.insert(HazardZone), inserts)
        if updates:
            session.execute(sa.update(HazardZone), updates)
        if replace and records:
            wanted = set(keys)
            for kind, dataset in sorted({(r.kind, r.source_dataset) for r in records}):
                stored = session.execute(
                    sa.select(HazardZone.id, HazardZone.source_key).where(
                        HazardZone.kind == kind, HazardZone.source_dataset == dataset
                    )
                ).all()
                stale = [(zone_id, key) for zone_id, key in stored if key not in wanted]
                for _zone_id, key in stale:
                    summary.removed += 1
                    summary.diff.append(f"- {key}")
                if stale:
                    session.execute(
                        sa.delete(HazardZone).where(HazardZone.id.in_([z for z, _ in stale]))
                    )
    return summary


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, memoryview):
        old = bytes(old)
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) > 1e-12
    return old != new
