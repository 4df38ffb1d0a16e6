"""The deployment files in ``deploy/``: every systemd unit runs a command that exists, as the
units are written (paths, sub-commands and options), and the proxy's configuration rendered by
``bosai deploy proxy-config`` passes ``haproxy -c``."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest

from bosai.cli import cli, main
from tests.conftest import ROOT, skip_or_fail

UNITS = ROOT / "deploy" / "systemd"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser


def _bosai_command(argv: list[str]) -> click.Command:
    """The click command ``bosai ARGV`` runs (raises if a sub-command or option is unknown)."""
    ctx = cli.make_context("bosai", list(argv), resilient_parsing=True)
    command: click.Command = cli
    args = list(argv)
    while isinstance(command, click.Group) and args:
        name, command, args = command.resolve_command(ctx, args)
        ctx = command.make_context(name, args, parent=ctx)
    return command


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_every_service_runs_a_command_that_exists(path):
    unit = _unit(path)
    exec_start = unit["Service"]["ExecStart"].replace("%%", "%").replace("%i", "8501")
    argv = shlex.split(exec_start)
    if argv[0] == "/bin/sh":  # a shell only for the file name's date: $(...) is one word
        argv = shlex.split(re.sub(r"\$\([^)]*\)", "20260101-0300", argv[2]).removeprefix("exec "))
    program = Path(argv[0]).name
    assert argv[0].startswith("/opt/bosai/.venv/bin/")
    if program == "bosai":
        command = _bosai_command(argv[1:])
        assert command.callback is not None
    else:
        assert program == "streamlit" and argv[1:3] == ["run", "dashboard/app.py"]
        assert (ROOT / argv[2]).is_file()
    assert unit["Service"]["User"] == "bosai"
    assert unit["Service"]["NoNewPrivileges"] == "true"


def test_every_timer_starts_a_service_of_ours():
    for timer in UNITS.glob("*.timer"):
        assert (UNITS / timer.name.replace(".timer", ".service")).is_file()
    wanted = _unit(UNITS / "bosai.target")["Unit"]["Wants"].split()
    for name in wanted:
        if name != "haproxy.service":
            template = name.split("@")[0] + "@.service" if "@" in name else name
            assert (UNITS / template).is_file(), name


def test_proxy_configuration_passes_haproxys_check(tmp_path, capsys):
    from deploy import proxy

    try:
        proxy.haproxy()
    except proxy.ProxyError as exc:
        skip_or_fail("BROWSER", str(exc))
    certificate = tmp_path / "tls.pem"
    assert main(["deploy", "certificate", "--out", str(certificate), "--host", "127.0.0.1"]) == 0
    assert certificate.stat().st_mode & 0o077 == 0
    out = tmp_path / "haproxy.cfg"
    args = ["deploy", "proxy-config", "--app", "127.0.0.1:8501", "--app", "127.0.0.1:8502"]
    args += ["--listen", "127.0.0.1:8443", "--certificate", str(certificate)]
    args += ["--redirect-listen", "127.0.0.1:8080", "--out", str(out)]
    assert main(args) == 0
    text = out.read_text()
    assert "cookie BOSAI_NODE insert" in text and "option redispatch" in text
    assert "server app2 127.0.0.1:8502 check cookie app2" in text
    # No app process given: a clear error, nothing written.
    assert main(["deploy", "proxy-config", "--app", "", "--certificate", "x"]) != 0
