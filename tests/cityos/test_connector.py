"""The connector against the real reference city OS on loopback, with real tokens from a real
OpenID Connect provider process: every API, token expiry and refresh, logout, failures."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from cityos import payloads as p
from cityos.client import CityOSClient
from cityos.errors import (
    CityOSAuthError,
    CityOSContractError,
    CityOSRequestError,
    CityOSUnavailable,
)
from cityos.reference_server.app import create_app
from cityos.reference_server.runner import ThreadedServer, free_port
from cityos.reference_server.settings import ServerSettings

from .conftest import READ_ONLY_CLIENT, SECRET, Provider, connector_config, consenting


def test_session_check_uses_a_real_token_and_the_configured_claims(client, provider):
    session = client.session()
    assert session.active and session.subject == "bosai-ops"
    assert {"cityos:read", "cityos:push", "cityos:admin"} <= set(session.roles)
    assert client.session_subject(session) == "bosai-ops"
    assert client.tokens_obtained == 1
    # The token really came from the provider: its userinfo endpoint knows it.
    userinfo = httpx.get(
        f"{provider.issuer}/userinfo", headers={"Authorization": f"Bearer {client.access_token}"}
    )
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == "bosai-ops"


def test_all_users_pages_through_everyone_with_the_opt_in_check(client, city_os):
    users, revision = client.all_users(0)
    state = city_os.state
    assert len(users) == len(state.users) and revision == state.revision
    assert len({u.subject for u in users}) == len(users)
    now = dt.datetime.now(dt.UTC)
    for user in users:
        record = state.users[user.subject]
        for item, field in (("basic_info", "basic_info"), ("location", "location")):
            if not record.allowed(item, "city_hq", now):
                assert getattr(user, field) is None
        if record.allowed("basic_info", "city_hq", now):
            assert user.basic_info is not None and user.basic_info.name
    # Incremental: nothing changed since the last revision.
    again, same = client.all_users(revision)
    assert again == [] and same == revision


def test_one_user_and_an_unknown_one(client, city_os):
    subject = consenting(city_os.state, "basic_info")[0]
    user = client.user(subject)
    assert user.subject == subject and user.basic_info is not None
    assert any(c.data_item == "basic_info" and c.state == "given" for c in user.consents)
    with pytest.raises(CityOSRequestError) as err:
        client.user("nobody-here")
    assert err.value.status == 404 and "nobody-here" in str(err.value)


def test_shelters_with_position_hazards_and_capacity(client, city_os):
    shelters, revision = client.all_shelters(0)
    assert len(shelters) == len(city_os.state.shelters)
    assert all(-90 <= s.lat <= 90 and s.name for s in shelters)
    assert any("flood" in s.hazards for s in shelters)
    assert any(s.capacity for s in shelters)
    assert client.all_shelters(revision)[0] == []


def test_push_request_is_idempotent_and_reports_deliveries(client, city_os):
    subjects = sorted(city_os.state.users)[:5]
    target = p.PushTarget(kind="citizens", subjects=subjects)
    first = client.push(target, "避難指示", "直ちに避難してください", idempotency_key="k-1")
    again = client.push(target, "避難指示", "直ちに避難してください", idempotency_key="k-1")
    assert first.request_id == again.request_id and first.recipient_count == 5
    assert len(city_os.state.pushes) == 1
    looked_up = client.push_request(first.request_id)
    assert looked_up.deliveries == first.deliveries
    deliveries = client.deliveries(first.request_id)
    assert {d.subject for d in deliveries.items} == set(subjects)
    counts = first.deliveries
    assert counts.delivered + counts.failed == 5
    with pytest.raises(CityOSRequestError) as err:
        client.push(target, "別の題名", "本文", idempotency_key="k-1")
    assert err.value.status == 409


def test_event_feed_respects_consent(client, city_os):
    state = city_os.state
    yes = consenting(state, "safety_status")[0]
    no = next(
        s
        for s, u in sorted(state.users.items())
        if not u.allowed("safety_status", "city_hq", dt.datetime.now(dt.UTC))
    )
    at = dt.datetime.now(dt.UTC).isoformat()
    accepted = client.post_events(
        [
            {"kind": "status", "subject": s, "at": at, "status": {"state": "evacuating"}}
            for s in (yes, no)
        ]
    )
    assert accepted.accepted == 2
    events, last = client.all_events(0)
    assert [e.subject for e in events] == [yes]
    assert last == accepted.last_event_id


def test_admin_calls_change_consent_and_status(client, city_os):
    subject = consenting(city_os.state, "basic_info", "safety_status")[0]
    user = client.set_consents(
        subject, [{"data_item": "basic_info", "share_target": "city_hq", "state": "withdrawn"}]
    )
    assert user.basic_info is None
    event_id = client.set_status(subject, "needs_rescue", message="2階に避難")
    assert client.user(subject).safety_status.report_id == event_id


def test_token_refresh_before_expiry_and_expired_tokens_are_refused(population_state):
    provider = Provider(token_max_age=2)
    try:
        state = population_state.clone()
        app = create_app(ServerSettings(issuer=provider.issuer), state)
        with ThreadedServer(app) as server:
            config = connector_config(server.url, provider.issuer, auth__refresh_leeway_s=1)
            with CityOSClient(config, client_secret=SECRET) as client:
                client.session()
                first = client.access_token
                time.sleep(1.3)  # less than the leeway left: Authlib gets a new token first
                client.session()
                assert client.tokens_obtained == 2 and client.access_token != first
            # An expired token is refused by the city OS (the provider says it expired).
            stale = provider.token()
            time.sleep(2.3)
            response = httpx.get(
                f"{server.url}/v1/auth/session", headers={"Authorization": f"Bearer {stale}"}
            )
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"] == "/problems/invalid-token"
    finally:
        provider.stop()


def test_explicit_refresh_gets_a_new_token(client):
    client.session()
    before = client.access_token
    session = client.refresh()
    assert session.active and client.access_token != before and client.tokens_obtained == 2


def test_a_token_revoked_at_the_provider_is_replaced_once(client, provider):
    client.session()
    revoked = client.access_token
    response = httpx.post(
        f"{provider.issuer}/oauth2/revoke", data={"token": revoked}, auth=("bosai-ops", SECRET)
    )
    assert response.status_code == 200
    assert client.session().active
    assert client.access_token != revoked and client.tokens_obtained == 2


def test_logout_ends_the_session_at_the_city_os_and_the_provider(client, city_os, provider):
    client.session()
    token = client.access_token
    client.logout()
    assert client.access_token is None
    at_city_os = httpx.get(
        f"{city_os.url}/v1/auth/session", headers={"Authorization": f"Bearer {token}"}
    )
    assert at_city_os.status_code == 401
    at_provider = httpx.get(
        f"{provider.issuer}/userinfo", headers={"Authorization": f"Bearer {token}"}
    )
    assert at_provider.status_code != 200
    # The next call logs in again.
    assert client.session().active and client.tokens_obtained == 2


def test_user_session_refresh_through_the_city_os(client, provider):
    """The refresh API for a citizen app's session (authorization code + refresh token)."""
    code_response = httpx.post(
        f"{provider.issuer}/oauth2/authorize",
        params={
            "client_id": "citizen-app",
            "redirect_uri": "http://127.0.0.1/callback",
            "response_type": "code",
            "scope": "openid",
        },
        data={"sub": "citizen-1"},
    )
    code = httpx.URL(code_response.headers["location"]).params["code"]
    tokens = httpx.post(
        f"{provider.issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1/callback",
        },
        auth=("citizen-app", "app-secret"),
    ).json()
    refreshed = client.refresh_user_session(tokens["refresh_token"], "citizen-app", "app-secret")
    assert refreshed.access_token and refreshed.access_token != tokens["access_token"]
    with pytest.raises(CityOSAuthError, match="403 Refresh refused"):
        client.refresh_user_session("not-a-refresh-token", "citizen-app", "app-secret")


