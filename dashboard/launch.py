"""The command that serves the dashboard headless on loopback, and the headless chromium that
drives it — for the browser tests, the soak and anything else that starts a real Streamlit
server (``make demo`` runs it interactively). Never ``playwright install``: Debian's
``/usr/bin/chromium`` (``BOSAI_CHROMIUM`` overrides)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")
CHROMIUM = os.environ.get("BOSAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def headless_command(port: int, *extra: str) -> list[str]:
    """``streamlit run dashboard/app.py`` on 127.0.0.1:``port``: no browser, no file watcher, no
    usage statistics; ``extra`` options are appended (e.g. ``--secrets.files``)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        *extra,
    ]
