"""Open periods of shelters derived from open-shelter snapshots.

A shelter listed in consecutive snapshots was open from the first of them until the next
snapshot that no longer lists it (still open when the latest snapshot lists it). The periods
are recomputed from every imported head count of the incident, and only the changes are
written, so re-importing the same snapshots changes nothing.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ShelterOccupancy, ShelterOperation

#: ``opened_by`` of periods this module owns (staff-entered periods are never touched).
IMPORT_ACTOR = "import"
REASON = "開設中の避難所一覧（避難者数の取込）から / from imported open-shelter snapshots"


def open_periods(
    presence: dict[int, set[dt.datetime]], snapshot_times: list[dt.datetime]
) -> dict[tuple[int, dt.datetime], dt.datetime | None]:
    """``{(shelter_id, opened_at): closed_at}`` from which shelters each snapshot lists."""
    times = sorted(set(snapshot_times))
    periods: dict[tuple[int, dt.datetime], dt.datetime | None] = {}
    for shelter_id, seen in presence.items():
        opened: dt.datetime | None = None
        for moment in times:
            if moment in seen and opened is None:
                opened = moment
            elif moment not in seen and opened is not None:
                periods[(shelter_id, opened)] = moment
                opened = None
        if opened is not None:
            periods[(shelter_id, opened)] = None
    return periods


def sync_open_periods(session: Session, incident_id: int, source: str) -> tuple[int, int, int]:
    """Bring the incident's imported open periods in line with its head counts.

    Returns ``(added, changed, removed)``.
    """
    rows = session.execute(
        sa.select(ShelterOccupancy.shelter_id, ShelterOccupancy.observed_at).where(
            ShelterOccupancy.incident_id == incident_id, ShelterOccupancy.source == source
        )
    ).all()
    presence: dict[int, set[dt.datetime]] = {}
    for shelter_id, observed_at in rows:
        presence.setdefault(shelter_id, set()).add(observed_at)
    desired = open_periods(presence, [t for _, t in rows])
    existing = {
        (op.shelter_id, op.opened_at): op
        for op in session.scalars(
            sa.select(ShelterOperation).where(
                ShelterOperation.incident_id == incident_id,
                ShelterOperation.opened_by == IMPORT_ACTOR,
            )
        )
    }
    added = changed = removed = 0
    for key, closed_at in desired.items():
        op = existing.pop(key, None)
        if op is None:
            session.add(
                ShelterOperation(
                    shelter_id=key[0],
                    incident_id=incident_id,
                    opened_at=key[1],
                    closed_at=closed_at,
                    opened_by=IMPORT_ACTOR,
                    closed_by=IMPORT_ACTOR if closed_at else None,
                    reason=REASON,
                )
            )
            added += 1
        elif op.closed_at != closed_at:
            op.closed_at = closed_at
            op.closed_by = IMPORT_ACTOR if closed_at else None
            changed += 1
    for op in existing.values():
        session.delete(op)
        removed += 1
    session.flush()
    return added, changed, removed
