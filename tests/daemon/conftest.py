"""Helpers for driving real daemon processes against a store and a storage server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, Media
from tests.support.storage_server import StorageServer

FAST_RETRIES = ["--retry-base", "0.05", "--retry-cap", "0.3", "--poll", "0.2"]


def daemon_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "daemon", *args]


def run_daemon(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`vwaza-daemon ARGS` in a child process with this test's environment."""
    return subprocess.run(
        daemon_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        check=False,
    )


def start_daemon(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(daemon_command(*args), stdout=out, stderr=out, env=dict(os.environ))


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def job_rows() -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine
    from vwaza_cli.settings import load_settings

    url = load_settings().database_url
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM upload_jobs ORDER BY created_at")).mappings()
        return [dict(r) for r in rows]


def stage_release(
    artist: Cli, media: Media, tracks: int = 2, seconds: float = 0.5, submit: bool = True
) -> str:
    release = artist.ok("release", "create", "Night Drive", "--genre", "Electronic")["id"]
    for n in range(tracks):
        path = media.wav(f"{release[:8]}-{n}.wav", seconds=seconds)
        artist.ok("track", "add", release, str(path), "--title", f"Track {n}")
    artist.ok("release", "cover", release, str(media.cover(f"{release[:8]}.jpg")))
    if submit:
        artist.ok("release", "submit", release)
    return release


@pytest.fixture
def on_supabase(
    storage_server: StorageServer, monkeypatch: pytest.MonkeyPatch, env: Path
) -> StorageServer:
    """Point the CLI and the daemons at the Storage-protocol server."""
    monkeypatch.setenv("VWAZA_STORAGE", "supabase")
    monkeypatch.setenv("SUPABASE_URL", storage_server.url)
    monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    return storage_server
