"""What staff do: every write a page or a command makes during an incident.

Each action checks the viewer's role, writes in one transaction, appends to the incident
activity log (:class:`~sql.models.IncidentActivity`) and to the audit chain (:mod:`sql.audit`).
"""

from __future__ import annotations

from bosai.errors import BosaiError


class ActionRefused(BosaiError):
    """The viewer's role may not take this action, or the action is not possible now."""


class ConflictError(BosaiError):
    """Someone else changed the record since it was read (optimistic concurrency)."""

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current or {}
