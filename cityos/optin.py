"""The opt-in check on our side of the boundary.

The city OS is supposed to leave out every data item a citizen has not consented to share with
our share target; we do not rely on it. A user's data items are kept only while the user's own
consent list (in the same payload) has that item in force for our share target; an event is
kept only while the consents it needs are in force. Whatever fails the check is dropped here,
before anything is written, and never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from . import payloads as p
from .contract import EVENT_ITEMS, ITEM_FIELDS


def items_in_force(consents: Iterable[p.Consent], share_target: str, at: dt.datetime) -> set[str]:
    """Data items whose consent for ``share_target`` is in force at ``at``."""
    return {c.data_item for c in consents if c.share_target == share_target and c.in_force(at)}


def filter_user(
    user: p.User, share_target: str, at: dt.datetime
) -> tuple[p.User, set[str], list[str]]:
    """The user with every unconsented data item removed.

    Returns (filtered user, items in force, fields that arrived without consent and were
    dropped).
    """
    allowed = items_in_force(user.consents, share_target, at)
    dropped = [
        field
        for item, field in ITEM_FIELDS.items()
        if item not in allowed and getattr(user, field) is not None
    ]
    if not dropped:
        return user, allowed, []
    return user.model_copy(update=dict.fromkeys(dropped)), allowed, dropped


def event_allowed(event: p.Event, allowed_items: set[str]) -> bool:
    return all(item in allowed_items for item in EVENT_ITEMS[event.kind])
