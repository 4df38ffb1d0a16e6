"""What can go wrong talking to a city OS, as errors people can read (one line each)."""

from __future__ import annotations

from bosai.errors import BosaiError


class CityOSError(BosaiError):
    """Base class: a call to the city OS failed."""


class CityOSUnavailable(CityOSError):
    """The city OS (or its identity provider) did not answer, answered 5xx, or the circuit
    breaker is open after repeated failures."""


class CityOSAuthError(CityOSError):
    """The identity provider refused our credentials, or the city OS refused our token."""


class CityOSRequestError(CityOSError):
    """The city OS refused a request (4xx problem document)."""

    def __init__(self, message: str, status: int, problem: dict | None = None):
        super().__init__(message)
        self.status = status
        self.problem = problem or {}


class CityOSContractError(CityOSError):
    """The city OS answered with a payload that does not follow the contract."""


class ConnectorConfigError(BosaiError):
    """The connector configuration file is missing or invalid (exit code 2)."""

    exit_code = 2
