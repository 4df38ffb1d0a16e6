"""The reference city OS as a FastAPI application implementing ``cityos/openapi.yaml``.

Every call but ``/health`` needs a bearer token that the configured OpenID Connect provider
accepts, and the role its configured claim grants (read, push or admin). Every error is an RFC
9457 problem document (``application/problem+json``).
"""

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..contract import ConsentState, DataItem, EventKind, ShareTarget, StatusState
from .settings import ServerSettings
from .state import CityOSState, Conflict, NotFound, now
from .tokens import Caller, InvalidToken, ProviderUnavailable, TokenVerifier, token_digest

PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
Exercise = Annotated[str, Field(max_length=64, pattern=ID_PATTERN)] | None


def _text_time(value: Any) -> Any:
    """JSON carries date-times as strings; refuse numbers (no Unix-time guessing)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return value
    raise ValueError("expected an RFC 3339 date-time string with a UTC offset")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_time)]


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer includes 2.0; nothing else changes type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class _Strict(BaseModel):
    """Request bodies: no unknown fields, no type coercion. A field typed without ``None`` but
    defaulting to None may be left out but not sent as null (as in the contract)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class RefreshRequest(_Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]
    client_id: Annotated[str, Field(min_length=1, max_length=128)]
    client_secret: Annotated[str, Field(min_length=1, max_length=256)] = None


class PushTarget(_Strict):
    kind: Literal["everyone", "citizens", "area"]
    subjects: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=100_000),
    ] = None
    district: Annotated[str, Field(min_length=1, max_length=64)] = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "PushTarget":
        needed = {"everyone": set(), "citizens": {"subjects"}, "area": {"district"}}[self.kind]
        given = {f for f in ("subjects", "district") if getattr(self, f) is not None}
        if given != needed:
            wanted = " and ".join(sorted(needed)) or "no other field"
            raise ValueError(f"target of kind {self.kind!r} takes {wanted}")
        return self


class PushRequestCreate(_Strict):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=96)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=4000)]
    target: PushTarget


class StatusInput(_Strict):
    state: StatusState
    shelter_id: Annotated[str, Field(max_length=64)] | None = None
    message: Annotated[str, Field(max_length=1000)] | None = None
    at: Timestamp | None = None
    exercise: Exercise = None


class LocationInput(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(ge=0)] | None = None


