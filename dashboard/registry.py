"""The pages of the app and which roles may open them (navigation is built from this)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

VIEWS_DIR = Path(__file__).with_name("views")

ALL_ROLES = ("hq", "rescue", "shelter_staff", "researcher", "council", "admin")
#: Roles that run the incident (the operational pages).
OPERATIONS = ("hq", "rescue", "shelter_staff", "admin")


@dataclasses.dataclass(frozen=True)
class PageSpec:
    file: str  # file name in dashboard/views/
    title_key: str  # catalog key of the page title
    url_path: str
    icon: str
    roles: tuple[str, ...]
    section_key: str = "nav.operations"

    @property
    def path(self) -> Path:
        return VIEWS_DIR / self.file


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "overview.title", "overview", ":material/location_city:", ALL_ROLES),
    PageSpec("hq_map.py", "hqmap.title", "hq-map", ":material/map:", OPERATIONS),
    PageSpec("rescue_queue.py", "queue.title", "rescue-queue", ":material/sos:", ("hq", "rescue")),
    PageSpec("shelters.py", "shelters.title", "shelters", ":material/house:", OPERATIONS),
    PageSpec(
        "reception.py",
        "safety.reception.title",
        "reception",
        ":material/how_to_reg:",
        ("shelter_staff", "hq"),
    ),
    PageSpec(
        "unaccounted.py",
        "safety.unaccounted.title",
        "unaccounted",
        ":material/person_search:",
        ("hq", "rescue"),
    ),
    PageSpec(
        "evacuation.py", "evacuation.page.title", "evacuation", ":material/directions_run:", ("hq",)
    ),
    PageSpec("notifications.py", "notify.title", "notifications", ":material/campaign:", ("hq",)),
    PageSpec(
        "replay.py", "replay.title", "replay", ":material/history:", (*OPERATIONS, "researcher")
    ),
    PageSpec(
        "incidents.py", "incidents.title", "incidents", ":material/crisis_alert:", ("hq", "admin")
    ),
    PageSpec(
        "research_survey.py",
        "research.survey.title",
        "research-survey",
        ":material/quiz:",
        ("researcher", "admin"),
        "nav.research",
    ),
    PageSpec(
        "research_optin.py",
        "research.optin.title",
        "research-optin",
        ":material/how_to_reg:",
        ("researcher", "admin"),
        "nav.research",
    ),
    PageSpec(
        "research_uiux.py",
        "research.uiux.title",
        "research-uiux",
        ":material/timer:",
        ("researcher", "admin"),
        "nav.research",
    ),
    PageSpec(
        "research_drill.py",
        "research.drill.title",
        "research-drill",
        ":material/directions_run:",
        ("researcher", "admin"),
        "nav.research",
    ),
    PageSpec(
        "research_microdata.py",
        "research.microdata.title",
        "research-microdata",
        ":material/dataset:",
        ("researcher", "admin"),
        "nav.research",
    ),
    PageSpec("register.py", "register.title", "register", ":material/accessible:", OPERATIONS),
    PageSpec(
        "plans.py", "safety.plans.title", "plans", ":material/route:", ("hq", "rescue", "admin")
    ),
    PageSpec("safety.py", "safety.title", "safety", ":material/diversity_3:", ALL_ROLES),
    PageSpec("warnings.py", "warnings.title", "warnings", ":material/thunderstorm:", ALL_ROLES),
    PageSpec(
        "reports.py",
        "reports.page.title",
        "reports",
        ":material/summarize:",
        ("council", "hq", "researcher", "admin"),
        "nav.reports",
    ),
    PageSpec(
        "admin_staff.py",
        "admin.staff.title",
        "admin-staff",
        ":material/badge:",
        ("admin",),
        "nav.admin",
    ),
    PageSpec(
        "admin_audit.py",
        "admin.audit.title",
        "admin-audit",
        ":material/policy:",
        ("admin",),
        "nav.admin",
    ),
    PageSpec(
        "admin_quarantine.py",
        "admin.quarantine.title",
        "admin-quarantine",
        ":material/block:",
        ("admin",),
        "nav.admin",
    ),
)


def pages_for_role(role: str) -> list[PageSpec]:
    return [p for p in PAGES if role in p.roles]


def page_by_url_path(url_path: str) -> PageSpec | None:
    return next((p for p in PAGES if p.url_path == url_path), None)


def can_open(role: str, url_path: str) -> bool:
    return any(p.url_path == url_path and role in p.roles for p in PAGES)
