"""Run the deployment on one machine without systemd: several Streamlit processes of the
dashboard behind HAProxy (``python -m deploy.runner`` or ``bosai deploy run``).

Each app process is ``streamlit run dashboard/app.py`` on 127.0.0.1 (the repository's
``.streamlit/config.toml`` applies: XSRF on, no error details, headless), all with the same
environment and secrets file — the same ``[auth] cookie_secret``, so a sign-in made through one
process is valid on every other. The runner restarts an app process that dies (``restart``);
the proxy sends its sessions to the others meanwhile. On a server, the systemd units in
``deploy/systemd/`` do the same job.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from deploy import proxy

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"


def app_command(port: int, secrets: Path | None = None) -> list[str]:
    """The dashboard on 127.0.0.1:``port`` (settings from ``.streamlit/config.toml``)."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    if secrets is not None:
        command += ["--secrets.files", str(secrets)]
    return command


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Wait until ``url`` answers 200 (raises if the process exits or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise proxy.ProxyError(f"{process.args[:5]} exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise proxy.ProxyError(f"{url} did not answer within {timeout:.0f} s; see {log}")


class Deployment:
    """App processes on ``ports`` and HAProxy on ``listen`` with ``certificate``; logs and the
    rendered configuration in ``workdir``. A context manager: everything stops on exit."""

    def __init__(
        self,
        ports: Sequence[int],
        *,
        listen: str,
        certificate: Path,
        workdir: Path,
        env: dict[str, str] | None = None,
        secrets: Path | None = None,
    ):
        self.ports = list(ports)
        self.listen = listen
        self.certificate = certificate
        self.workdir = Path(workdir)
        self.env = {**os.environ, **(env or {})}
        self.secrets = secrets
        self.apps: dict[str, subprocess.Popen] = {}
        self.haproxy: subprocess.Popen | None = None
        self.names = {app.name: int(app.address.rsplit(":", 1)[1]) for app in self._apps()}

    def _apps(self) -> list[proxy.App]:
        return proxy.apps_at([f"127.0.0.1:{p}" for p in self.ports])

    def start_app(self, name: str) -> subprocess.Popen:
        port = self.names[name]
        log = self.workdir / f"{name}.log"
        process = subprocess.Popen(
            app_command(port, self.secrets),
            cwd=ROOT,
            env=self.env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        self.apps[name] = process
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, log)
        return process

    def __enter__(self) -> Deployment:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.names:
                self.start_app(name)
            config = self.workdir / "haproxy.cfg"
            config.write_text(
                proxy.render_config(self._apps(), listen=self.listen, certificate=self.certificate)
            )
            self.haproxy = proxy.start(config, self.workdir / "haproxy.log")
            host, port = self.listen.rsplit(":", 1)
            probe = f"https://{'127.0.0.1' if host in ('', '*', '0.0.0.0') else host}:{port}"
            self._wait_proxy(probe)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_proxy(self, url: str, timeout: float = 30) -> None:
        import ssl

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # our own certificate; only "is it up"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.haproxy is not None
            if self.haproxy.poll() is not None:
                raise proxy.ProxyError(f"haproxy exited; see {self.workdir / 'haproxy.log'}")
            try:
                with urllib.request.urlopen(
                    f"{url}/_stcore/health", timeout=2, context=context
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise proxy.ProxyError(f"the proxy at {url} did not answer")

    def supervise(self, every: float = 2.0) -> None:
        """Restart any app process that died, until interrupted."""
        while True:
            for name, process in list(self.apps.items()):
                if process.poll() is not None:
                    print(f"{name} exited ({process.returncode}); restarting", file=sys.stderr)
                    self.start_app(name)
            if self.haproxy is not None and self.haproxy.poll() is not None:
                raise proxy.ProxyError("haproxy exited")
            time.sleep(every)

    def stop(self) -> None:
        for process in [*self.apps.values(), self.haproxy]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [*self.apps.values(), self.haproxy]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.runner", description=__doc__)
    parser.add_argument("--apps", type=int, default=2, help="Streamlit processes (default 2)")
    parser.add_argument("--first-port", type=int, default=8501)
    parser.add_argument("--listen", default="127.0.0.1:8443", help="the proxy's HTTPS address")
    parser.add_argument("--certificate", type=Path, required=True, help="PEM: chain + key")
    parser.add_argument("--secrets", type=Path, help="the apps' secrets.toml ([auth])")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "deploy")
    args = parser.parse_args(argv)
    ports = [args.first_port + i for i in range(args.apps)]
    deployment = Deployment(
        ports,
        listen=args.listen,
        certificate=args.certificate,
        workdir=args.workdir,
        secrets=args.secrets,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with deployment:
        print(f"serving https://{args.listen} → {', '.join(map(str, ports))}", file=sys.stderr)
        try:
            deployment.supervise()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
