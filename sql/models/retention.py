"""What retention keeps when it deletes personal data: per-incident daily counts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class IncidentDailyCount(Base):
    """One count per incident, day (Asia/Tokyo) and measure, kept after the rows it counts
    were deleted by ``bosai retention apply`` (e.g. ``location_fixes``, ``location_citizens``,
    ``safety_messages``)."""

    __tablename__ = "incident_daily_counts"
    __table_args__ = (sa.UniqueConstraint("incident_key", "day", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The incident id, or 0 for data outside any incident (normal times).
    incident_key: Mapped[int]
    day: Mapped[dt.date]
    measure: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
