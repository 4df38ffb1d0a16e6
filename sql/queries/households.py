"""Households by their city-OS identifiers (ids only, for choosing notification targets)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..models import Citizen, Household


def members_of(engine: Engine, household_external_ids: Iterable[str]) -> np.ndarray:
    """Ids of the citizens in the households with these external ids (unknown ids ignored)."""
    wanted = sorted({str(h) for h in household_external_ids if str(h).strip()})
    if not wanted:
        return np.empty(0, dtype=np.int64)
    c = Citizen.__table__
    h = Household.__table__
    with engine.connect() as conn:
        ids = (
            conn.execute(
                sa.select(c.c.id)
                .join(h, h.c.id == c.c.household_id)
                .where(h.c.external_id.in_(wanted))
            )
            .scalars()
            .all()
        )
    return np.asarray(sorted(ids), dtype=np.int64)
