"""docs/vwaza-daemon.service: starts the daemon, outwaits its grace period, restarts it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.main import parse_args

UNIT = Path(__file__).resolve().parents[2] / "docs" / "vwaza-daemon.service"
_TIME_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> keys -> every value given (a key such as Environment may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(span: str) -> float:
    """A systemd time span ('60', '90s', '1min 30s') in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span)
    assert parts, f"not a time span: {span!r}"
    return sum(float(number) * _TIME_UNITS[unit or "s"] for number, unit in parts)


@pytest.fixture
def service() -> dict[str, list[str]]:
    return read_unit(UNIT)["Service"]


@pytest.fixture
def daemon_args(service: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The options ExecStart gives, read with the environment's defaults cleared."""
    for name in list(os.environ):
        if name.startswith("VWAZA_"):
            monkeypatch.delenv(name)
    [command] = service["ExecStart"]
    return shlex.split(command)[1:]


def test_the_unit_starts_vwaza_daemon_with_options_it_accepts(
    service: dict[str, list[str]], daemon_args: list[str]
) -> None:
    [command] = service["ExecStart"]
    assert shlex.split(command)[0].endswith("/vwaza-daemon")
    assert not parse_args(daemon_args).once  # a service runs until stopped


def test_systemd_waits_longer_than_the_daemon_grace_period(
    service: dict[str, list[str]], daemon_args: list[str]
) -> None:
    [timeout] = service["TimeoutStopSec"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert seconds(timeout) > parse_args(daemon_args).grace


def test_the_unit_restarts_the_daemon_when_it_fails(service: dict[str, list[str]]) -> None:
    assert service["Restart"] == ["on-failure"]
    assert seconds(service["RestartSec"][0]) >= 1


def test_settings_come_from_an_optional_file_in_the_config_folder(
    service: dict[str, list[str]],
) -> None:
    assert service["EnvironmentFile"] == ["-%h/.config/vwaza/daemon.env"]
    assert read_unit(UNIT)["Install"]["WantedBy"] == ["default.target"]


def test_systemd_analyze_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    installed = Path(sys.executable).with_name("vwaza-daemon")
    if not installed.exists():
        pytest.skip("vwaza-daemon is not installed beside this Python")
    # verify checks that ExecStart exists: point it at this checkout's daemon.
    unit = tmp_path / UNIT.name
    text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={installed}", UNIT.read_text())
    unit.write_text(text)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        [analyze, "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        check=False,
    )
    output = done.stdout + done.stderr
    if "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot run here: {output.strip()}")
    # Bad settings are only warnings ("..., ignoring"), each naming the unit file.
    complaints = [line for line in output.splitlines() if unit.name in line]
    assert done.returncode == 0, output
    assert complaints == []