def test_a_role_the_token_lacks_is_refused(city_os, provider):
    config = connector_config(city_os.url, provider.issuer, auth__client_id=READ_ONLY_CLIENT)
    with CityOSClient(config, client_secret=SECRET) as reader:
        assert reader.all_users(0)[0]
        with pytest.raises(CityOSAuthError, match="403"):
            reader.push(p.PushTarget(kind="everyone"), "t", "b")


def test_unreachable_city_os_is_retried_then_the_circuit_opens(provider):
    dead = f"http://127.0.0.1:{free_port()}"
    config = connector_config(dead, provider.issuer)
    waits: list[float] = []
    with CityOSClient(config, client_secret=SECRET, sleep=waits.append) as client:
        for _ in range(3):
            with pytest.raises(CityOSUnavailable, match="unavailable after 3 attempts"):
                client.session()
        assert client.breaker.state == "open"
        with pytest.raises(CityOSUnavailable, match="circuit open"):
            client.session()
    assert waits[:2] == [0.01, 0.02]


def test_server_errors_are_retried(client, city_os, monkeypatch):
    state = city_os.state
    calls = {"n": 0}
    original = state.shelters_since

    def flaky(since, limit):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient failure")
        return original(since, limit)

    monkeypatch.setattr(state, "shelters_since", flaky)
    shelters, _ = client.all_shelters(0)
    assert shelters and calls["n"] >= 2


