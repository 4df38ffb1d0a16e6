"""The HTTPS proxy in front of several Streamlit processes: HAProxy's configuration, a
self-signed certificate for trials and tests, and the ``haproxy`` process.

What the proxy does and why is written in the template (``deploy/haproxy.cfg.j2``): TLS, sticky
sessions by cookie with redispatch when a process dies, WebSocket pass-through, security headers
(HSTS, ``X-Content-Type-Options: nosniff``, CSP ``frame-ancestors 'none'``), Streamlit's
``/_stcore/metrics`` closed and ``/_stcore/host-config`` answered by the proxy with no
cross-origin message senders allowed (Streamlit's own advice for deployments, config.py's
``client.allowedOrigins``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bosai.errors import BosaiError

TEMPLATE = "haproxy.cfg.j2"
#: What the Streamlit frontend needs from ``/_stcore/host-config`` — and nothing that lets
#: another site's frame control the app (``allowedOrigins`` empty: no postMessage senders).
HOST_CONFIG = {
    "allowedOrigins": [],
    "useExternalAuthToken": False,
    "enableCustomParentMessages": False,
    "enforceDownloadInNewTab": False,
    "metricsUrl": "",
    "blockErrorDialogs": False,
    "resourceCrossOriginMode": None,
}
#: No framing by any site (clickjacking), no plugins, no <base> elsewhere. Streamlit needs
#: inline scripts and styles, so script and style sources are left to the app.
CONTENT_SECURITY_POLICY = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
HSTS_SECONDS = 63_072_000  # two years


class ProxyError(BosaiError):
    """The proxy's configuration or process failed."""


@dataclasses.dataclass(frozen=True)
class App:
    """One Streamlit process behind the proxy."""

    name: str
    address: str  # host:port


def apps_at(addresses: Sequence[str]) -> list[App]:
    """``["127.0.0.1:8501", ...]`` → apps named ``app1``, ``app2``, … (the sticky cookie's
    values)."""
    if not addresses:
        raise ProxyError("name at least one app process (host:port)")
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or any(c.isspace() for c in address):
            raise ProxyError(f"{address!r} is not an app process address (host:port)")
    return [App(f"app{i}", a) for i, a in enumerate(addresses, start=1)]


def render_config(
    apps: Sequence[App],
    *,
    listen: str,
    certificate: Path | str,
    redirect_listen: str | None = None,
    check_interval: str = "2s",
    max_connections: int = 2000,
    log_level: str = "notice",
) -> str:
    """HAProxy's configuration for ``apps`` behind TLS on ``listen`` (``host:port``) with the
    PEM file ``certificate`` (certificate chain and private key); ``redirect_listen`` adds a
    plain-HTTP port that only redirects to HTTPS."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # a configuration file, not HTML
    )
    return env.get_template(TEMPLATE).render(
        apps=list(apps),
        listen=listen,
        certificate=str(certificate),
        redirect_listen=redirect_listen,
        check_interval=check_interval,
        max_connections=max_connections,
        log_level=log_level,
        host_config=json.dumps(HOST_CONFIG, separators=(",", ":")),
        content_security_policy=CONTENT_SECURITY_POLICY,
        hsts_seconds=HSTS_SECONDS,
    )


def haproxy() -> str:
    path = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if path is None:
        raise ProxyError("haproxy not found: apt-get install haproxy")
    return path


def check_config(config: Path) -> None:
    """``haproxy -c``: raises :class:`ProxyError` with HAProxy's words when it is invalid."""
    done = subprocess.run(
        [haproxy(), "-c", "-q", "-f", str(config)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ProxyError(f"{config}: {(done.stderr or done.stdout).strip()[-1000:]}")


def start(config: Path, log: Path) -> subprocess.Popen:
    """Run HAProxy in the foreground (``-db``) with ``config``; its log goes to ``log``."""
    check_config(config)
    return subprocess.Popen(
        [haproxy(), "-db", "-f", str(config)],
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def self_signed_certificate(
    out: Path, hostnames: Sequence[str] = ("localhost",), days: int = 30
) -> Path:
    """A PEM file with a new self-signed certificate and its private key (ECDSA P-256) for
    ``hostnames`` (IP addresses allowed) — for trials and tests, never for citizens' or staff's
    browsers in production (use the city's certificate). Written with mode 0600."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)
    out.write_bytes(pem)
    return out
