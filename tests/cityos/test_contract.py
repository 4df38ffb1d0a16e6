"""Property-based check of the reference city OS against its contract, ``cityos/openapi.yaml``
(Schemathesis): generated valid and invalid requests, real tokens, every response checked
against the document (status codes, content types, schemas, problem details)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, reject, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from cityos.reference_server.app import create_app
from cityos.reference_server.runner import ThreadedServer
from cityos.reference_server.settings import ServerSettings

CONTRACT = Path(__file__).resolve().parents[2] / "cityos" / "openapi.yaml"

schema = schemathesis.openapi.from_path(CONTRACT)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module")
def contract_server(provider, population_state):
    with ThreadedServer(
        create_app(ServerSettings(issuer=provider.issuer), population_state.clone())
    ) as server:
        yield server


@pytest.fixture(scope="module")
def auth_headers(provider) -> dict[str, str]:
    return {"Authorization": f"Bearer {provider.token()}"}


def test_the_contract_is_valid_openapi_3_1():
    import yaml

    doc = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    assert doc["openapi"] == "3.1.0"
    operations = {
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if "operationId" in op
    }
    # The pilot's APIs (token refresh, logout, user, all users, shelters, push) and the feed.
    assert {
        "getSession",
        "refreshSession",
        "logout",
        "getUser",
        "listUsers",
        "listShelters",
        "createPushRequest",
        "getPushRequest",
        "listPushDeliveries",
        "listEvents",
    } <= operations


@schema.exclude(operation_id="logout").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same cases on every run (CI); explore with a random seed locally
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_reference_server_conforms_to_the_contract(case, contract_server, auth_headers):
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.QUERY):
        # A query parameter generated as null is dropped by the HTTP client, so the request on
        # the wire would be valid after all: not a negative case.
        if any(v is None for v in (case.query or {}).values()):
            reject()
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER):
        # The negative case is a missing or malformed Authorization header: send it as made.
        case.call_and_validate(base_url=contract_server.url)
        return
    case.call_and_validate(base_url=contract_server.url, headers=auth_headers)


def test_logout_conforms_to_the_contract(contract_server, provider):
    import httpx

    token = provider.token()
    done = httpx.post(
        f"{contract_server.url}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert done.status_code == 204 and done.content == b""
    again = httpx.post(
        f"{contract_server.url}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status"} <= again.json().keys()
