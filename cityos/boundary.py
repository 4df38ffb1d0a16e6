"""The boundary of the city-OS feed: every record is checked field by field before it can reach
the database, and a record that fails goes to quarantine instead of stopping the sync.

Checks, per record (a user, a shelter, an event):

* **types and codes** — the pydantic models of :mod:`cityos.payloads` (missing required fields,
  wrong types, unknown enum codes such as a status state);
* **text** — no control characters in any string (U+0000 included, which PostgreSQL cannot
  store in text at all; tab and line breaks only in free-text messages), no unpaired
  surrogates (not UTF-8);
* **lengths** — every string fits the column it is written to (read from the table
  definitions, so a narrower column tightens the check by itself);
* **numbers** — integers fit the 32-bit columns they go to, no NaN or infinity;
* **time** — no consent decision dated more than five minutes in the future.

A failing record becomes a :class:`Quarantined` naming the field, a reason code (catalog
``cityos.quarantine.reason.<code>``) and its position in the feed; never the value itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from sql.consent import FUTURE_TOLERANCE
from sql.models import (
    Citizen,
    ConsentEvent,
    Household,
    RescueRequest,
    Shelter,
    SupportRegisterEntry,
)

from . import payloads as p

Model = TypeVar("Model", bound=BaseModel)

#: C0 controls, DEL and C1 controls; tab, LF and CR are checked separately (free text only).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
INT32_MAX = 2**31 - 1
#: The longest free text we store from the feed (the contract allows 1000 characters).
TEXT_MAX = 4000
#: The most characters of a record id kept in the quarantine table.
REF_MAX = 80

#: Free-text fields: line breaks and tabs allowed.
MULTILINE = frozenset(
    {
        "safety_status.message",
        "status.message",
        "rescue.needs",
        "support_register.needs",
    }
)


def _length(column: sa.orm.InstrumentedAttribute) -> int:
    length = getattr(column.property.columns[0].type, "length", None)
    return int(length) if length else TEXT_MAX


#: Dotted field path → the most characters its column holds (``*`` = any list index).
USER_LIMITS = {
    "subject": _length(Citizen.subject),
    "basic_info.name": _length(Citizen.name),
    "basic_info.kana": _length(Citizen.kana),
    "basic_info.address": _length(Citizen.address),
    "basic_info.district": _length(Citizen.district),
    "basic_info.phone": _length(Citizen.phone),
    "household.household_id": _length(Household.external_id),
    "consents.*.consent_id": _length(ConsentEvent.source_ref),
    "consents.*.purpose": _length(ConsentEvent.purpose),
    "consents.*.notice_version": _length(ConsentEvent.notice_version),
    "safety_status.shelter_id": _length(Shelter.local_id),
    "support_register.care_level": _length(SupportRegisterEntry.care_level),
    "support_register.supporter_name": _length(SupportRegisterEntry.supporter_name),
    "support_register.supporter_phone": _length(SupportRegisterEntry.supporter_phone),
    "support_register.supporter_relation": _length(SupportRegisterEntry.supporter_relation),
}
SHELTER_LIMITS = {
    "shelter_id": _length(Shelter.local_id),
    "standard_id": _length(Shelter.standard_id),
    "gsi_id": _length(Shelter.gsi_id),
    "name": _length(Shelter.name),
    "kana": _length(Shelter.kana),
    "address": _length(Shelter.address),
    "district": _length(Shelter.district),
    "hazards.*": 32,
}
EVENT_LIMITS = {
    "subject": _length(Citizen.subject),
    "exercise": 64,
    "status.shelter_id": _length(Shelter.local_id),
    "rescue.needs": _length(RescueRequest.needs),
}
LIMITS = {"user": USER_LIMITS, "shelter": SHELTER_LIMITS, "event": EVENT_LIMITS}
REF_FIELDS = {"user": "subject", "shelter": "shelter_id", "event": "event_id"}


@dataclasses.dataclass(frozen=True)
class Quarantined:
    """A record kept out of the data: what, where in the feed, which field, why."""

    kind: str
    record_ref: str | None
    position: str
    reason: str
    field: str | None = None
    detail: str | None = None

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """One line for logs and the CLI (no field values)."""
        ref = f" {self.record_ref}" if self.record_ref else ""
        where = f" {self.field}" if self.field else ""
        more = f" ({self.detail})" if self.detail else ""
        return f"{self.kind}{ref} at {self.position}:{where} {self.reason}{more}"


def printable_ref(value: Any) -> str | None:
    """A record id as it may be shown and stored: control characters replaced, shortened."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = _CONTROL.sub("\ufffd", _LINE_BREAKS.sub("\ufffd", str(value)))
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:REF_MAX]