class RescueInput(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    people_count: Annotated[JsonInt, Field(ge=1, le=100)] = 1
    injured_count: Annotated[JsonInt, Field(ge=0, le=100)] = 0
    needs: Annotated[str, Field(max_length=1000)] | None = None


class EventInput(_Strict):
    kind: EventKind
    subject: Annotated[str, Field(min_length=1, max_length=64)]
    at: Timestamp
    exercise: Exercise = None
    status: StatusInput = None
    location: LocationInput = None
    rescue: RescueInput = None

    @model_validator(mode="after")
    def _payload_of_kind(self) -> "EventInput":
        part = {"status": "status", "arrival": "status", "location": "location"}.get(
            self.kind, "rescue"
        )
        given = {f for f in ("status", "location", "rescue") if f in self.model_fields_set}
        if given != {part}:
            raise ValueError(f"an event of kind {self.kind!r} carries exactly {part!r}")
        if self.kind == "arrival":
            status = self.status
            if (
                status.state != "at_shelter"
                or not status.shelter_id
                or not status.model_fields_set <= {"state", "shelter_id", "message"}
            ):
                raise ValueError("an arrival's status is state at_shelter with a shelter_id")
        return self


class EventBatch(_Strict):
    events: Annotated[list[EventInput], Field(max_length=100_000)]


class ConsentChange(_Strict):
    data_item: DataItem
    share_target: ShareTarget
    state: ConsentState
    expires_at: Timestamp | None = None


class ConsentChanges(_Strict):
    changes: Annotated[list[ConsentChange], Field(min_length=1, max_length=100)]


class AdminSettings(_Strict):
    opt_in_check: bool = None


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    kind: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class ProblemError(Exception):
    def __init__(self, response: JSONResponse):
        self.response = response


def _json(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


#: The query parameters each path accepts (the contract allows no others).
QUERY_PARAMS = {
    "/v1/users": ("since", "limit"),
    "/v1/shelters": ("since", "limit"),
    "/v1/events": ("after", "limit"),
}


def no_unknown_query_params(request: Request) -> None:
    unknown = sorted(set(request.query_params.keys()) - set(QUERY_PARAMS.get(request.url.path, ())))
    if unknown:
        raise ProblemError(
            problem(
                400,
                "Invalid request",
                f"query: unknown parameter {unknown[0]!r}",
                "/problems/invalid-request",
                [{"location": f"query.{u}", "message": "unknown parameter"} for u in unknown],
            )
        )


def create_app(settings: ServerSettings, state: CityOSState) -> FastAPI:
    """The reference city OS over ``state``, checking tokens with ``settings.issuer``."""
    app = FastAPI(
        dependencies=[Depends(no_unknown_query_params)],
        title="Reference city OS",
        version="1.0.0",
        openapi_url=None,  # the contract is cityos/openapi.yaml, not a generated document
        docs_url=None,
        redoc_url=None,
    )
    verifier = TokenVerifier(settings)
    app.state.city_os = state
    app.state.verifier = verifier

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError):
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = [
            {
                "location": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"location": "request", "message": "invalid"}
        return problem(
            400,
            "Invalid request",
            f"{first['location']}: {first['message']}",
            "/problems/invalid-request",
            errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Every method of the path, not only those of the first route that matched it.
            methods = {
                m
                for route in app.routes
                if getattr(route, "path_regex", None) and route.path_regex.match(request.url.path)
                for m in (getattr(route, "methods", None) or ())
            }
            headers["Allow"] = ", ".join(sorted(methods))
        return problem(exc.status_code, str(exc.detail), headers=headers or None)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound):
        return problem(404, "Not found", str(exc).strip("'\""), "/problems/not-found")

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict):
        return problem(409, "Conflict", str(exc), "/problems/idempotency-conflict")

    @app.exception_handler(ValueError)
    async def _value(_request: Request, exc: ValueError):
        return problem(400, "Invalid request", str(exc), "/problems/invalid-request")

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception):
        return problem(500, "Internal error", type(exc).__name__, "/problems/internal")

    def bearer(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                problem(
                    401,
                    "Unauthorized",
                    "an Authorization: Bearer <access token> header is required",
                    "/problems/unauthorized",
                    headers={"WWW-Authenticate": 'Bearer realm="city-os"'},
                )
            )
        return token.strip()

    def authenticate(request: Request) -> Caller:
        token = bearer(request)
        try:
            return verifier.verify(token, state.revoked_tokens)
        except InvalidToken as exc:
            raise ProblemError(
                problem(
                    401,
                    "Unauthorized",
                    str(exc),
                    "/problems/invalid-token",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            ) from exc
        except ProviderUnavailable as exc:
            raise ProblemError(
                problem(
                    401,
                    "Unauthorized",
                    f"the token could not be checked: {exc}",
                    "/problems/provider-unavailable",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            ) from exc

    def role(name: str):
        def check(request: Request) -> Caller:
            caller = authenticate(request)
            if name not in caller.roles:
                raise ProblemError(
                    problem(
                        403,
                        "Forbidden",
                        f"the token's subject {caller.subject!r} lacks the role {name!r}",
                        "/problems/forbidden",
                    )
                )
            return caller

        return check

    Reader = Annotated[Caller, Depends(role(settings.read_role))]
    Pusher = Annotated[Caller, Depends(role(settings.push_role))]
    Admin = Annotated[Caller, Depends(role(settings.admin_role))]
    Anyone = Annotated[Caller, Depends(authenticate)]
    Since = Annotated[int, Query(ge=0)]
    Limit = Annotated[int, Query(ge=1, le=10_000)]
    Subject = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
    RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]

    @app.get("/health")
    def health() -> Response:
        """Up or down only: no counts or anything else to someone without a token."""
        try:
            verifier.discovery()
        except ProviderUnavailable:
            return _json({"status": "down"}, 503)
        return _json({"status": "up"})

    @app.get("/v1/auth/session")
    def get_session(caller: Anyone) -> Response:
        return _json(
            {
                "active": True,
                "subject": caller.subject,
                "roles": sorted(caller.roles),
                "share_target": caller.share_target,
                "claims": caller.claims,
            }
        )

    @app.post("/v1/auth/refresh")
    def refresh_session(body: RefreshRequest, _caller: Anyone) -> Response:
        try:
            response = verifier.refresh(body.refresh_token, body.client_id, body.client_secret)
        except ProviderUnavailable as exc:
            return problem(502, "Bad gateway", str(exc), "/problems/provider-unavailable")
        if response.status_code != 200:
            return problem(
                403,
                "Refresh refused",
                f"the identity provider refused the refresh token ({response.status_code})",
                "/problems/refresh-refused",
            )
        doc = response.json()
        tokens = {
            k: doc[k]
            for k in ("access_token", "token_type", "expires_in", "refresh_token", "scope")
            if k in doc and doc[k] is not None
        }
        return _json(tokens)

    @app.post("/v1/auth/logout", status_code=204)
    def logout(request: Request, _caller: Anyone) -> Response:
        with state.lock:
            state.revoked_tokens.add(token_digest(bearer(request)))
        return Response(status_code=204)

    @app.get("/v1/users")
    def list_users(caller: Reader, since: Since = 0, limit: Limit = 1000) -> Response:
        return _json(state.users_since(since, limit, caller.share_target))

    @app.get("/v1/users/{subject}")
    def get_user(subject: Subject, caller: Reader) -> Response:
        return _json(state.user(subject, caller.share_target))

    @app.get("/v1/shelters")
    def list_shelters(_caller: Reader, since: Since = 0, limit: Limit = 1000) -> Response:
        return _json(state.shelters_since(since, limit))

    @app.post("/v1/push-requests")
    def create_push(body: PushRequestCreate, caller: Pusher) -> Response:
        record, created = state.push(body.model_dump(), caller.share_target)
        return _json(record.as_dict(), 201 if created else 200)

    @app.get("/v1/push-requests/{request_id}")
    def get_push(request_id: RequestId, _caller: Pusher) -> Response:
        return _json(state.push_record(request_id).as_dict())

    @app.get("/v1/push-requests/{request_id}/deliveries")
    def list_deliveries(request_id: RequestId, _caller: Pusher) -> Response:
        record = state.push_record(request_id)
        return _json({"request_id": record.request_id, "items": record.deliveries})

    @app.get("/v1/events")
    def list_events(caller: Reader, after: Since = 0, limit: Limit = 1000) -> Response:
        return _json(state.events_after(after, limit, caller.share_target))

    @app.put("/v1/admin/users/{subject}/consents")
    def set_consents(subject: Subject, body: ConsentChanges, caller: Admin) -> Response:
        state.set_consents(subject, [c.model_dump() for c in body.changes])
        return _json(state.user(subject, caller.share_target))

    @app.put("/v1/admin/users/{subject}/status")
    def set_status(subject: Subject, body: StatusInput, _caller: Admin) -> Response:
        at = body.at or now()
        kind = "arrival" if body.state == "at_shelter" and body.shelter_id else "status"
        event = {
            "kind": kind,
            "subject": subject,
            "at": at.astimezone(dt.UTC),
            "exercise": body.exercise,
            "status": {"state": body.state, "shelter_id": body.shelter_id, "message": body.message},
        }
        _count, first, _last = state.record_events([event])
        return _json({"event_id": first})

    @app.post("/v1/admin/events")
    def post_events(body: EventBatch, _caller: Admin) -> Response:
        events = []
        for ev in body.events:
            doc = ev.model_dump()
            doc["at"] = ev.at.astimezone(dt.UTC)
            events.append(doc)
        count, first, last = state.record_events(events)
        return _json({"accepted": count, "first_event_id": first, "last_event_id": last})

    @app.get("/v1/admin/settings")
    def get_settings(_caller: Admin) -> Response:
        return _json({"opt_in_check": state.opt_in_check})

    @app.put("/v1/admin/settings")
    def put_settings(body: AdminSettings, _caller: Admin) -> Response:
        if body.opt_in_check is not None:
            state.opt_in_check = body.opt_in_check
        return _json({"opt_in_check": state.opt_in_check})

    return app
