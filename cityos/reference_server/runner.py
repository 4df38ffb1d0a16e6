"""Start the reference city OS: in the foreground (``bosai cityos serve``) or in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from .settings import ServerSettings


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def build(settings: ServerSettings):
    """The application over a freshly built demo population."""
    from .app import create_app
    from .population import build_state

    return create_app(settings, build_state(settings.citizens, settings.seed, settings.city_file))


def serve(settings: ServerSettings, host: str = "127.0.0.1", port: int = 8700) -> None:
    """Run the reference city OS until interrupted."""
    import uvicorn

    uvicorn.run(build(settings), host=host, port=port, log_level="warning")


class ThreadedServer:
    """A uvicorn server on a background thread (tests, benchmarks, drills)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None):
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the reference city OS did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1", port: int | None = None) -> Iterator[ThreadedServer]:
    server = ThreadedServer(app, host, port).start()
    try:
        yield server
    finally:
        server.stop()
