"""The demo's city OS beside the dashboard: ``bosai serve-demo`` (what ``make demo`` runs).

Three processes on loopback, started together and stopped together:

* the local OpenID Connect provider (:mod:`cityos.identity_provider`) on ``idp_port``, which
  accepts the connector's service account only with a client secret made up at start
  (``secrets.token_urlsafe``; never in a file of the repository);
* the reference city OS (``bosai cityos serve``) on ``cityos_port``, over the same demo
  population as the database (the demo's size and seed from ``meta['demo']``), trusting that
  provider;
* the dashboard (``streamlit run dashboard/app.py``) on ``port``, with the secret and the two
  addresses in its environment — so the notifications page sends through the city OS end to end.

The secret is also written to ``var/cityos-demo.secret`` (mode 600, ``var/`` is ignored by git)
for the README's commands in another terminal, and removed when the demo stops. Ctrl-C (or a
TERM signal) stops all three.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bosai.errors import BosaiError

#: The dashboard's entry point (run as a file by streamlit, not imported).
DASHBOARD_APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
SECRET_ENV = "BOSAI_CITYOS_CLIENT_SECRET"
SECRET_FILE = Path("var") / "cityos-demo.secret"
DEMO_CLIENT = {"client_id": "bosai-ops", "roles": ["cityos:read", "cityos:push", "cityos:admin"]}


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _wait_for(url: str, process: subprocess.Popen, what: str, timeout_s: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BosaiError(f"{what} exited (code {process.returncode}) before it answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise BosaiError(f"{what} did not answer at {url} within {timeout_s:.0f} s")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def _secret_file(secret: str, path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def environment(secret: str, database_url: str, idp_port: int, cityos_port: int) -> dict[str, str]:
    """What the dashboard and the city OS need to find each other."""
    return {
        **os.environ,
        SECRET_ENV: secret,
        "BOSAI_DATABASE_URL": database_url,
        "BOSAI_CITYOS_ISSUER": f"http://127.0.0.1:{idp_port}",
        "BOSAI_CITYOS_BASE_URL": f"http://127.0.0.1:{cityos_port}",
    }


def run(
    database_url: str,
    *,
    citizens: int,
    seed: int,
    port: int = 8501,
    idp_port: int = 9400,
    cityos_port: int = 8700,
    secret_file: Path = SECRET_FILE,
    dashboard: bool = True,
) -> None:
    """Start the three, wait until the dashboard stops (or Ctrl-C), stop them all."""
    from cityos.identity_provider import spawn

    busy = [p for p in (idp_port, cityos_port, port) if not port_is_free(p)]
    if busy:
        raise BosaiError(
            f"port {', '.join(map(str, busy))} is in use on 127.0.0.1 (another `make demo`?); "
            "stop it or choose other ports (--port, --idp-port, --cityos-port)"
        )
    secret = secrets.token_urlsafe(24)
    env = environment(secret, database_url, idp_port, cityos_port)
    processes: list[subprocess.Popen] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        processes.append(
            spawn(idp_port, [DEMO_CLIENT], client_secret_env=SECRET_ENV, env=env, timeout_s=60)
        )
        city_os = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bosai",
                "cityos",
                "serve",
                "--port",
                str(cityos_port),
                "--issuer",
                env["BOSAI_CITYOS_ISSUER"],
                "--citizens",
                str(citizens),
                "--seed",
                str(seed),
            ],
            env=env,
        )
        processes.append(city_os)
        _wait_for(f"{env['BOSAI_CITYOS_BASE_URL']}/health", city_os, "the reference city OS")
        with _secret_file(secret, secret_file):
            print(
                f"bosai: local city OS on {env['BOSAI_CITYOS_BASE_URL']} ({citizens:,} demo "
                f"citizens), identity provider on {env['BOSAI_CITYOS_ISSUER']}; the client "
                f"secret for other terminals is in {secret_file}",
                file=sys.stderr,
                flush=True,
            )
            if not dashboard:
                processes[-1].wait()
                return
            streamlit = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    str(DASHBOARD_APP),
                    "--server.port",
                    str(port),
                    "--server.address",
                    "127.0.0.1",
                ],
                env=env,
                cwd=DASHBOARD_APP.parents[1],  # the project's .streamlit/config.toml applies
            )
            processes.append(streamlit)
            streamlit.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)
