"""docs/vwaza-serve.service: starts `vwaza serve` on loopback behind the proxy it trusts,
with the daemon's settings, and restarts it when it fails."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_systemd_unit import UNIT as DAEMON_UNIT
from tests.unit.test_systemd_unit import read_unit

UNIT = DAEMON_UNIT.with_name("vwaza-serve.service")


def _exec_start() -> list[str]:
    (line,) = read_unit(UNIT)["Service"]["ExecStart"]
    return shlex.split(line)


def test_the_unit_runs_vwaza_serve_with_options_it_accepts() -> None:
    from typer.main import get_command

    from vwaza_cli.cli.main import app

    argv = _exec_start()
    assert Path(argv[0]).name == "vwaza"
    assert argv[1] == "serve"
    command = get_command(app).get_command(None, "serve")  # type: ignore[arg-type]
    assert command is not None
    context = command.make_context("serve", argv[2:])
    assert context.params["host"] == "127.0.0.1"  # only the proxy on this machine reaches it


def test_the_server_trusts_the_proxy_on_its_machine_and_shares_the_daemons_settings() -> None:
    from vwaza_cli.server.config import LOOPBACK_PROXIES, load_server_settings

    service = read_unit(UNIT)["Service"]
    env = dict(value.split("=", 1) for value in service["Environment"])
    assert load_server_settings(env).trusted_proxies == LOOPBACK_PROXIES
    assert service["EnvironmentFile"] == read_unit(DAEMON_UNIT)["Service"]["EnvironmentFile"]


def test_the_unit_restarts_the_server_when_it_fails() -> None:
    service = read_unit(UNIT)["Service"]
    assert service["Restart"] == ["on-failure"]
    assert service["KillSignal"] == ["SIGTERM"]


def test_systemd_analyze_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    installed = Path(sys.executable).with_name("vwaza")
    if not installed.exists():
        pytest.skip("vwaza is not installed beside this Python")
    unit = tmp_path / UNIT.name
    unit.write_text(re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={installed}", UNIT.read_text()))
    daemon = tmp_path / DAEMON_UNIT.name
    daemon.write_text(
        re.sub(
            r"(?m)^ExecStart=\S+",
            f"ExecStart={installed.with_name('vwaza-daemon')}",
            DAEMON_UNIT.read_text(),
        )
    )
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        [analyze, "verify", "--user", str(unit), str(daemon)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        check=False,
    )
    output = done.stdout + done.stderr
    if "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot run here: {output.strip()}")
    complaints = [line for line in output.splitlines() if unit.name in line]
    assert done.returncode == 0, output
    assert complaints == []
