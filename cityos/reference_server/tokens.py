"""Bearer-token checks at the reference city OS, against the city's OpenID Connect provider.

The provider's access tokens may be opaque, so the city OS asks the provider itself: the
userinfo endpoint (from the issuer's discovery document) answers 200 with the subject's claims
for a valid token and an error for an unknown, expired or revoked one. A token issued to a
client outside :attr:`ServerSettings.clients` is refused (the audience check). Tokens logged out at the
city OS are refused before the provider is asked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading

import httpx

from .settings import ServerSettings


class InvalidToken(Exception):
    """The bearer token is missing, unknown, expired or revoked."""


class ProviderUnavailable(Exception):
    """The identity provider did not answer."""


@dataclasses.dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str]
    share_target: str
    claims: dict


def token_clients(claims: dict) -> list[str]:
    """The clients a token was issued to, as the provider's userinfo names them."""
    out: list[str] = []
    for name in ("client_id", "azp", "aud"):
        value = claims.get(name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(str(v) for v in value)
    return out


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenVerifier:
    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self._http = httpx.Client(timeout=settings.provider_timeout_s)
        self._discovery: dict | None = None
        self._lock = threading.Lock()

    def discovery(self) -> dict:
        with self._lock:
            if self._discovery is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    response = self._http.get(url)
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    raise ProviderUnavailable(f"discovery at {url} failed: {exc}") from exc
                self._discovery = response.json()
            return self._discovery

    def userinfo_endpoint(self) -> str:
        return self.settings.userinfo_endpoint or self.discovery()["userinfo_endpoint"]

    def token_endpoint(self) -> str:
        return self.discovery()["token_endpoint"]

    def verify(self, token: str, revoked: set[str]) -> Caller:
        if not token:
            raise InvalidToken("no bearer token")
        if token_digest(token) in revoked:
            raise InvalidToken("the token was logged out")
        try:
            response = self._http.get(
                self.userinfo_endpoint(), headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"identity provider unreachable: {exc}") from exc
        if response.status_code != 200:
            raise InvalidToken("the identity provider does not accept the token")
        claims = response.json()
        s = self.settings
        if not set(token_clients(claims)) & set(s.clients):
            raise InvalidToken("the token was issued to another client")
        raw_roles = claims.get(s.roles_claim) or []
        roles = raw_roles.split() if isinstance(raw_roles, str) else [str(r) for r in raw_roles]
        return Caller(
            subject=str(claims.get("sub", "")),
            roles=frozenset(roles),
            share_target=str(claims.get(s.share_target_claim) or s.default_share_target),
            claims=claims,
        )

    def refresh(
        self, refresh_token: str, client_id: str, client_secret: str | None = None
    ) -> httpx.Response:
        """Exchange a refresh token at the provider's token endpoint (for the app's client)."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth = (client_id, client_secret) if client_secret else None
        if auth is None:
            data["client_id"] = client_id
        try:
            return self._http.post(self.token_endpoint(), data=data, auth=auth)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"identity provider unreachable: {exc}") from exc

    def close(self) -> None:
        self._http.close()
