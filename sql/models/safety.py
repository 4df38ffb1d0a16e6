"""The safety loop (安否確認): who is where, who told us what, who is being followed up.

* :class:`EvacueeStay` — an evacuee's stay: checked in at a shelter's reception (受付), or at
  home (在宅避難) or in a car (車中泊) as recorded by headquarters or a rescue team. At most one
  open stay per person and incident (a partial unique index), so two staff checking in the
  same person at once cannot double them.
* :class:`WalkIn` — someone at a shelter who is not in the system (name, age band, household
  size, needs), typed in by shelter staff.
* :class:`SafetyObservation` — what a source other than the person's own app told us about a
  known citizen (reception, supporter, family, rescue, a follow-up call or visit, HQ), with its
  time. Append-only: the history is kept; the merged state is derived (:mod:`analytics.safety_merge`).
* :class:`FollowUp` / :class:`FollowUpEvent` — a call or a visit to someone not yet accounted
  for, with an optimistic ``version`` like rescue requests.
* :class:`EvacuationPlan` — the individual evacuation plan (個別避難計画) of a register person.

Personal data: read only through :mod:`sql.policy`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bosai.vocab import (
    FOLLOW_UP_METHODS,
    FOLLOW_UP_STATUSES,
    OBSERVATION_OUTCOMES,
    OBSERVATION_SOURCES,
    PLAN_DESTINATIONS,
    PLAN_TRANSPORTS,
    STAY_ENDINGS,
    STAY_METHODS,
    STAY_PLACES,
    WALK_IN_AGE_BANDS,
)

from .base import Base, utcnow
from .vocab import enum


class WalkIn(Base):
    """Someone who came to a shelter without being in the system (未登録の来所者)."""

    __tablename__ = "walk_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The incident id, or 0 outside any incident.
    incident_key: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kana: Mapped[str | None] = mapped_column(sa.String(100))
    age_band: Mapped[str] = mapped_column(enum(WALK_IN_AGE_BANDS, "walk_in_age_band"))
    #: People who came together (the walk-in and their household), counted at the shelter.
    household_size: Mapped[int] = mapped_column(default=1)
    needs: Mapped[str | None] = mapped_column(sa.Text)
    #: A known citizen staff found to be this person after all (the match was confirmed).
    matched_citizen_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(128))


class EvacueeStay(Base):
    """One stay of an evacuee: at a shelter (reception), at home or in a car."""

    __tablename__ = "evacuee_stays"
    __table_args__ = (
        # One open stay per person and incident: a second check-in of the same person at the
        # same moment fails here instead of doubling them (SQLite and PostgreSQL alike).
        sa.Index(
            "uq_evacuee_stays_open_citizen",
            "incident_key",
            "citizen_id",
            unique=True,
            sqlite_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
            postgresql_where=sa.text("left_at IS NULL AND citizen_id IS NOT NULL"),
        ),
        sa.Index("ix_evacuee_stays_incident_shelter", "incident_key", "shelter_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[int]
    citizen_id: Mapped[int | None] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    walk_in_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("walk_ins.id", ondelete="CASCADE"), index=True
    )
    place_kind: Mapped[str] = mapped_column(enum(STAY_PLACES, "stay_place"))
    shelter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="SET NULL")
    )
    #: Where exactly (free text): the car park of a 車中泊, the address of a 在宅避難.
    place: Mapped[str | None] = mapped_column(sa.String(200))
    #: People recorded together (a household at reception) share this key.
    party: Mapped[str] = mapped_column(sa.String(40))
    method: Mapped[str] = mapped_column(enum(STAY_METHODS, "stay_method"))
    arrived_at: Mapped[dt.datetime]
    arrived_by: Mapped[str] = mapped_column(sa.String(128))
    left_at: Mapped[dt.datetime | None]
    left_by: Mapped[str | None] = mapped_column(sa.String(128))
    end_reason: Mapped[str | None] = mapped_column(enum(STAY_ENDINGS, "stay_ending"))
    #: The stay that followed a move.
    moved_to: Mapped[int | None]


class SafetyObservation(Base):
    """What a source other than the person's own app answer told about a known citizen."""

    __tablename__ = "safety_observations"
    __table_args__ = (
        sa.Index("ix_safety_observations_incident_citizen", "incident_key", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[int]
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(enum(OBSERVATION_SOURCES, "observation_source"))
    outcome: Mapped[str] = mapped_column(enum(OBSERVATION_OUTCOMES, "observation_outcome"))
    observed_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(128))
    shelter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="SET NULL")
    )
    place: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.Text)
    stay_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("evacuee_stays.id", ondelete="SET NULL")
    )
    follow_up_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("follow_ups.id", ondelete="SET NULL")
    )


class FollowUp(Base):
    """A call or a visit to someone not yet accounted for; ``version`` for concurrent staff."""

    __tablename__ = "follow_ups"
    __table_args__ = (sa.UniqueConstraint("incident_key", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[int]
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("citizens.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(enum(FOLLOW_UP_STATUSES, "follow_up_status"))
    method: Mapped[str | None] = mapped_column(enum(FOLLOW_UP_METHODS, "follow_up_method"))
    #: The caller or the visiting team.
    assignee: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(128))
    #: Incremented on every change; a change names the version it read (optimistic locking).
    version: Mapped[int] = mapped_column(default=1)


class FollowUpEvent(Base):
    """One row per change of a follow-up (its history)."""

    __tablename__ = "follow_up_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        sa.ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(enum(FOLLOW_UP_STATUSES, "follow_up_from"))
    to_status: Mapped[str] = mapped_column(enum(FOLLOW_UP_STATUSES, "follow_up_to"))
    method: Mapped[str | None] = mapped_column(enum(FOLLOW_UP_METHODS, "follow_up_event_method"))
    assignee: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(128))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvacuationPlan(Base):
    """個別避難計画 (災害対策基本法 第49条の14): destination, supporters, transport."""

    __tablename__ = "evacuation_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        sa.ForeignKey("citizens.id", ondelete="CASCADE"), unique=True
    )
    destination_kind: Mapped[str] = mapped_column(enum(PLAN_DESTINATIONS, "plan_destination"))
    destination_shelter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shelters.id", ondelete="SET NULL")
    )
    #: Where, when not a shelter in our list (a relative's home, a care facility).
    destination_note: Mapped[str | None] = mapped_column(sa.String(200))
    #: ``[{"name": ..., "phone": ..., "relation": ...}, ...]`` in order of contact.
    supporters: Mapped[list[Any]] = mapped_column(default=list)
    transport: Mapped[str] = mapped_column(enum(PLAN_TRANSPORTS, "plan_transport"))
    transport_note: Mapped[str | None] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    #: Where the plan came from: the imported file's name, or ``admin`` for an edit.
    source: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(128))
    version: Mapped[int] = mapped_column(default=1)
