"""Who is looking, in which role, for what purpose: every personal-data query takes a Viewer."""

from __future__ import annotations

import dataclasses

from bosai.vocab import STAFF_ROLES

#: Default purpose of each role's reads (recorded in the audit log).
ROLE_PURPOSES = {
    "hq": "disaster_response",
    "rescue": "rescue",
    "shelter_staff": "shelter_operation",
    "researcher": "research",
    "council": "reporting",
    "admin": "administration",
}


@dataclasses.dataclass(frozen=True)
class Viewer:
    role: str
    subject: str
    name: str = ""
    staff_id: int | None = None
    purpose: str = ""
    incident_id: int | None = None
    shelter_ids: tuple[int, ...] = ()
    #: The staff member's team (rescue crews), from the staff table.
    team: str | None = None
    demo: bool = False

    def __post_init__(self) -> None:
        if self.role not in STAFF_ROLES:
            raise ValueError(
                f"unknown role {self.role!r}; expected one of {', '.join(STAFF_ROLES)}"
            )
        if not self.purpose:
            object.__setattr__(self, "purpose", ROLE_PURPOSES[self.role])

    def for_incident(self, incident_id: int | None) -> Viewer:
        return dataclasses.replace(self, incident_id=incident_id)


#: The viewer used by command-line tools (recorded as such in the audit log).
SYSTEM = Viewer(role="admin", subject="system:cli", name="bosai CLI", purpose="administration")
