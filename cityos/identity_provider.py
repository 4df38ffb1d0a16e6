"""A local OpenID Connect provider for tests, drills and the demo: ``oidc-provider-mock`` plus
the two endpoints a service account needs.

``oidc-provider-mock`` 0.3.x (the release for Python 3.11) issues tokens through the
authorization-code and refresh-token grants only, and has no RFC 7009 revocation endpoint.
The city-OS connector logs in as a *service account* (client-credentials grant) and logs out
by revoking its token, so this launcher runs the mock's own Flask app and adds, on the mock's
own authorization server and token storage:

* the ``client_credentials`` grant at the mock's token endpoint (the token's subject is the
  client id; claims for it can be given with ``--client-claims``) — **only** for service
  accounts registered with their secret (``--client-secret-env``); a wrong secret or any other
  client id is refused (``invalid_client``), as a real provider does,
* ``POST /oauth2/revoke`` (RFC 7009), advertised as ``revocation_endpoint`` in the discovery
  document, and
* ``client_id`` in the userinfo answer: the client the access token was issued to, so that a
  resource server (the reference city OS) can refuse tokens issued to another client.

Everything else (discovery, JWKS, userinfo with expiry checks, authorization code, refresh) is
the mock unchanged. Run ``python -m cityos.identity_provider --port 9400``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

CLIENT_CREDENTIALS = "client_credentials"
#: Without ``--client-claims``: the example connector's service account with every role of
#: the reference city OS (a local demo convenience; a real provider is configured by the city).
DEMO_CLIENTS = {"bosai-ops": {"roles": ["cityos:read", "cityos:push", "cityos:admin"]}}


def build_app(
    token_max_age_s: int = 3600,
    client_claims: dict[str, dict[str, Any]] | None = None,
    users: Sequence[dict[str, Any]] = (),
    client_secrets: dict[str, str] | None = None,
):
    """The mock's Flask app with the client-credentials grant and RFC 7009 revocation added.

    ``client_secrets``: the service accounts (client id → secret) the client-credentials grant
    serves; every other client, and a wrong secret, is refused. Without it no client gets a
    service-account token (people still sign in through the authorization-code flow)."""
    import authlib.oauth2.rfc6749 as rfc6749
    import flask
    from authlib.oauth2.rfc7009 import RevocationEndpoint
    from oidc_provider_mock import app as mock_app
    from oidc_provider_mock._storage import Client, ClientAllowAny, User

    if CLIENT_CREDENTIALS not in Client.GRANT_TYPES_SUPPORTED:
        Client.GRANT_TYPES_SUPPORTED = (*Client.GRANT_TYPES_SUPPORTED, CLIENT_CREDENTIALS)
    claims_by_client = dict(client_claims or {})
    predefined = [
        User(sub=u["sub"], claims={k: v for k, v in u.items() if k != "sub"}) for u in users
    ]
    app = mock_app(
        access_token_max_age=dt.timedelta(seconds=token_max_age_s), user_claims=predefined
    )

    def storage():
        return flask.g.oidc_provider_mock_storage

    class ServiceAccountGrant(rfc6749.ClientCredentialsGrant):
        """Client credentials; the token's user is the client itself (the service account)."""

        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def validate_token_request(self):
            super().validate_token_request()
            client_id = self.request.client.get_client_id()
            if client_id not in service_accounts:
                raise rfc6749.InvalidClientError(
                    description=f"{client_id!r} is not a registered service account"
                )

        def create_token_response(self):
            client_id = self.request.client.get_client_id()
            store = storage()
            user = store.get_user(client_id)
            if user is None:
                user = User(sub=client_id, claims=dict(claims_by_client.get(client_id, {})))
                store.store_user(user)
            self.request.user = user
            token = self.generate_token(
                scope=self.request.payload.scope or "openid",
                include_refresh_token=False,
                expires_in=token_max_age_s,
            )
            self.save_token(token)
            return 200, token, self.TOKEN_RESPONSE_HEADER

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def authenticate_token(self, request, client):
            self.check_params(request, client)
            return self.query_token(request.form["token"], request.form.get("token_type_hint"))

        def query_token(self, token_string, token_type_hint):
            store = storage()
            if token_type_hint == "refresh_token":
                return store.get_refresh_token(token_string)
            return store.get_access_token(token_string) or store.get_refresh_token(token_string)

        def revoke_token(self, token, request):
            store = storage()
            store.remove_access_token(token.token)
            store.remove_refresh_token(token.token)
            access = getattr(token, "access_token", None)
            if access:
                store.remove_access_token(access)

    registered: set[int] = set()
    service_accounts = dict(client_secrets or {})
    #: access token → the client it was issued to (for userinfo's ``client_id``).
    issued_to: dict[str, str] = {}

    @app.before_request
    def _service_account_endpoints():
        server = flask.g._authlib_authorization_server
        if id(server) not in registered:
            server.register_grant(ServiceAccountGrant)
            server.register_endpoint(Revocation)
            for client_id, secret in service_accounts.items():
                storage().store_client(
                    Client(
                        id=client_id,
                        secret=secret,
                        redirect_uris=ClientAllowAny(),
                        allowed_scopes=Client.SCOPES_SUPPORTED,
                        token_endpoint_auth_method=ClientAllowAny(),
                    )
                )
            registered.add(id(server))
        request = flask.request
        if request.method == "POST" and request.path == "/oauth2/revoke":
            return server.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)
        if (
            request.method == "POST"
            and request.path == "/oauth2/token"
            and request.form.get("grant_type") == CLIENT_CREDENTIALS
        ):
            return server.create_token_response()
        return None

    @app.after_request
    def _advertise(response):
        request = flask.request
        if request.path == "/oauth2/token" and response.status_code == 200 and response.is_json:
            token = (response.get_json() or {}).get("access_token")
            auth = request.authorization
            client_id = auth.username if auth and auth.username else request.form.get("client_id")
            if token and client_id:
                issued_to[token] = client_id
        if request.path == "/userinfo" and response.status_code == 200 and response.is_json:
            header = request.headers.get("Authorization", "")
            token = header.split(" ", 1)[1].strip() if " " in header else ""
            doc = response.get_json()
            doc["client_id"] = issued_to.get(token)
            response.set_data(json.dumps(doc))
        if flask.request.path == "/.well-known/openid-configuration" and response.is_json:
            doc = response.get_json()
            doc["revocation_endpoint"] = (
                flask.url_for("oidc-provider-mock.home", _external=True).rstrip("/")
                + "/oauth2/revoke"
            )
            doc["token_endpoint_auth_methods_supported"] = [
                "client_secret_basic",
                "client_secret_post",
            ]
            response.set_data(json.dumps(doc))
        return response

    return app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9400, show_default=True, type=int)