def test_a_payload_outside_the_contract_is_a_clear_error(client, city_os, monkeypatch):
    state = city_os.state
    monkeypatch.setattr(
        state,
        "shelters_since",
        lambda since, limit: {"items": [{"name": "x"}], "revision": 1, "has_more": False},
    )
    with pytest.raises(CityOSContractError, match=r"shelters since=0 #0: shelter_id invalid_field"):
        client.all_shelters(0)
    # The sync passes a list instead: the record is quarantined and the page goes on.
    held: list = []
    assert client.all_shelters(0, quarantine=held) == ([], 1)
    assert [(q.kind, q.field, q.reason) for q in held] == [
        ("shelter", "shelter_id", "invalid_field")
    ]
    monkeypatch.setattr(state, "shelters_since", lambda since, limit: {"items": [], "revision": 1})
    with pytest.raises(CityOSContractError, match="outside the contract: has_more"):
        client.all_shelters(0)


def test_wrong_client_credentials_are_an_auth_error(city_os, provider, tmp_path):
    # The mock accepts any secret for unregistered clients; a registered client with a secret
    # refuses a wrong one.
    registered = httpx.post(
        f"{provider.issuer}/oauth2/clients",
        json={
            "redirect_uris": ["http://127.0.0.1/cb"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    ).json()
    config = connector_config(city_os.url, provider.issuer, auth__client_id=registered["client_id"])
    with CityOSClient(config, client_secret="wrong") as client:
        with pytest.raises(CityOSAuthError, match="identity provider refused"):
            client.session()


def test_a_slow_city_os_times_out_and_is_retried(city_os, provider, monkeypatch):
    state = city_os.state
    original = state.shelters_since
    calls = {"n": 0}

    def slow(since, limit):
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(1.5)  # longer than the configured read timeout below
        return original(since, limit)

    monkeypatch.setattr(state, "shelters_since", slow)
    config = connector_config(city_os.url, provider.issuer, http__timeout_s=0.5)
    with CityOSClient(config, client_secret=SECRET, sleep=lambda s: None) as quick:
        shelters, _ = quick.all_shelters(0)
    assert shelters and calls["n"] >= 2


def test_claim_names_and_roles_come_from_configuration(population_state, provider):
    """Another vendor: roles in a claim named ``groups`` as a space-separated string."""
    response = httpx.put(
        f"{provider.issuer}/users/other-vendor-client",
        json={"groups": "os:read os:push", "tenant": "city-b"},
    )
    assert response.status_code == 204
    settings = ServerSettings(
        issuer=provider.issuer,
        roles_claim="groups",
        read_role="os:read",
        push_role="os:push",
        clients=("other-vendor-client",),
    )
    with ThreadedServer(create_app(settings, population_state.clone())) as server:
        config = connector_config(
            server.url,
            provider.issuer,
            auth__client_id="other-vendor-client",
            claims__subject="sub",
            claims__roles="groups",
        )
        with CityOSClient(config, client_secret=SECRET) as client:
            session = client.session()
            assert set(session.roles) == {"os:read", "os:push"}
            assert session.claims["tenant"] == "city-b"
            assert client.session_subject(session) == "other-vendor-client"
            assert client.all_shelters(0)[0]
            with pytest.raises(CityOSAuthError, match="cityos:admin"):
                client.set_opt_in_check(False)


class _FakeDiscovery:
    """An HTTP server on loopback that answers discovery with ``doc`` and records every other
    request (a token endpoint that must never be asked)."""

    def __init__(self, doc_for):
        import http.server
        import json
        import threading

        requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(doc_for(self.server.url)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                requests.append(self.path)
                self.send_response(400)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.server.url
        self.requests = requests
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "doc_for, message",
    [
        (
            lambda url: {"issuer": "https://idp.attacker.example", "token_endpoint": url + "/t"},
            "names another issuer",
        ),
        (lambda url: {"token_endpoint": url + "/t"}, "names another issuer"),
        (
            lambda url: {"issuer": url, "token_endpoint": "http://idp.attacker.example/token"},
            "token_endpoint 'http://idp.attacker.example/token' is not https",
        ),
    ],
    ids=["another issuer", "no issuer", "plain-http token endpoint"],
)
def test_the_connector_trusts_only_its_issuer_and_https_endpoints(city_os, doc_for, message):
    """Issue 13, finding 11: before the fix the discovery document's ``issuer`` was not
    compared with the configured one and a plain-http token endpoint received the client
    secret. Now either is refused before any request carries the secret."""
    fake = _FakeDiscovery(doc_for)
    try:
        config = connector_config(city_os.url, fake.url)
        with CityOSClient(config, client_secret=SECRET) as client:
            with pytest.raises(CityOSAuthError, match=message):
                client.session()
        assert fake.requests == []  # no token request, no secret sent
    finally:
        fake.close()
