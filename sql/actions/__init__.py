"""What staff do: every write a page or a command makes during an incident.

Each action checks the viewer's role, writes in one transaction, appends to the incident
activity log (:class:`~sql.models.IncidentActivity`) and to the audit chain (:mod:`sql.audit`).
"""

from __future__ import annotations

from typing import Any

from bosai.errors import BosaiError


class ActionRefused(BosaiError):
    """The viewer's role may not take this action, or the action is not possible now."""


class ConflictError(BosaiError):
    """Someone else changed the record since it was read (optimistic concurrency)."""

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current or {}


class KeyedRefusal(ActionRefused):
    """A refusal with a catalog key (``key``) and its values, for the page to translate."""

    def __init__(self, key: str, message: str, **values: Any):
        super().__init__(message)
        self.key = key
        self.values = values
