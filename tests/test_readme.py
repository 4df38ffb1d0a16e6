"""Every command the README shows works as written after its two set-up commands.

* every ``bosai …`` command it names exists, with every flag it shows (``bosai … --help``);
* every ``python -m …`` module it names runs, with every flag it shows;
* the safe commands run as written on a database of their own: set-up, info, the city;
* the city OS on one machine, both ways the README gives: beside the dashboard
  (``bosai serve-demo``, what ``make demo`` runs — the secret file, a check, a sync and a drill,
  then everything stopped) and in three terminals (the provider, the reference city OS, the
  sync and the drill) — shell lines run exactly as written, in the project's environment
  (``source .venv/bin/activate``, as the README says).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bosai.cli import cli
from cityos.local_stack import SECRET_FILE, port_is_free
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV_BIN = str(Path(sys.executable).parent)
CITY_OS_PORTS = (9400, 8700)


def code_spans(text: str) -> list[str]:
    """Inline code, whitespace (line breaks in the README's prose) made single spaces."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", text.replace("```", "\0"))]


def shell_blocks(text: str) -> list[list[str]]:
    """The README's ``sh`` blocks, as lists of command lines (comments dropped)."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [
        [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
        for block in blocks
    ]


def bosai_commands() -> list[tuple[list[str], list[str]]]:
    """(sub-command path, flags shown) for every ``bosai …`` the README names."""
    found = []
    for row in README.splitlines():
        # In the command table only the first cell names commands.
        spans = code_spans(row.split(" | ")[0] if row.startswith("| `bosai") else row)
        group: list[str] = []
        for span in spans:
            for part in span.split(" / "):
                words = part.split()
                if words and words[0] == "bosai":
                    words = words[1:]
                    path = []
                    for word in words:
                        if not re.fullmatch(r"[a-z][a-z-]*", word):
                            break
                        path.append(word)
                    group = path[:-1]
                elif (
                    group
                    and words
                    and re.fullmatch(r"[a-z][a-z-]*", words[0])
                    and row.startswith("| `bosai")
                ):
                    path = [*group, words[0]]  # `list`, `set ID ...` beside `bosai staff add`
                else:
                    continue
                flags = re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", part)
                found.append((path, flags))
    for block in shell_blocks(README):
        for line in block:
            for command in re.split(r"&&|;", line):
                words = shlex.split(command.replace("$(", "").replace(")", ""))
                if words and words[0] in ("bosai", ".venv/bin/bosai"):
                    path = [w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)]
                    found.append((path, [w for w in words if w.startswith("--")]))
    return found


def test_every_bosai_command_and_flag_the_readme_shows_exists():
    commands = bosai_commands()
    assert len(commands) > 30  # the table, the city section, the shell blocks
    runner = CliRunner()
    for path, flags in commands:
        result = runner.invoke(cli, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.output
        for flag in flags:
            assert flag in result.output, (path, flag)


def test_every_make_target_the_readme_shows_exists_and_test_fast_names_real_markers():
    import tomllib

    targets = {line.split()[1] for b in shell_blocks(README) for line in b if line[:5] == "make "}
    assert {"demo", "test", "test-fast"} <= targets
    for target in sorted(targets):
        result = subprocess.run(
            ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (target, result.stderr)
    recipe = subprocess.run(
        ["make", "-n", "test-fast"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    expression = re.search(r'pytest -m "([^"]+)"', recipe).group(1)
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "pytest"
    ]["ini_options"]["markers"]
    markers = {m.split(":")[0] for m in declared}
    used = set(expression.split()) - {"not", "and", "or"}
    assert used == {"browser", "pg", "slow"} and used <= markers


def test_every_python_module_the_readme_names_runs_with_its_flags():
    modules = {}
    for span in code_spans(README) + [line for b in shell_blocks(README) for line in b]:
        match = re.search(r"python -m ([\w.]+)((?: [a-z][\w-]*)*)", span)
        if match:
            sub = match.group(2).split()
            modules.setdefault((match.group(1), tuple(sub[:1])), set()).update(
                re.findall(r"(--[a-z][a-z-]*)", span)
            )
    names = {m for m, _ in modules}
    assert {"cityos.identity_provider", "benchmarks.soak", "benchmarks.crash_harness"} <= names
    for (module, sub), flags in modules.items():
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-m", module, *sub, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (module, result.stderr[-2000:])
        for flag in flags:
            assert flag in result.stdout, (module, flag)


def run(line: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """One README line in bash, in the project's environment, from the repository's root."""
    result = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (line, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.fixture
def readme_env(tmp_path) -> dict[str, str]:
    """The environment after ``source .venv/bin/activate``, on a database of this test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOSAI_CITYOS")}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env["BOSAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'readme.sqlite'}"
    return env


def test_the_safe_commands_run_as_written(readme_env):
    for line, shown in (
        ("bosai db upgrade", "`bosai db upgrade`"),
        ("bosai info", "`bosai info [--json]`"),
        ("bosai info --json", "`bosai info [--json]`"),
        ("bosai city show", "`bosai city show`"),
        ("bosai city load sql/cities/072028.yaml", "`sql/cities/072028.yaml`"),
        ("bosai demo --citizens 300", "`bosai demo [--citizens N]"),
        ("bosai audit verify", "`bosai audit verify"),
    ):
        assert shown in README, shown
        run(line, readme_env)
    assert '"schema_revision"' in run("bosai info --json", readme_env).stdout


def city_os_blocks() -> tuple[list[str], list[str]]:
    beside, alone = [b for b in shell_blocks(README) if any("cityos sync" in line for line in b)]
    return beside, alone


def _wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.5)


@pytest.mark.slow
def test_the_city_os_on_one_machine_both_ways(readme_env):
    if not all(port_is_free(p) for p in CITY_OS_PORTS) or (ROOT / SECRET_FILE).exists():
        pytest.skip("ports 9400/8700 are in use here (a `make demo` running?)")
    beside, alone = city_os_blocks()
    run("bosai db upgrade && bosai demo --citizens 500", readme_env)

    # Beside the dashboard, as `make demo` runs it (its dashboard on a free port).
    from cityos.reference_server.runner import free_port

    demo = subprocess.Popen(
        ["bosai", "serve-demo", "--port", str(free_port())],
        cwd=ROOT,
        env=readme_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_file(ROOT / SECRET_FILE, demo)
        assert oct((ROOT / SECRET_FILE).stat().st_mode)[-3:] == "600"
        output = run(" && ".join(beside), readme_env).stdout
        assert "session ok" in output and "drill" in output
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
    assert not (ROOT / SECRET_FILE).exists()  # the secret goes with the demo
    assert all(port_is_free(p) for p in CITY_OS_PORTS)  # and so do the provider and city OS

    # Three terminals: the first two lines keep running; the rest in the third.
    servers = [
        subprocess.Popen(["bash", "-c", line], cwd=ROOT, env=readme_env, start_new_session=True)
        for line in alone[:2]
    ]
    try:
        deadline = time.monotonic() + 120
        while any(port_is_free(p) for p in CITY_OS_PORTS):
            assert time.monotonic() < deadline, "the provider or the city OS did not start"
            assert all(s.poll() is None for s in servers)
            time.sleep(0.5)
        time.sleep(2)
        output = run(" && ".join(alone[2:]), readme_env).stdout
        assert "drill" in output
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