@click.option(
    "--token-max-age", default=3600, show_default=True, type=int, help="Token lifetime (s)."
)
@click.option(
    "--client-claims",
    multiple=True,
    help='Claims of a service account as JSON, e.g. {"client_id": "bosai-ops", "roles": [...]}.',
)
@click.option("--user-claims", multiple=True, help='A user as JSON with "sub" and claims.')
@click.option(
    "--client-secret-env",
    default=None,
    help="The service accounts' secret is in this environment variable (without it, the "
    "client-credentials grant refuses every client).",
)
def main(
    host: str,
    port: int,
    token_max_age: int,
    client_claims: tuple[str, ...],
    user_claims: tuple[str, ...],
    client_secret_env: str | None,
) -> None:
    """Run the OIDC provider (oidc-provider-mock with client credentials and revocation)."""
    import uvicorn

    by_client: dict[str, dict[str, Any]] = {} if client_claims else dict(DEMO_CLIENTS)
    if by_client and not client_secret_env:
        click.echo(
            "no --client-secret-env: the service accounts "
            f"({', '.join(sorted(by_client))}) cannot obtain tokens",
            err=True,
        )
    for text in client_claims:
        doc = json.loads(text)
        by_client[str(doc.pop("client_id"))] = doc
    users = [json.loads(text) for text in user_claims]
    secrets: dict[str, str] = {}
    if client_secret_env:
        secret = os.environ.get(client_secret_env)
        if not secret:
            raise click.UsageError(f"--client-secret-env: ${client_secret_env} is not set")
        secrets = dict.fromkeys(by_client, secret)
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # loopback HTTP only
    app = build_app(token_max_age, by_client, users, secrets)
    uvicorn.run(app, interface="wsgi", host=host, port=port, log_level="warning")


def spawn(
    port: int,
    client_claims: Sequence[dict[str, Any]],
    *,
    token_max_age: int | None = None,
    stderr: int = subprocess.DEVNULL,
    timeout_s: float = 30,
    users: Sequence[dict[str, Any]] = (),
    client_secret_env: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """Run this provider as its own process on 127.0.0.1:``port`` and return once it serves its
    discovery document (tests, benchmarks, the crash harness). ``client_claims``: one mapping per
    service account, with ``client_id``; ``client_secret_env`` (a variable of ``env``) makes it
    accept them only with that secret. Raises RuntimeError (with the process's stderr when
    ``stderr=subprocess.PIPE``) if it exits or does not answer within ``timeout_s``."""
    import httpx

    args = [sys.executable, "-W", "ignore", "-m", "cityos.identity_provider", "--port", str(port)]
    if token_max_age is not None:
        args += ["--token-max-age", str(token_max_age)]
    for claims in client_claims:
        args += ["--client-claims", json.dumps(claims)]
    for user in users:  # people who sign in (``sub`` and their claims)
        args += ["--user-claims", json.dumps(user)]
    if client_secret_env:
        args += ["--client-secret-env", client_secret_env]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **(env or {})}
    )
    discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(discovery).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the OpenID Connect provider did not start: {err[-2000:]}")
        time.sleep(0.1)


if __name__ == "__main__":  # pragma: no cover
    main()
