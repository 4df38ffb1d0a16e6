"""The per-city connector configuration: addresses, client id, claim names, API paths.

Nothing about a particular city or vendor is in code: one YAML file per city OS (see
``cityos/connector.example.yaml``). The file is found with ``--config FILE``, else
``$BOSAI_CITYOS_CONFIG``, else the example (the reference city OS on loopback). A few
environment variables override addresses (``BOSAI_CITYOS_BASE_URL``, ``BOSAI_CITYOS_ISSUER``)
so the same file works on a developer machine and in CI. Secrets are never in the file: it
names the environment variable that holds the client secret.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConnectorConfigError

EXAMPLE_CONFIG = Path(__file__).with_name("connector.example.yaml")
ENV_CONFIG = "BOSAI_CITYOS_CONFIG"
ENV_OVERRIDES = {
    "BOSAI_CITYOS_BASE_URL": ("base_url",),
    "BOSAI_CITYOS_ISSUER": ("auth", "issuer"),
}


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def secure_url(value: str) -> bool:
    """https, or plain http to a loopback address (tests, the reference city OS)."""
    parts = urlsplit(value)
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))


def _check_url(value: str | None) -> str | None:
    """HTTPS, or plain HTTP on loopback only (tests, the reference city OS)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
        return value.rstrip("/")
    raise ValueError(f"{value!r}: use https:// (plain http only on a loopback address)")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    timeout_s: float = Field(10.0, gt=0)
    connect_timeout_s: float = Field(3.0, gt=0)
    #: Further attempts after a failed one (connection errors, 429 and 5xx).
    retries: int = Field(3, ge=0, le=10)
    backoff_s: float = Field(0.2, ge=0)
    backoff_max_s: float = Field(5.0, ge=0)


class BreakerSettings(_Section):
    #: Consecutive failed calls that open the circuit.
    failure_threshold: int = Field(5, ge=1)
    #: Seconds the circuit stays open before one trial call is let through.
    reset_after_s: float = Field(30.0, ge=0)


class AuthSettings(_Section):
    issuer: str
    #: Default: from ``<issuer>/.well-known/openid-configuration``.
    token_endpoint: str | None = None
    revocation_endpoint: str | None = None
    grant: Literal["client_credentials"] = "client_credentials"
    client_id: str
    #: Name of the environment variable holding the client secret (never the secret itself).
    client_secret_env: str = "BOSAI_CITYOS_CLIENT_SECRET"
    scope: str = "openid"
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    #: Get a new token this many seconds before the current one expires.
    refresh_leeway_s: int = Field(60, ge=0)

    _urls = field_validator("issuer", "token_endpoint", "revocation_endpoint")(
        classmethod(lambda cls, v: _check_url(v))
    )


class ClaimNames(_Section):
    """Claim names in the city OS's session document (vendors differ)."""

    subject: str = "sub"
    roles: str = "roles"


class ApiPaths(_Section):
    """Paths of the seven APIs and the feed under ``base_url + api_prefix``."""

    users: str = "/users"
    user: str = "/users/{subject}"
    shelters: str = "/shelters"
    events: str = "/events"
    push: str = "/push-requests"
    push_request: str = "/push-requests/{request_id}"
    deliveries: str = "/push-requests/{request_id}/deliveries"
    session: str = "/auth/session"
    refresh: str = "/auth/refresh"
    logout: str = "/auth/logout"
    admin_events: str = "/admin/events"
    admin_consents: str = "/admin/users/{subject}/consents"
    admin_status: str = "/admin/users/{subject}/status"
    admin_settings: str = "/admin/settings"


class ConnectorConfig(_Section):
    """One city OS as this deployment sees it."""

    #: Short name; the sync state is kept as data source ``cityos:<name>``.
    name: str = Field(pattern=r"^[a-z0-9_-]{1,30}$")
    base_url: str
    api_prefix: str = "/v1"
    #: The share target our product reads as (the opt-in check on our side uses it too).
    share_target: Literal[
        "city_hq", "family", "friends", "workplace", "neighbourhood", "medical_care"
    ] = "city_hq"
    page_size: int = Field(1000, ge=1, le=10_000)
    http: HttpSettings = HttpSettings()
    breaker: BreakerSettings = BreakerSettings()
    auth: AuthSettings
    claims: ClaimNames = ClaimNames()
    paths: ApiPaths = ApiPaths()

    _base = field_validator("base_url")(classmethod(lambda cls, v: _check_url(v)))

    @property
    def source_name(self) -> str:
        return f"cityos:{self.name}"

    def url(self, path_name: str, **values: str) -> str:
        from urllib.parse import quote

        path = getattr(self.paths, path_name).format(
            **{k: quote(str(v), safe="") for k, v in values.items()}
        )
        return f"{self.base_url}{self.api_prefix}{path}"

    def client_secret(self) -> str:
        secret = os.environ.get(self.auth.client_secret_env)
        if not secret:
            raise ConnectorConfigError(
                f"the city-OS client secret is not set: export {self.auth.client_secret_env}"
            )
        return secret


def _apply_overrides(doc: dict) -> dict:
    for env, path in ENV_OVERRIDES.items():
        value = os.environ.get(env)
        if not value:
            continue
        node = doc
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return doc


def parse_config(doc: dict, source: str = "config") -> ConnectorConfig:
    """Validate a configuration mapping; errors name the file and the field."""
    try:
        return ConnectorConfig.model_validate(doc)
    except ValidationError as exc:
        problems = [
            f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ConnectorConfigError(
            f"{source}: invalid connector configuration: " + "; ".join(problems)
        ) from exc


def load_config(path: Path | str | None = None, overrides: dict | None = None) -> ConnectorConfig:
    """The connector configuration from ``path`` (or ``$BOSAI_CITYOS_CONFIG``, or the example)."""
    chosen = Path(path or os.environ.get(ENV_CONFIG) or EXAMPLE_CONFIG)
    try:
        doc = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConnectorConfigError(f"{chosen}: no such connector configuration file") from exc
    except yaml.YAMLError as exc:
        raise ConnectorConfigError(f"{chosen}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConnectorConfigError(f"{chosen}: expected a mapping")
    doc = _apply_overrides(doc)
    for dotted, value in (overrides or {}).items():
        node = doc
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return parse_config(doc, str(chosen))
