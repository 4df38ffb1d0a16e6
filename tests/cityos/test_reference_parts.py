"""The local OpenID Connect provider and the reference city OS behave like real ones (issue 13,
finding 12): the provider checks the service account's secret, the city OS checks which client
a token was issued to, and ``/health`` tells nothing but up or down. Real provider process,
real city OS server, real HTTP."""

from __future__ import annotations

import httpx
import pytest

from .conftest import OTHER_VENDOR_CLIENT, SECRET, SERVICE_CLIENT


def _token(provider, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{provider.issuer}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "openid"},
        auth=(client_id, secret),
    )


@pytest.mark.parametrize(
    "client_id, secret",
    [(SERVICE_CLIENT, "any-other-secret"), ("someone-else", SECRET), ("someone-else", "x")],
    ids=["wrong secret", "unknown client, right secret", "unknown client"],
)
def test_the_local_provider_issues_service_account_tokens_only_with_the_secret(
    provider, client_id, secret
):
    """Before the fix the provider issued the admin service account's token for any secret
    (and a token to any client id). Now: ``invalid_client``, no token."""
    response = _token(provider, client_id, secret)
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()
    assert _token(provider, SERVICE_CLIENT, SECRET).status_code == 200


def test_the_city_os_refuses_a_token_issued_to_another_client(provider, city_os):
    """Before the fix the reference city OS accepted any token the provider knew, whichever
    client it was issued to. Now a token of a client outside its audience is refused (401) even
    when its subject holds every role."""
    other = _token(provider, OTHER_VENDOR_CLIENT, SECRET).json()["access_token"]
    response = httpx.put(
        f"{provider.issuer}/users/{OTHER_VENDOR_CLIENT}",
        json={"roles": ["cityos:read", "cityos:push", "cityos:admin"]},
    )
    assert response.status_code == 204
    refused = httpx.get(f"{city_os.url}/v1/users", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 401
    assert "another client" in refused.json().get("detail", "")
    ours = _token(provider, SERVICE_CLIENT, SECRET).json()["access_token"]
    ok = httpx.get(f"{city_os.url}/v1/users", headers={"Authorization": f"Bearer {ours}"})
    assert ok.status_code == 200


def test_health_answers_up_or_down_only(city_os):
    """Before the fix ``/health`` told anyone the number of users, shelters and events."""
    response = httpx.get(f"{city_os.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "up"}
