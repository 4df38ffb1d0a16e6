"""The city-OS client: the seven APIs of the pilot, the event feed and the admin calls.

Authentication is OAuth 2.0 with Authlib: the connector is a *service account* that obtains its
access token with the client-credentials grant at the identity provider's token endpoint (read
from the issuer's discovery document). Authlib gets a new token ``refresh_leeway_s`` before the
current one expires; a 401 from the city OS (token revoked elsewhere) leads to one new token
and one repeat. :meth:`CityOSClient.logout` ends the session at the city OS and revokes the
token at the provider (RFC 7009).

Every call has timeouts, retries with exponential backoff (connection errors, 429, 5xx; for
requests that are safe to repeat) and goes through a circuit breaker. Payloads are parsed into
the pydantic models of :mod:`cityos.payloads`.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpx
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from pydantic import BaseModel, ValidationError

from . import boundary
from . import payloads as p
from .boundary import Quarantined
from .config import ConnectorConfig, secure_url
from .errors import (
    CityOSAuthError,
    CityOSContractError,
    CityOSError,
    CityOSRequestError,
    CityOSUnavailable,
)
from .resilience import CircuitBreaker, backoff_delays

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _ServiceAccount(OAuth2Client):
    """Authlib's OAuth 2.0 client, counting the tokens it obtains."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tokens_obtained = 0

    def fetch_token(self, url=None, **kwargs):
        token = super().fetch_token(url, **kwargs)
        self.tokens_obtained += 1
        return token


