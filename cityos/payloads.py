"""Typed payloads of the city-OS contract (``cityos/openapi.yaml``), as the connector reads them.

Unknown fields are ignored (a vendor may send more); missing required fields, wrong types or
unknown codes fail with :class:`~cityos.errors.CityOSContractError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .contract import ConsentState, DataItem, EventKind, ShareTarget, StatusState


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Consent(Payload):
    consent_id: str
    data_item: DataItem
    share_target: ShareTarget
    state: ConsentState
    occurred_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    purpose: str = "disaster_response"
    notice_version: str = "unknown"

    def in_force(self, at: dt.datetime) -> bool:
        return self.state == "given" and (self.expires_at is None or self.expires_at > at)


class Point(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class BasicInfo(Payload):
    name: str | None = None
    kana: str | None = None
    sex: Literal["female", "male", "other"] | None = None
    birth_date: dt.date | None = None
    address: str | None = None
    district: str | None = None
    phone: str | None = None
    home: Point | None = None


class Household(Payload):
    household_id: str
    members: int | None = None


class SafetyStatus(Payload):
    report_id: int
    state: StatusState
    shelter_id: str | None = None
    message: str | None = None
    reported_at: AwareDatetime


class LocationFix(Payload):
    fix_id: int
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = None
    fixed_at: AwareDatetime


class SupportRegister(Payload):
    needs: str | None = None
    care_level: str | None = None
    supporter_name: str | None = None
    supporter_phone: str | None = None
    supporter_relation: str | None = None
    normal_time_consent: bool = False


class ProfileImage(Payload):
    url: str


class User(Payload):
    subject: str = Field(min_length=1, max_length=64)
    revision: int
    updated_at: AwareDatetime
    synthetic: bool = False
    consents: list[Consent] = []
    basic_info: BasicInfo | None = None
    household: Household | None = None
    safety_status: SafetyStatus | None = None
    location: LocationFix | None = None
    support_register: SupportRegister | None = None
    profile_image: ProfileImage | None = None


class RawPage(Payload):
    """A page of users or shelters before its items pass :mod:`cityos.boundary` one by one."""

    items: list[Any]
    revision: int
    has_more: bool


class RawEventPage(Payload):
    items: list[Any]
    last_event_id: int
    has_more: bool


class UserPage(Payload):
    items: list[User]
    revision: int
    has_more: bool


class Shelter(Payload):
    shelter_id: str = Field(min_length=1, max_length=64)
    revision: int
    standard_id: str | None = None
    gsi_id: str | None = None
    name: str
    kana: str | None = None
    address: str | None = None
    district: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    elevation_m: float | None = None
    capacity: int | None = None
    hazards: list[str] = []
    emergency_site: bool = False
    designated_shelter: bool = False
    welfare_shelter: bool = False
    updated_at: AwareDatetime
    synthetic: bool = False


class ShelterPage(Payload):
    items: list[Shelter]
    revision: int
    has_more: bool


class EventStatus(Payload):
    state: StatusState
    shelter_id: str | None = None
    message: str | None = None


class EventLocation(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = None


class EventRescue(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    people_count: int = 1
    injured_count: int = 0
    needs: str | None = None


class Event(Payload):
    event_id: int
    kind: EventKind
    subject: str
    at: AwareDatetime
    exercise: str | None = None
    status: EventStatus | None = None
    location: EventLocation | None = None
    rescue: EventRescue | None = None


class EventPage(Payload):
    items: list[Event]
    last_event_id: int
    has_more: bool


class PushTarget(Payload):
    kind: Literal["everyone", "citizens", "area"]
    subjects: list[str] | None = None
    district: str | None = None


class DeliveryCounts(Payload):
    delivered: int
    opened: int
    failed: int


class PushRequest(Payload):
    request_id: str
    idempotency_key: str
    status: Literal["accepted", "sent", "failed"]
    recipient_count: int
    created_at: AwareDatetime
    deliveries: DeliveryCounts


class Delivery(Payload):
    subject: str
    event: Literal["delivered", "opened", "failed"]
    at: AwareDatetime


class DeliveryList(Payload):
    request_id: str
    items: list[Delivery]


class Session(Payload):
    active: bool
    subject: str
    roles: list[str] = []
    share_target: ShareTarget = "city_hq"
    claims: dict = {}


class TokenSet(Payload):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class EventBatchAccepted(Payload):
    accepted: int
    first_event_id: int | None = None
    last_event_id: int | None = None
