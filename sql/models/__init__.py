"""All ORM models; importing this package registers every table on :data:`Base.metadata`."""

from .base import Base, JSONText, UTCDateTime, utcnow
from .citizens import Citizen, Household
from .city import City, Meta, QuarantinedRecord, SourceHealth
from .consent import ConsentEvent, ConsentState
from .drills import Drill, DrillEvent
from .evacuation import (
    EvacuationArea,
    EvacuationIssuance,
    EvacuationTrigger,
    RiverStation,
    WaterLevelObservation,
)
from .hazards import HazardZone, JmaTelegram, JmaWarning
from .incidents import Incident, IncidentActivity
from .notifications import NotificationEvent, NotificationRequest
from .register import SupportRegisterEntry
from .rescue import RescueRequest, RescueRequestEvent
from .research import (
    SurveyInstrument,
    SurveyResponse,
    UiuxSession,
    UiuxTaskTiming,
)
from .retention import IncidentDailyCount
from .safety import (
    EvacuationPlan,
    EvacueeStay,
    FollowUp,
    FollowUpEvent,
    SafetyObservation,
    WalkIn,
)
from .shelters import Shelter, ShelterOccupancy, ShelterOperation
from .staff import AuditCheckpoint, AuditLog, Staff
from .status import CitizenLatestStatus, LocationFix, StatusReport

__all__ = [
    "EvacuationArea",
    "EvacuationIssuance",
    "EvacuationTrigger",
    "RiverStation",
    "WaterLevelObservation",
    "EvacuationPlan",
    "EvacueeStay",
    "FollowUp",
    "FollowUpEvent",
    "SafetyObservation",
    "WalkIn",
    "AuditCheckpoint",
    "AuditLog",
    "Base",
    "Citizen",
    "CitizenLatestStatus",
    "City",
    "ConsentEvent",
    "ConsentState",
    "Drill",
    "DrillEvent",
    "HazardZone",
    "Household",
    "Incident",
    "IncidentActivity",
    "IncidentDailyCount",
    "JSONText",
    "JmaTelegram",
    "JmaWarning",
    "LocationFix",
    "Meta",
    "NotificationEvent",
    "NotificationRequest",
    "QuarantinedRecord",
    "RescueRequest",
    "RescueRequestEvent",
    "Shelter",
    "ShelterOccupancy",
    "ShelterOperation",
    "SourceHealth",
    "Staff",
    "StatusReport",
    "SupportRegisterEntry",
    "SurveyInstrument",
    "SurveyResponse",
    "UTCDateTime",
    "UiuxSession",
    "UiuxTaskTiming",
    "utcnow",
]