class CityOSClient:
    """One connection to one city OS, as configured by a :class:`ConnectorConfig`."""

    def __init__(
        self,
        config: ConnectorConfig,
        client_secret: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.sleep = sleep
        http = config.http
        self.breaker = CircuitBreaker(
            config.breaker.failure_threshold, config.breaker.reset_after_s
        )
        self._timeout = httpx.Timeout(http.timeout_s, connect=http.connect_timeout_s)
        self._delays = backoff_delays(http.retries, http.backoff_s, http.backoff_max_s)
        self._discovery: dict[str, Any] | None = None
        self.oauth = _ServiceAccount(
            client_id=config.auth.client_id,
            client_secret=client_secret or config.client_secret(),
            scope=config.auth.scope,
            token_endpoint_auth_method=config.auth.token_auth_method,
            revocation_endpoint_auth_method=config.auth.token_auth_method,
            grant_type="client_credentials",
            leeway=config.auth.refresh_leeway_s,
            timeout=self._timeout,
        )

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self.oauth.close()

    def __enter__(self) -> CityOSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tokens_obtained(self) -> int:
        """How many access tokens this client has obtained (login and refreshes)."""
        return self.oauth.tokens_obtained

    @property
    def access_token(self) -> str | None:
        token = self.oauth.token
        return token["access_token"] if token else None

    # ------------------------------------------------------------ identity provider

    def discovery(self) -> dict[str, Any]:
        """The identity provider's discovery document (fetched once).

        Trusted only when its ``issuer`` is exactly the configured one (OpenID Connect
        Discovery 1.0, section 4.3); otherwise :class:`CityOSAuthError` and nothing is sent."""
        if self._discovery is None:
            issuer = self.config.auth.issuer
            url = f"{issuer}/.well-known/openid-configuration"
            try:
                response = httpx.get(url, timeout=self._timeout)
                response.raise_for_status()
                doc = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise CityOSUnavailable(
                    f"identity provider {issuer}: discovery failed: {exc}"
                ) from exc
            named = doc.get("issuer") if isinstance(doc, dict) else None
            if not isinstance(named, str) or named.rstrip("/") != issuer:
                raise CityOSAuthError(
                    f"identity provider {issuer}: its discovery document names another issuer "
                    f"({named!r}); refusing to use it"
                )
            self._discovery = doc
        return self._discovery

    def _endpoint(self, name: str, configured: str | None, required: bool) -> str | None:
        """An endpoint of the provider: https, or plain http on a loopback address only (the
        client secret and tokens travel to it)."""
        url = configured or self.discovery().get(name)
        if url is None and not required:
            return None
        if not isinstance(url, str) or not secure_url(url):
            raise CityOSAuthError(
                f"identity provider {self.config.auth.issuer}: {name} {url!r} is not https "
                "(plain http only on a loopback address); refusing to send credentials to it"
            )
        return url

    def token_endpoint(self) -> str:
        return self._endpoint("token_endpoint", self.config.auth.token_endpoint, True)

    def revocation_endpoint(self) -> str | None:
        return self._endpoint("revocation_endpoint", self.config.auth.revocation_endpoint, False)

    def login(self) -> None:
        """Obtain a new access token with the client-credentials grant (service account)."""
        url = self.token_endpoint()
        self.oauth.metadata["token_endpoint"] = url
        try:
            self.oauth.fetch_token(url, grant_type="client_credentials")
        except OAuthError as exc:
            raise CityOSAuthError(
                f"identity provider refused client {self.config.auth.client_id!r}: "
                f"{exc.error}: {exc.description or ''}".strip()
            ) from exc

    # ------------------------------------------------------------ calls

    def _call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        repeatable: bool = True,
    ) -> httpx.Response:
        self.breaker.before_call(what)
        delays = [0.0, *self._delays] if repeatable else [0.0]
        reason = ""
        renewed = False
        attempt = 0
        while attempt < len(delays):
            if delays[attempt]:
                self.sleep(delays[attempt])
            attempt += 1
            try:
                if self.oauth.token is None:
                    self.login()
                response = self.oauth.request(method, url, json=json, params=params)
            except CityOSAuthError:
                self.breaker.record_failure()
                raise
            except OAuthError as exc:
                self.breaker.record_failure()
                raise CityOSAuthError(f"{what}: token refresh refused: {exc}") from exc
            except (httpx.TransportError, CityOSUnavailable) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("%s: attempt %d failed: %s", what, attempt, reason)
                continue
            if response.status_code == 401 and not renewed:
                # The token was revoked or expired at the provider: one new token, one repeat.
                renewed = True
                self.oauth.token = None
                attempt -= 1
                continue
            if response.status_code in RETRY_STATUSES:
                reason = f"HTTP {response.status_code}"
                log.warning("%s: attempt %d failed: %s", what, attempt, reason)
                continue
            self.breaker.record_success()
            if response.status_code >= 400:
                raise self._refusal(what, response)
            return response
        self.breaker.record_failure()
        raise CityOSUnavailable(
            f"{what}: city OS at {self.config.base_url} unavailable after {attempt} "
            f"attempt{'s' if attempt != 1 else ''} ({reason})"
        )

    @staticmethod
    def _refusal(what: str, response: httpx.Response) -> CityOSError:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        title = problem.get("title") or response.reason_phrase
        detail = problem.get("detail")
        message = f"{what}: HTTP {response.status_code} {title}" + (f": {detail}" if detail else "")
        if response.status_code in (401, 403):
            return CityOSAuthError(message)
        return CityOSRequestError(message, response.status_code, problem)

    @staticmethod
    def _parse(model: type[Model], response: httpx.Response, what: str) -> Model:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise CityOSClient._contract_error(exc, what) from exc

    @staticmethod
    def _contract_error(exc: ValidationError, what: str) -> CityOSContractError:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        return CityOSContractError(
            f"{what}: the city OS answered outside the contract: {where}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        )

    # ------------------------------------------------------------ auth APIs

    def session(self) -> p.Session:
        """Check that our session's token is valid (access-token check API)."""
        url = self.config.url("session")
        return self._parse(p.Session, self._call("GET", url, "session check"), "session check")

    def session_subject(self, session: p.Session) -> str:
        """The subject per the configured claim name (vendors differ)."""
        return str(session.claims.get(self.config.claims.subject, session.subject))

    def refresh(self) -> p.Session:
        """Token refresh: obtain a new service-account token now and check it at the city OS."""
        self.login()
        return self.session()

    def refresh_user_session(
        self, refresh_token: str, client_id: str, client_secret: str | None = None
    ) -> p.TokenSet:
        """The city OS's refresh API for a user session (a citizen app's refresh token)."""
        doc = {"refresh_token": refresh_token, "client_id": client_id}
        if client_secret:
            doc["client_secret"] = client_secret
        response = self._call(
            "POST",
            self.config.url("refresh"),
            "token refresh",
            json=doc,
            repeatable=False,
        )
        return self._parse(p.TokenSet, response, "token refresh")

    def logout(self) -> None:
        """End the session at the city OS and revoke the token at the provider (RFC 7009)."""
        token = self.oauth.token
        if token is None:
            return
        try:
            self._call("POST", self.config.url("logout"), "logout", repeatable=False)
        finally:
            endpoint = self.revocation_endpoint()
            if endpoint:
                try:
                    self.oauth.revoke_token(
                        endpoint, token=token["access_token"], token_type_hint="access_token"
                    )
                except (httpx.HTTPError, OAuthError) as exc:
                    log.warning("token revocation at %s failed: %s", endpoint, exc)
            self.oauth.token = None

    # ------------------------------------------------------------ data APIs

    def user(self, subject: str) -> p.User:
        """One user's information (with the city OS's opt-in check); a record that fails the
        boundary checks (:mod:`cityos.boundary`) raises :class:`CityOSContractError`."""
        checked = self.user_checked(subject)
        if isinstance(checked, Quarantined):
            raise CityOSContractError(f"user {subject}: {checked.describe()}")
        return checked

    def user_checked(self, subject: str) -> p.User | Quarantined:
        """One user, or why the record is quarantined (:mod:`cityos.boundary`)."""
        what = f"user {subject}"
        response = self._call("GET", self.config.url("user", subject=subject), what)
        return boundary.check_user(self._json(response, what), what)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise CityOSContractError(f"{what}: the city OS answered with no JSON") from exc

    def _page(
        self,
        envelope: type[Model],
        check: Callable[[Any, str], Any],
        response: httpx.Response,
        what: str,
        quarantine: list[Quarantined] | None,
    ) -> tuple[Model, list[Any]]:
        """The page's envelope (cursor, has_more) and its items that pass the boundary checks;
        the others go to ``quarantine`` (or raise when no list is given)."""
        doc = self._json(response, what)
        page = self._parse_doc(envelope, doc, what)
        items = []
        for index, raw in enumerate(doc["items"]):
            checked = check(raw, f"{what} #{index}")
            if isinstance(checked, Quarantined):
                if quarantine is None:
                    raise CityOSContractError(f"{what}: {checked.describe()}")
                log.warning("quarantined: %s", checked.describe())
                quarantine.append(checked)
            else:
                items.append(checked)
        return page, items

    @classmethod
    def _parse_doc(cls, model: type[Model], doc: Any, what: str) -> Model:
        try:
            return model.model_validate(doc)
        except ValidationError as exc:
            raise cls._contract_error(exc, what) from exc

    def _revision_page(
        self, kind: str, check: Callable, since: int, limit: int | None, quarantine: list | None
    ) -> tuple[list[Any], p.RawPage]:
        """One page of ``kind`` (users, shelters) changed after revision ``since``: its items
        that pass ``check`` and its envelope."""
        params = {"since": since, "limit": limit or self.config.page_size}
        response = self._call("GET", self.config.url(kind), kind, params=params)
        page, items = self._page(p.RawPage, check, response, f"{kind} since={since}", quarantine)
        return items, page

    @staticmethod
    def _every_page(
        kind: str, read_page: Callable[[int], Any], start: int, on_page, cursor: str
    ) -> tuple[list[Any], int]:
        """Read pages from ``start`` to the last (each next page starts from the page's
        attribute ``cursor``): all their items, and the cursor after the last page."""
        items: list[Any] = []
        while True:
            page = read_page(start)
            items.extend(page.items)
            start = getattr(page, cursor)
            if on_page:
                on_page(kind, len(items))
            if not page.has_more:
                return items, start

    def users_page(
        self, since: int = 0, limit: int | None = None, quarantine: list | None = None
    ) -> p.UserPage:
        items, page = self._revision_page("users", boundary.check_user, since, limit, quarantine)
        return p.UserPage(items=items, revision=page.revision, has_more=page.has_more)

    def all_users(
        self,
        since: int = 0,
        on_page: Callable[[str, int], None] | None = None,
        quarantine: list[Quarantined] | None = None,
    ) -> tuple[list[p.User], int]:
        """Every user changed after revision ``since``; returns (users, new revision).

        Records failing the boundary checks go to ``quarantine`` when given (else raise)."""
        read = functools.partial(self.users_page, quarantine=quarantine)
        return self._every_page("users", read, since, on_page, "revision")

    def shelters_page(
        self, since: int = 0, limit: int | None = None, quarantine: list | None = None
    ) -> p.ShelterPage:
        items, page = self._revision_page(
            "shelters", boundary.check_shelter, since, limit, quarantine
        )
        return p.ShelterPage(items=items, revision=page.revision, has_more=page.has_more)

    def all_shelters(
        self,
        since: int = 0,
        on_page: Callable[[str, int], None] | None = None,
        quarantine: list[Quarantined] | None = None,
    ) -> tuple[list[p.Shelter], int]:
        read = functools.partial(self.shelters_page, quarantine=quarantine)
        return self._every_page("shelters", read, since, on_page, "revision")

    def events_page(
        self, after: int = 0, limit: int | None = None, quarantine: list | None = None
    ) -> p.EventPage:
        params = {"after": after, "limit": limit or self.config.page_size}
        response = self._call("GET", self.config.url("events"), "events", params=params)
        page, items = self._page(
            p.RawEventPage, boundary.check_event, response, f"events after={after}", quarantine
        )
        return p.EventPage(items=items, last_event_id=page.last_event_id, has_more=page.has_more)

    def all_events(
        self,
        after: int = 0,
        on_page: Callable[[str, int], None] | None = None,
        limit: int | None = None,
        quarantine: list[Quarantined] | None = None,
    ) -> tuple[list[p.Event], int]:
        """Every event after ``after``; returns (events, last event id seen)."""
        read = functools.partial(self.events_page, limit=limit, quarantine=quarantine)
        return self._every_page("events", read, after, on_page, "last_event_id")

    # ------------------------------------------------------------ push

    def push(
        self,
        target: p.PushTarget,
        title: str,
        body: str,
        idempotency_key: str | None = None,
    ) -> p.PushRequest:
        """Push-notification request (idempotent on its key, so it is safe to retry)."""
        doc = {
            "idempotency_key": idempotency_key or f"bosai:{uuid.uuid4()}",
            "title": title,
            "body": body,
            "target": target.model_dump(exclude_none=True),
        }
        response = self._call("POST", self.config.url("push"), "push request", json=doc)
        return self._parse(p.PushRequest, response, "push request")

    def push_request(self, request_id: str) -> p.PushRequest:
        what = f"push request {request_id}"
        url = self.config.url("push_request", request_id=request_id)
        return self._parse(p.PushRequest, self._call("GET", url, what), what)

    def deliveries(self, request_id: str) -> p.DeliveryList:
        what = f"deliveries of {request_id}"
        url = self.config.url("deliveries", request_id=request_id)
        return self._parse(p.DeliveryList, self._call("GET", url, what), what)

    # ------------------------------------------------------------ admin (tests, drills)

    def post_events(self, events: Iterable[dict[str, Any]]) -> p.EventBatchAccepted:
        response = self._call(
            "POST",
            self.config.url("admin_events"),
            "record events",
            json={"events": list(events)},
            repeatable=False,
        )
        return self._parse(p.EventBatchAccepted, response, "record events")

    def set_consents(self, subject: str, changes: list[dict[str, Any]]) -> p.User:
        url = self.config.url("admin_consents", subject=subject)
        response = self._call("PUT", url, f"consents of {subject}", json={"changes": changes})
        return self._parse(p.User, response, f"consents of {subject}")

    def set_status(self, subject: str, state: str, **fields: Any) -> int:
        url = self.config.url("admin_status", subject=subject)
        response = self._call(
            "PUT", url, f"status of {subject}", json={"state": state, **fields}, repeatable=False
        )
        return int(response.json()["event_id"])

    def set_opt_in_check(self, enabled: bool) -> None:
        url = self.config.url("admin_settings")
        self._call("PUT", url, "admin settings", json={"opt_in_check": enabled})
