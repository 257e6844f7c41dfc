"""`vwaza serve` itself: a foreground uvicorn, its log on stderr, plain http for loopback
only, and nothing of the server loaded for `vwaza --help`."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Cli
from tests.server.conftest import Api, start_server
from vwaza_cli.server.config import LOOPBACK_PROXIES, ServerSettings, load_server_settings

SERVER_MODULES = ("fastapi", "uvicorn", "starlette")  # pydantic: typer may load it
STARTED = re.compile(r"running on (http://127\.0\.0\.1:\d+)")


def _loaded_for(*args: str) -> list[str]:
    probe = (
        "import sys\n"
        f"sys.argv = ['vwaza', *{list(args)!r}]\n"
        "from vwaza_cli.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {SERVER_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(done.stdout.strip().splitlines()[-1])  # a list literal we printed


def test_help_loads_nothing_of_the_server() -> None:
    assert _loaded_for("--help") == []
    assert _loaded_for("serve", "--help") == []


def _drain(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put(None)


@pytest.fixture
def served(env: Path) -> Iterator[tuple[str, subprocess.Popen[str], queue.Queue[str | None]]]:
    Cli().ok("init")
    command = [sys.executable, "-m", "vwaza_cli", "serve", "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    lines: queue.Queue[str | None] = queue.Queue()
    drain = threading.Thread(target=_drain, args=(process.stderr, lines), daemon=True)
    drain.start()
    base = _wait_for_start(lines)
    yield base, process, lines
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)
    drain.join(timeout=30)  # stderr read to its end before it is closed
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _wait_for_start(lines: queue.Queue[str | None]) -> str:
    while True:
        line = lines.get(timeout=60)
        assert line is not None, "vwaza serve exited before it started"
        found = STARTED.search(line)
        if found:
            return found.group(1)


def test_serve_answers_health_and_logs_each_request_on_stderr(
    served: tuple[str, subprocess.Popen[str], queue.Queue[str | None]],
) -> None:
    base, process, lines = served
    assert httpx.get(f"{base}/api/v1/health").json() == {"status": "ok"}
    process.terminate()
    assert process.wait(timeout=30) == 0
    assert process.stdout is not None
    assert process.stdout.read() == ""
    rest = []
    while (line := lines.get(timeout=30)) is not None:
        rest.append(line)
    assert any('"GET /api/v1/health HTTP/1.1" 200' in line for line in rest)


def test_tls_cert_without_key_is_a_usage_error(env: Path) -> None:
    outcome = Cli()("serve", "--tls-cert", "cert.pem")
    assert outcome.exit_code == 2
    assert "give both --tls-cert and --tls-key" in outcome.stderr


def _behind_proxy(api: Api, proto: str) -> httpx.Response:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": proto}
    return api.get("/health", headers=forwarded)


@pytest.fixture
def proxied(env: Path) -> Iterator[Api]:
    """A server told that a TLS-terminating proxy on this machine forwards to it."""
    from vwaza_cli.server.app import create_app

    Cli().ok("init")
    running = start_server(create_app(server_settings=ServerSettings(LOOPBACK_PROXIES)))
    yield Api(running.base)
    running.server.should_exit = True
    running.thread.join(timeout=30)


def test_behind_a_proxy_plain_http_from_another_machine_is_refused(proxied: Api) -> None:
    refused = _behind_proxy(proxied, "http")
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission"
    assert refused.json()["error"]["message"].startswith("plain http is refused")
    assert _behind_proxy(proxied, "https").json() == {"status": "ok"}


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(api: Api) -> None:
    assert _behind_proxy(api, "http").json() == {"status": "ok"}  # it is loopback, truly


def test_trust_proxy_setting() -> None:
    assert load_server_settings({}).trusted_proxies == ()
    assert load_server_settings({"VWAZA_SERVER_TRUST_PROXY": "1"}).trusted_proxies == (
        LOOPBACK_PROXIES
    )
    both = {"VWAZA_SERVER_TRUST_PROXY": "10.0.0.5, ::1"}
    assert load_server_settings(both).trusted_proxies == ("10.0.0.5", "::1")
    from vwaza_cli.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not an IP address"):
        load_server_settings({"VWAZA_SERVER_TRUST_PROXY": "proxy.local"})


def test_public_url_setting() -> None:
    assert load_server_settings({}).public_url is None
    given = {"VWAZA_SERVER_PUBLIC_URL": " https://vwaza.example.com/ "}
    assert load_server_settings(given).public_url == "https://vwaza.example.com"
    from vwaza_cli.errors import InvalidInput

    with pytest.raises(InvalidInput, match="must be the URL clients use"):
        load_server_settings({"VWAZA_SERVER_PUBLIC_URL": "vwaza.example.com"})


def test_serve_records_itself_for_doctor_on_other_machines(
    served: tuple[str, subprocess.Popen[str], queue.Queue[str | None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, process, _ = served
    monkeypatch.setenv("VWAZA_MACHINE_ID", "ada-laptop")
    check = _server_check_once("warn")  # uvicorn says it runs just before the server records
    assert f"VWAZA_SERVER={base}" in check["fix"]
    process.terminate()
    assert process.wait(timeout=30) == 0
    assert _doctors_server_check()["status"] == "ok"  # stopped cleanly: no longer counted


def _doctors_server_check() -> dict:
    return {c["name"]: c for c in Cli().ok("doctor")["checks"]}["server"]


def _server_check_once(status: str, within: float = 30.0) -> dict:
    deadline = time.monotonic() + within
    while (check := _doctors_server_check())["status"] != status:
        assert time.monotonic() < deadline, check
        time.sleep(0.05)
    return check
