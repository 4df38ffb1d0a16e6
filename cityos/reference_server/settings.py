"""Settings of the reference city OS: which identity provider, which claims, which population."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything the reference city OS needs to know; nothing city-specific is hard-coded.

    The identity provider is named by its issuer URL; its userinfo endpoint (used to check
    bearer tokens) is read from the issuer's discovery document unless given.
    """

    issuer: str = "http://127.0.0.1:9400"
    userinfo_endpoint: str | None = None
    #: The claim that lists the token subject's roles (a list or a space-separated string).
    roles_claim: str = "roles"
    #: The claim naming the share target the caller reads as; absent means ``default_share_target``.
    share_target_claim: str = "share_target"
    default_share_target: str = "city_hq"
    read_role: str = "cityos:read"
    push_role: str = "cityos:push"
    admin_role: str = "cityos:admin"
    #: The clients whose tokens are accepted (the audience): a token the provider issued to
    #: another client (a citizen app, the dashboard) is refused even when its subject has roles.
    #: Read from the provider's userinfo ``client_id`` (or ``azp``/``aud``).
    clients: tuple[str, ...] = ("bosai-ops",)
    #: Demo population built with the project's demo generator.
    citizens: int = 2_000
    seed: int = 20220311
    city_file: Path | None = None
    #: Timeout of calls to the identity provider (seconds).
    provider_timeout_s: float = 5.0

    @classmethod
    def from_env(cls, **overrides) -> ServerSettings:
        """Defaults, then ``BOSAI_CITYOS_SERVER_*`` environment variables, then ``overrides``."""
        values: dict = {}
        for field in dataclasses.fields(cls):
            raw = os.environ.get(f"BOSAI_CITYOS_SERVER_{field.name.upper()}")
            if raw is None:
                continue
            if field.name in ("citizens", "seed"):
                values[field.name] = int(raw)
            elif field.name == "provider_timeout_s":
                values[field.name] = float(raw)
            elif field.name == "city_file":
                values[field.name] = Path(raw)
            elif field.name == "clients":
                values[field.name] = tuple(c.strip() for c in raw.split(",") if c.strip())
            else:
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
