"""Real parts for the connector tests: an OpenID Connect provider process (oidc-provider-mock
with the service-account grant, ``cityos.identity_provider``) and the reference city OS on a
free loopback port, with real tokens between them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from cityos import identity_provider
from cityos.client import CityOSClient
from cityos.config import ConnectorConfig, parse_config
from cityos.reference_server.app import create_app
from cityos.reference_server.population import build_state
from cityos.reference_server.runner import ThreadedServer, free_port
from cityos.reference_server.settings import ServerSettings

SERVICE_CLIENT = "bosai-ops"
READ_ONLY_CLIENT = "bosai-readonly"
OTHER_VENDOR_CLIENT = "other-vendor-client"
SECRET = "test-only-secret"
SECRET_ENV = "BOSAI_TEST_IDP_SECRET"
ALL_ROLES = ["cityos:read", "cityos:push", "cityos:admin"]
POPULATION = 300
SEED = 7


class Provider:
    def __init__(self, token_max_age: int = 3600):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process = identity_provider.spawn(
            self.port,
            [
                {"client_id": SERVICE_CLIENT, "roles": ALL_ROLES},
                {"client_id": READ_ONLY_CLIENT, "roles": ["cityos:read"]},
                # Another vendor's claim names (its claims are set per test through the mock).
                {"client_id": OTHER_VENDOR_CLIENT},
            ],
            token_max_age=token_max_age,
            stderr=subprocess.PIPE,
            client_secret_env=SECRET_ENV,
            env={SECRET_ENV: SECRET},
        )

    def token(self, client_id: str = SERVICE_CLIENT) -> str:
        response = httpx.post(
            f"{self.issuer}/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "openid"},
            auth=(client_id, SECRET),
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def population_state():
    """Builds the demo population once; each test gets a deep copy (see ``city_os``)."""
    return build_state(POPULATION, SEED)


@pytest.fixture
def city_os(provider, population_state) -> Iterator[ThreadedServer]:
    state = population_state.clone()
    settings = ServerSettings(issuer=provider.issuer, clients=(SERVICE_CLIENT, READ_ONLY_CLIENT))
    server = ThreadedServer(create_app(settings, state)).start()
    server.state = state
    yield server
    server.stop()


def connector_config(base_url: str, issuer: str, **extra) -> ConnectorConfig:
    doc = {
        "name": "test",
        "base_url": base_url,
        "page_size": 50,
        "http": {"timeout_s": 5, "connect_timeout_s": 1, "retries": 2, "backoff_s": 0.01},
        "breaker": {"failure_threshold": 3, "reset_after_s": 60},
        "auth": {"issuer": issuer, "client_id": SERVICE_CLIENT, "refresh_leeway_s": 1},
    }
    for key, value in extra.items():
        node = doc
        *path, last = key.split("__")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return parse_config(doc, "test-config")


@pytest.fixture
def config(city_os, provider) -> ConnectorConfig:
    return connector_config(city_os.url, provider.issuer)


@pytest.fixture
def client(config) -> Iterator[CityOSClient]:
    c = CityOSClient(config, client_secret=SECRET)
    yield c
    c.close()


def consenting(state, *items: str, target: str = "city_hq") -> list[str]:
    """Subjects whose consent for every item is in force now, in a stable order."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return sorted(
        s for s, u in state.users.items() if all(u.allowed(i, target, now) for i in items)
    )
