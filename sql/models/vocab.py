"""The controlled vocabularies as database columns: a portable string enum with a CHECK.

The codes themselves live in the leaf module :mod:`bosai.vocab` (anyone may import it without
loading the models); they are imported here for the models and for the modules of ``sql`` and
``dashboard`` that still name them through this module.
"""

from __future__ import annotations

import sqlalchemy as sa

from bosai.vocab import (
    COLLECTION_METHODS,
    CONSENT_EVENTS,
    DATA_ITEMS,
    DRILL_EVENT_TYPES,
    FOLLOW_UP_METHODS,
    FOLLOW_UP_OUTCOMES,
    FOLLOW_UP_STATUSES,
    HAZARD_KINDS,
    HAZARD_ZONE_KINDS,
    INCIDENT_KINDS,
    JMA_WARNING_STATUSES,
    NOTIFICATION_EVENTS,
    NOTIFICATION_TARGET_KINDS,
    OBSERVATION_OUTCOMES,
    OBSERVATION_SOURCES,
    PLAN_DESTINATIONS,
    PLAN_TRANSPORTS,
    REPORT_SOURCES,
    RESCUE_OPEN_STATUSES,
    RESCUE_PRIORITIES,
    RESCUE_STATUSES,
    RESCUE_TRANSITIONS,
    SAFE_STATES,
    SHARE_TARGETS,
    STAFF_ROLES,
    STATUS_STATES,
    STAY_ENDINGS,
    STAY_METHODS,
    STAY_PLACES,
    WALK_IN_AGE_BANDS,
)

__all__ = [
    "STATUS_STATES",
    "SAFE_STATES",
    "REPORT_SOURCES",
    "DATA_ITEMS",
    "SHARE_TARGETS",
    "CONSENT_EVENTS",
    "COLLECTION_METHODS",
    "RESCUE_STATUSES",
    "RESCUE_OPEN_STATUSES",
    "RESCUE_TRANSITIONS",
    "RESCUE_PRIORITIES",
    "HAZARD_KINDS",
    "HAZARD_ZONE_KINDS",
    "INCIDENT_KINDS",
    "STAFF_ROLES",
    "JMA_WARNING_STATUSES",
    "NOTIFICATION_TARGET_KINDS",
    "NOTIFICATION_EVENTS",
    "DRILL_EVENT_TYPES",
    "STAY_PLACES",
    "STAY_METHODS",
    "STAY_ENDINGS",
    "WALK_IN_AGE_BANDS",
    "OBSERVATION_SOURCES",
    "OBSERVATION_OUTCOMES",
    "FOLLOW_UP_STATUSES",
    "FOLLOW_UP_METHODS",
    "FOLLOW_UP_OUTCOMES",
    "PLAN_DESTINATIONS",
    "PLAN_TRANSPORTS",
    "enum",
]


def enum(values: tuple[str, ...], name: str, length: int = 32) -> sa.Enum:
    """A portable string enum: VARCHAR plus a named CHECK constraint on every database."""
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
    )
