"""``bosai cityos serve | sync | push | check`` and ``bosai drill run`` on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
import yaml

from bosai.cli import main
from cityos.reference_server.runner import free_port
from sql import cityos_store
from sql.engine import make_engine

from .conftest import SECRET, SERVICE_CLIENT


@pytest.fixture
def config_file(tmp_path, city_os, provider, monkeypatch):
    path = tmp_path / "city.yaml"
    doc = {
        "name": "cli",
        "base_url": city_os.url,
        "page_size": 100,
        "http": {"retries": 1, "backoff_s": 0.01, "connect_timeout_s": 1},
        "auth": {"issuer": provider.issuer, "client_id": SERVICE_CLIENT},
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    monkeypatch.setenv("BOSAI_CITYOS_CLIENT_SECRET", SECRET)
    return path


def bosai(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


def test_sync_twice_then_with_the_city_os_down(sqlite_url, config_file, city_os, capsys):
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(config_file)) == 0
    out = capsys.readouterr().out
    assert f"{len(city_os.state.users)} users" in out and "consent events appended" in out
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(config_file)) == 0
    assert "cityos:cli: 0 users" in capsys.readouterr().out
    city_os.stop()
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(config_file)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bosai: error: users: city OS at")
    assert "unavailable after 2 attempts" in err[0]
    engine = make_engine(sqlite_url)
    assert cityos_store.source_health(engine, "cityos:cli")["stale"] is True
    engine.dispose()


def test_push_and_check(sqlite_url, config_file, city_os, capsys):
    subjects = sorted(city_os.state.users)[:3]
    args = [
        "--target",
        f"citizens:{','.join(subjects)}",
        "--title",
        "避難指示",
        "--body",
        "避難してください",
    ]
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(config_file)) == 0
    capsys.readouterr()
    assert bosai(sqlite_url, "cityos", "push", "--config", str(config_file), *args) == 0
    assert "3 recipients" in capsys.readouterr().out
    assert (
        bosai(
            sqlite_url,
            "cityos",
            "push",
            "--config",
            str(config_file),
            "--target",
            "somebody",
            "--title",
            "t",
            "--body",
            "b",
        )
        == 2
    )
    assert "--target 'somebody'" in capsys.readouterr().err
    assert bosai(sqlite_url, "cityos", "check", "--config", str(config_file)) == 0
    assert "session ok: subject bosai-ops" in capsys.readouterr().out


def test_configuration_errors_are_clear(sqlite_url, config_file, tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad Name\nbase_url: http://10.1.2.3\n", encoding="utf-8")
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(bad)) == 2
    err = capsys.readouterr().err
    assert (
        "bad.yaml: invalid connector configuration" in err and "base_url" in err and "auth" in err
    )
    monkeypatch.delenv("BOSAI_CITYOS_CLIENT_SECRET")
    assert bosai(sqlite_url, "cityos", "sync", "--config", str(config_file)) == 2
    assert "export BOSAI_CITYOS_CLIENT_SECRET" in capsys.readouterr().err


def test_drill_run(sqlite_url, config_file, city_os, capsys):
    code = bosai(
        sqlite_url,
        "drill",
        "run",
        "--scenario",
        "flood",
        "--speed",
        "6000",
        "--until",
        "15",
        "--tick",
        "0.05",
        "--config",
        str(config_file),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "ran 15 scenario minutes" in out and "status_reports" in out
    assert (
        bosai(sqlite_url, "drill", "run", "--scenario", "nope", "--config", str(config_file)) == 2
    )


def test_serve_starts_the_reference_city_os(provider):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "bosai",
            "cityos",
            "serve",
            "--port",
            str(port),
            "--issuer",
            provider.issuer,
            "--citizens",
            "50",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health").json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health == {"status": "up"}  # nothing more without a token (13.12)
        token = provider.token()
        users = httpx.get(
            f"http://127.0.0.1:{port}/v1/users", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert len(users["items"]) == 50
    finally:
        process.terminate()
        process.wait(timeout=10)
