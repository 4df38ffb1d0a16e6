"""The city-OS connector (都市OS連携).

The pilot's seven APIs — ID authentication (OpenID Connect), one user's information and all
users' information with the opt-in check, shelter information, push-notification request,
access-token refresh, logout — plus the live event feed, behind one configurable client:

* :mod:`cityos.config` — the per-city configuration (addresses, client id, claim names, paths);
* :mod:`cityos.client` — Authlib OAuth 2.0 service account, timeouts, retries, circuit breaker;
* :mod:`cityos.payloads` — typed payloads of the contract ``cityos/openapi.yaml``;
* :mod:`cityos.contract` — the contract's enumerations, once;
* :mod:`cityos.optin` — the opt-in check on our side of the boundary;
* :mod:`cityos.sync` — ``bosai cityos sync`` (all-or-nothing, incremental, stale marker);
* :mod:`cityos.push` — push notifications, recorded with their delivery events;
* :mod:`cityos.drill_player` — plays a drill scenario through the city OS into the database;
* :mod:`cityos.reference_server` — the reference city OS; :mod:`cityos.identity_provider` —
  a local OpenID Connect provider for tests and the demo.

Database writes go through :mod:`sql.cityos_store` (the sync), :mod:`sql.cityos_drills` and
:mod:`sql.cityos_push`; nothing here writes SQL.
"""
