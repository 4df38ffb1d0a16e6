"""From a sign-in to a :class:`~sql.viewer.Viewer`: the role claim, the role map, the token's
expiry and the staff table — everything the shell decides about who is looking, without
Streamlit (so it is tested directly and used the same way by a real sign-in and AppTest).

Configuration (``.streamlit/secrets.toml``, next to ``[auth]``; see docs/AUTH.md)::

    [bosai_roles]
    claim = "roles"            # the ID-token claim holding the roles; dotted for nested claims
                               # (Keycloak: "realm_access.roles"); $BOSAI_ROLE_CLAIM overrides
    [bosai_roles.map]          # the provider's role names → Bosai Ops roles
    "Bosai.HQ" = "hq"

Our own role names (``hq``, ``rescue``, ...) always map to themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from bosai.vocab import STAFF_ROLES
from sql.actions.staff import bind_subject
from sql.queries.staff import StaffMember, find_staff, staff_registered_by_email
from sql.viewer import Viewer

DEFAULT_ROLE_CLAIM = "roles"
SETTINGS_SECTION = "bosai_roles"


class SignInRefused(Exception):
    """The signed-in identity may not use the app; ``key`` is the catalog key of the reason."""

    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key = key
        self.values = values


@dataclasses.dataclass(frozen=True)
class RoleSettings:
    claim: str = DEFAULT_ROLE_CLAIM
    mapping: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def our_role(self, provider_role: str) -> str | None:
        role = self.mapping.get(provider_role, provider_role)
        return role if role in STAFF_ROLES else None


def role_settings(secrets: Mapping[str, Any] | None = None) -> RoleSettings:
    """The role claim and map from the ``[bosai_roles]`` secrets section and the environment."""
    section = dict((secrets or {}).get(SETTINGS_SECTION) or {})
    claim = os.environ.get("BOSAI_ROLE_CLAIM") or section.get("claim") or DEFAULT_ROLE_CLAIM
    mapping = {str(k): str(v) for k, v in dict(section.get("map") or {}).items()}
    unknown = sorted({v for v in mapping.values() if v not in STAFF_ROLES})
    if unknown:
        raise ValueError(
            f"[{SETTINGS_SECTION}.map] maps to unknown roles {unknown}; "
            f"expected {', '.join(STAFF_ROLES)}"
        )
    return RoleSettings(str(claim), mapping)


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def claimed_roles(claims: Mapping[str, Any], settings: RoleSettings) -> list[str]:
    """Our roles named by the claim (a list, or one string; space-separated also accepted)."""
    raw = claim_value(claims, settings.claim)
    if raw is None:
        return []
    values = (
        raw.split() if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else []
    )
    roles: list[str] = []
    for value in values:
        role = settings.our_role(str(value))
        if role is not None and role not in roles:
            roles.append(role)
    return roles


def expires_at(claims: Mapping[str, Any]) -> dt.datetime | None:
    """The ID token's ``exp`` as a time (None when the claims carry none)."""
    exp = claims.get("exp")
    if exp is None or isinstance(exp, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(float(exp), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.fromtimestamp(0, dt.UTC)  # unreadable: treat as expired


def is_expired(claims: Mapping[str, Any], now: dt.datetime | None = None) -> bool:
    """True once the ID token's ``exp`` has passed. OIDC ID tokens always carry ``exp``
    (OpenID Connect Core §2); claims without it (AppTest's ``at.user``) never expire."""
    at = expires_at(claims)
    return at is not None and at <= (now or dt.datetime.now(dt.UTC))


def viewer_for(engine: Engine, claims: Mapping[str, Any], settings: RoleSettings) -> Viewer:
    """The viewer for signed-in ``claims``, or :class:`SignInRefused`.

    Both sides must agree: the provider's claim names the role, and our staff table holds an
    active account whose role is among the claimed roles. The account is found by the token's
    ``sub``. Only when no account carries that ``sub`` and the provider asserts the e-mail
    address verified (``email_verified`` true) is an account registered under that address and
    not yet bound taken — and bound to the ``sub`` at once (audited), so it is never matched by
    e-mail again. The viewer's subject (every audit row) is the token's own ``sub``.
    """
    roles = claimed_roles(claims, settings)
    if not roles:
        raise SignInRefused("auth.no_role", claim=settings.claim)
    subject = str(claims.get("sub") or "")
    email = claims.get("email")
    who = str(email or subject or "?")
    member = find_staff(engine, subject)
    if member is None and subject and claims.get("email_verified") is True:
        registered = staff_registered_by_email(engine, email)
        if registered is not None and not registered.active:
            member = registered  # refused below as deactivated; never bound
        elif registered is not None and bind_subject(engine, registered.id, str(email), subject):
            member = find_staff(engine, subject)
    if member is None:
        raise SignInRefused("auth.not_staff", who=who)
    if not member.active:
        raise SignInRefused("auth.inactive", who=who)
    if member.role not in roles:
        raise SignInRefused(
            "auth.role_mismatch", who=who, role=member.role, claimed=", ".join(roles)
        )
    return staff_viewer(member)


def staff_viewer(member: StaffMember, demo: bool = False) -> Viewer:
    return Viewer(
        role=member.role,
        subject=member.subject,
        name=member.name,
        staff_id=member.id,
        shelter_ids=member.shelter_ids,
        team=member.team,
        demo=demo,
    )