def check(model: type[Model], raw: Any, kind: str, position: str) -> Model | Quarantined:
    """``raw`` (one decoded JSON item) as ``model``, or why it is quarantined."""
    ref = printable_ref(raw.get(REF_FIELDS[kind])) if isinstance(raw, dict) else None

    def bad(reason: str, field: str | None, detail: str | None = None) -> Quarantined:
        return Quarantined(kind, ref, position, reason, field, detail and detail[:300])

    if not isinstance(raw, dict):
        return bad("not_an_object", None, f"a {type(raw).__name__}, not an object")
    try:
        item = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(x) for x in first["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return bad("invalid_field", field, f"{first['type']}: {first['msg']}{more}")
    limits = LIMITS[kind]
    for path, pattern, value in _leaves(item.model_dump(mode="python"), "", ""):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return bad("invalid_text", path, "not valid UTF-8 (an unpaired surrogate)")
            if _CONTROL.search(value):
                code = ord(_CONTROL.search(value).group())
                return bad("control_character", path, f"U+{code:04X}")
            if pattern not in MULTILINE and _LINE_BREAKS.search(value):
                code = ord(_LINE_BREAKS.search(value).group())
                return bad("control_character", path, f"U+{code:04X} in a one-line field")
            limit = limits.get(pattern, TEXT_MAX)
            if len(value) > limit:
                return bad("too_long", path, f"{len(value)} characters; the column holds {limit}")
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if abs(value) > INT32_MAX and not path.endswith(("_id", "revision")):
                return bad("out_of_range", path, "does not fit a 32-bit integer")
        elif isinstance(value, float) and not math.isfinite(value):
            return bad("out_of_range", path, "not a finite number")
    return item


def _leaves(value: Any, path: str, pattern: str):
    """(dotted path, path with list indexes as ``*``, value) of every scalar in ``value``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            sub = f"{path}.{key}" if path else str(key)
            pat = f"{pattern}.{key}" if pattern else str(key)
            yield from _leaves(inner, sub, pat)
    elif isinstance(value, (list, tuple)):
        for i, inner in enumerate(value):
            yield from _leaves(inner, f"{path}.{i}", f"{pattern}.*")
    else:
        yield path, pattern, value


def check_user(raw: Any, position: str, now: dt.datetime | None = None) -> p.User | Quarantined:
    """A user record; also refuses a consent decision dated more than
    :data:`sql.consent.FUTURE_TOLERANCE` in the future (a device's clock, not a decision)."""
    checked = check(p.User, raw, "user", position)
    if isinstance(checked, Quarantined):
        return checked
    latest = (now or dt.datetime.now(dt.UTC)) + FUTURE_TOLERANCE
    for i, c in enumerate(checked.consents):
        if c.occurred_at > latest:
            minutes = (c.occurred_at - latest + FUTURE_TOLERANCE).total_seconds() / 60
            return Quarantined(
                "user",
                checked.subject,
                position,
                "future_time",
                f"consents.{i}.occurred_at",
                f"{minutes:.0f} minutes in the future (at most "
                f"{FUTURE_TOLERANCE.total_seconds() / 60:.0f} allowed)",
            )
    return checked


def check_shelter(raw: Any, position: str) -> p.Shelter | Quarantined:
    return check(p.Shelter, raw, "shelter", position)


def check_event(raw: Any, position: str) -> p.Event | Quarantined:
    return check(p.Event, raw, "event", position)
