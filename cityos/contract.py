"""The city-OS contract's enumerations, once: the connector's payloads
(:mod:`cityos.payloads`) and the reference city OS (:mod:`cityos.reference_server.app`) type
their fields with these, and ``tests/cityos/test_contract_enums.py`` holds each to its schema in
``cityos/openapi.yaml`` (``components/schemas``).

The codes the city OS sends are the codes we store (:mod:`bosai.vocab`), so the enumerations
that are also our vocabulary are built from it.
"""

from __future__ import annotations

from typing import Literal

from bosai.vocab import CONSENT_EVENTS, DATA_ITEMS, SHARE_TARGETS, STATUS_STATES

#: ``StatusState``: a citizen's safety/evacuation state.
StatusState = Literal[STATUS_STATES]
#: ``DataItem``: what a consent is about.
DataItem = Literal[DATA_ITEMS]
#: ``ShareTarget``: whom a consent shares with.
ShareTarget = Literal[SHARE_TARGETS]
#: ``ConsentState``: a consent decision.
ConsentState = Literal[CONSENT_EVENTS]
#: ``EventKind``: what a live event of the feed carries.
EventKind = Literal["status", "location", "rescue_request", "arrival"]

#: Data item → the field of the user payload it covers (the opt-in check on both sides of the
#: boundary: the city OS leaves out, and the connector drops, the fields not consented to).
ITEM_FIELDS: dict[str, str] = {
    "basic_info": "basic_info",
    "household_link": "household",
    "safety_status": "safety_status",
    "location": "location",
    "support_register": "support_register",
    "profile_image": "profile_image",
}
#: Event kind → the data items that must all be in force for the event to cross the boundary.
EVENT_ITEMS: dict[str, tuple[str, ...]] = {
    "status": ("safety_status",),
    "arrival": ("safety_status",),
    "location": ("location",),
    "rescue_request": ("safety_status", "location"),
}

#: The enumerations by their schema name in ``cityos/openapi.yaml``.
SCHEMA_ENUMS = {
    "StatusState": StatusState,
    "DataItem": DataItem,
    "ShareTarget": ShareTarget,
    "ConsentState": ConsentState,
    "EventKind": EventKind,
}
