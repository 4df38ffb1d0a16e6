"""Write individual evacuation plans read by :mod:`importers.evacuation_plans`: all or nothing.

Each row is checked against the database first — the person must be a citizen on the
evacuation-support register, the destination a known shelter (by name or any of its IDs;
a 福祉避難所 row must name a welfare shelter). Any problem refuses the whole file
(:class:`bosai.errors.InvalidInputError` with ``FILE:ROW:COLUMN`` lines) and nothing is
written. Plans are upserted by person; a re-import of the same file changes nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.errors import InvalidInputError
from importers.evacuation_plans import PlanRecord
from importers.problems import Problem, quoted, reason

from .. import audit
from ..models import Citizen, EvacuationPlan, Shelter, SupportRegisterEntry
from ..models.base import utcnow
from ..viewer import Viewer
from .rows import row_problem
from .summary import ImportSummary

PLAN_FIELDS = (
    "destination_kind",
    "destination_shelter_id",
    "destination_note",
    "supporters",
    "transport",
    "transport_note",
    "notes",
)


def _lookups(conn: Connection) -> tuple[dict[str, int], set[int], dict[str, list[int]], set[int]]:
    c = Citizen.__table__
    reg = SupportRegisterEntry.__table__
    s = Shelter.__table__
    subjects = dict(conn.execute(sa.select(c.c.subject, c.c.id)).all())
    registered = set(conn.execute(sa.select(reg.c.citizen_id)).scalars().all())
    shelters: dict[str, list[int]] = {}
    welfare: set[int] = set()
    for row in conn.execute(
        sa.select(
            s.c.id, s.c.name, s.c.standard_id, s.c.gsi_id, s.c.local_id, s.c.is_welfare_shelter
        )
    ):
        for key in {row.name, row.standard_id, row.gsi_id, row.local_id, str(row.id)} - {None}:
            shelters.setdefault(key, []).append(int(row.id))
        if row.is_welfare_shelter:
            welfare.add(int(row.id))
    return subjects, registered, shelters, welfare


def resolve(
    conn: Connection, records: list[PlanRecord]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows for :class:`~sql.models.EvacuationPlan` (keyed by ``citizen_id``) and the problems
    found against the database."""
    subjects, registered, shelters, welfare = _lookups(conn)
    rows, problems = [], []
    for r in records:
        citizen = subjects.get(r.subject)
        if citizen is None:
            problems.append(
                row_problem(r, "利用者ID", "plan_unknown_person", value=quoted(r.subject))
            )
            continue
        if citizen not in registered:
            problems.append(
                row_problem(r, "利用者ID", "plan_not_registered", value=quoted(r.subject))
            )
            continue
        shelter_id = None
        if r.destination is not None:
            found = shelters.get(r.destination, [])
            if len(found) != 1:
                key = "plan_unknown_shelter" if not found else "plan_ambiguous_shelter"
                problems.append(
                    row_problem(r, r.destination_column, key, value=quoted(r.destination))
                )
                continue
            shelter_id = found[0]
            if r.destination_kind == "welfare_shelter" and shelter_id not in welfare:
                problems.append(
                    row_problem(
                        r, r.destination_column, "plan_not_welfare", value=quoted(r.destination)
                    )
                )
                continue
        rows.append(
            {
                "citizen_id": citizen,
                "destination_kind": r.destination_kind,
                "destination_shelter_id": shelter_id,
                "destination_note": r.destination_note,
                "supporters": r.supporters,
                "transport": r.transport,
                "transport_note": r.transport_note,
                "notes": r.notes,
            }
        )
    return rows, problems


def import_plans(
    engine: Engine,
    viewer: Viewer,
    records: list[PlanRecord],
    source: str,
    *,
    dry_run: bool = False,
    problems: list[Problem] | None = None,
) -> ImportSummary:
    """Check and write the plans in one transaction (nothing on any problem)."""
    summary = ImportSummary("plans", dry_run=dry_run)
    p = EvacuationPlan.__table__
    with engine.begin() as conn:
        rows, found = resolve(conn, records)
        found = [*(problems or []), *found]
        if found:
            raise InvalidInputError(
                reason("importers.error.invalid_plans"), [str(x) for x in found]
            )
        if not rows:
            raise InvalidInputError(reason("importers.error.nothing_valid"))
        existing = {
            r.citizen_id: r
            for r in conn.execute(
                sa.select(p).where(p.c.citizen_id.in_([x["citizen_id"] for x in rows]))
            )
        }
        now = utcnow()
        changed_ids = []
        for row in rows:
            before = existing.get(row["citizen_id"])
            if before is None:
                summary.note_added(row["citizen_id"])
                if not dry_run:
                    conn.execute(
                        sa.insert(p).values(
                            **row,
                            source=source,
                            updated_at=now,
                            updated_by=viewer.subject,
                            version=1,
                        )
                    )
            elif any(getattr(before, f) != row[f] for f in PLAN_FIELDS):
                summary.note_changed(row["citizen_id"])
                if not dry_run:
                    conn.execute(
                        sa.update(p)
                        .where(p.c.id == before.id)
                        .values(
                            **row,
                            source=source,
                            updated_at=now,
                            updated_by=viewer.subject,
                            version=before.version + 1,
                        )
                    )
            else:
                summary.unchanged += 1
                continue
            changed_ids.append(row["citizen_id"])
        if not dry_run and changed_ids:
            audit.append(
                conn,
                viewer,
                "write:plans_imported",
                target=f"evacuation_plans:{source}"[:200],
                citizen_ids=changed_ids,
                details={
                    "added": summary.added,
                    "changed": summary.changed,
                    "unchanged": summary.unchanged,
                },
            )
    return summary
