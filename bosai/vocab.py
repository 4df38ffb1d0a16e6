"""Controlled vocabularies: the stable codes stored in the database and exchanged in files.

A leaf module (no imports): the ORM models (``sql.models``) build their CHECK-constrained
columns from these tuples, and ``analytics``, ``importers``, ``drills``, ``cityos`` and
``reports`` use them without loading the models. The labels people see come from the label
catalog (``bosai/messages/*.yaml``, :func:`bosai.i18n.t`) under the key
``<vocabulary>.<value>``.

>>> STATUS_STATES.index("needs_rescue"), set(SAFE_STATES) <= set(STATUS_STATES)
(6, True)
>>> set(HAZARD_ZONE_KINDS) <= set(HAZARD_KINDS)
True
"""

from __future__ import annotations

# Citizen safety/evacuation state (status reports).
STATUS_STATES = (
    "unknown",
    "safe_at_home",
    "evacuating",
    "at_shelter",
    "elsewhere_safe",
    "injured",
    "needs_rescue",
)
#: States in which a citizen counts as confirmed safe.
SAFE_STATES = ("safe_at_home", "at_shelter", "elsewhere_safe")

REPORT_SOURCES = ("app", "city_os", "staff", "drill")

# Consent ledger (ISO/IEC TS 27560-shaped).
DATA_ITEMS = (
    "basic_info",
    "location",
    "safety_status",
    "household_link",
    "support_register",
    "profile_image",
)
SHARE_TARGETS = (
    "city_hq",
    "family",
    "friends",
    "workplace",
    "neighbourhood",
    "medical_care",
)
CONSENT_EVENTS = ("given", "withdrawn", "expired")
COLLECTION_METHODS = ("app", "city_os_sync", "paper", "staff", "drill", "demo")

RESCUE_STATUSES = ("new", "triaged", "assigned", "en_route", "resolved", "cancelled")
RESCUE_OPEN_STATUSES = ("new", "triaged", "assigned", "en_route")
#: Allowed status transitions of a rescue request.
RESCUE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "assigned", "cancelled"),
    "triaged": ("assigned", "cancelled"),
    "assigned": ("en_route", "triaged", "cancelled"),
    "en_route": ("resolved", "assigned", "cancelled"),
    "resolved": (),
    "cancelled": (),
}
RESCUE_PRIORITIES = ("high", "medium", "low")

# The eight hazard flags of the GSI / Digital Agency shelter data, in their published order.
HAZARD_KINDS = (
    "flood",  # 洪水
    "landslide",  # 崖崩れ、土石流及び地滑り
    "storm_surge",  # 高潮
    "earthquake",  # 地震
    "tsunami",  # 津波
    "large_fire",  # 大規模な火事
    "inland_flood",  # 内水氾濫
    "volcano",  # 火山現象
)
HAZARD_ZONE_KINDS = ("flood", "landslide", "storm_surge", "tsunami", "inland_flood")

INCIDENT_KINDS = ("real", "drill")

STAFF_ROLES = ("hq", "rescue", "shelter_staff", "researcher", "council", "admin")

JMA_WARNING_STATUSES = (
    "発表",
    "継続",
    "解除",
    "発表警報・注意報はなし",
    "特別警報から警報",
    "警報から注意報",
    "注意報から警報",
    "警報から特別警報",
)

NOTIFICATION_TARGET_KINDS = (
    "everyone",
    "area",
    "hazard_zone",
    "circle",
    "shelter_catchment",
    "register",
    "households",
    "citizens",
)
NOTIFICATION_EVENTS = ("requested", "delivered", "opened", "failed")

DRILL_EVENT_TYPES = (
    "notification_sent",
    "notification_opened",
    "safety_answered",
    "evacuation_started",
    "arrived",
    "rescue_requested",
    "location_fix",
    "consent_changed",
)


# The safety loop (安否確認): shelter reception, other sources of a person's safety, follow-up.
#: Where an evacuee stays: a shelter (checked in at its reception), at home (在宅避難), in a car
#: (車中泊).
STAY_PLACES = ("shelter", "home", "car")
#: How a stay was recorded: reception search, the app's QR code, a walk-in, a household checked
#: in together, or recorded by headquarters or a rescue team (home, car).
STAY_METHODS = ("search", "qr", "walk_in", "household", "hq", "rescue")
#: Why a stay ended: checked out at reception, or moved (checked in elsewhere).
STAY_ENDINGS = ("checked_out", "moved")
#: Age bands of walk-ins (the bands of the safety page).
WALK_IN_AGE_BANDS = ("0-14", "15-39", "40-64", "65-74", "75+", "unknown")
#: Who told us about a person's safety, besides the person's own app answer.
OBSERVATION_SOURCES = ("reception", "supporter", "family", "rescue", "follow_up", "hq")
#: What they told.
OBSERVATION_OUTCOMES = (
    "checked_in",
    "checked_out",
    "at_home",
    "in_car",
    "safe",
    "needs_help",
    "not_reached",
)
#: State of a follow-up (a call or a visit to someone not yet accounted for).
FOLLOW_UP_STATUSES = ("open", "assigned", "reached_safe", "needs_help", "not_reached")
FOLLOW_UP_METHODS = ("call", "visit")
#: Outcomes a caller or a visiting team records.
FOLLOW_UP_OUTCOMES = ("reached_safe", "needs_help", "not_reached")
#: Individual evacuation plans (個別避難計画): where to, and how.
PLAN_DESTINATIONS = ("shelter", "welfare_shelter", "other")
PLAN_TRANSPORTS = ("walk", "walk_with_help", "wheelchair", "car", "welfare_vehicle", "stretcher")


# Evacuation information by area (避難情報, issue 17).
#: What an issuance area is: a district (地区), a 町字 (chōchō), or an area drawn from a hazard
#: map (a river's flood zone at ≥ 0.5 m, landslide warning zones).
EVACUATION_AREA_KINDS = ("district", "chocho", "hazard")
#: The alert levels a municipality issues (警戒レベル3 高齢者等避難, 4 避難指示, 5 緊急安全確保).
#: 避難勧告 was abolished in 2021 and is not offered.
EVACUATION_LEVELS = (3, 4, 5)
#: An issuance row either issues (or raises/lowers) a level for an area, or lifts (解除) it.
EVACUATION_ACTIONS = ("issue", "lift")
#: What prompted a proposal or an issuance.
EVACUATION_TRIGGER_KINDS = ("river_level", "landslide_warning", "flood_forecast", "manual")
