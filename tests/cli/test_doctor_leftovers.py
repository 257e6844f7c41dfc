"""`vwaza doctor` and leftovers: it reports temp files piling up in the spool (count, size and
the fix), and leaves nothing of its own behind, in the spool or in storage, even when a
check fails (both storage backends)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.support.storage_server import StorageServer


def _checks(cli: Cli) -> dict[str, dict]:
    return {c["name"]: c for c in cli("doctor", "--json").json()["checks"]}


def _incoming(home: Path) -> Path:
    return home / "data" / "spool" / ".incoming"


def _temp(home: Path, name: str, size: int, age_seconds: float = 0.0) -> Path:
    folder = _incoming(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\0" * size)
    past = time.time() - age_seconds
    os.utime(path, (past, past))
    return path


def test_temp_files_piling_up_in_the_spool_are_reported_with_the_fix(
    initialised: Cli, env: Path
) -> None:
    _temp(env, "a.part", 1_000_000, age_seconds=7200)
    _temp(env, "b.part", 500_000, age_seconds=7200)
    _temp(env, "c.part", 10)  # a copy in progress right now

    spool = _checks(initialised)["spool"]

    assert spool["status"] == "warn"
    assert "3 temp file(s) of interrupted copies, 1.5 MB, 2 older than an hour" in spool["detail"]
    assert "vwaza-daemon" in spool["fix"]
    assert str(_incoming(env)) in spool["fix"]


def test_a_copy_in_progress_is_mentioned_but_not_a_warning(initialised: Cli, env: Path) -> None:
    _temp(env, "c.part", 2_000_000)

    spool = _checks(initialised)["spool"]

    assert spool["status"] == "ok"
    assert (
        "1 temp file(s) of interrupted copies, 2.0 MB, none older than an hour" in (spool["detail"])
    )


def test_a_spool_probe_that_fails_half_way_leaves_no_file(
    initialised: Cli, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(path: Path, data: bytes) -> int:
        with path.open("wb") as out:
            out.write(data[:4])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)

    spool = _checks(initialised)["spool"]

    assert spool["status"] == "fail"
    assert "No space left" in spool["detail"]
    assert list(_incoming(env).iterdir()) == []


def _use_supabase(server: StorageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VWAZA_STORAGE", "supabase")
    monkeypatch.setenv("SUPABASE_URL", server.url)
    monkeypatch.setenv("SUPABASE_KEY", server.key)


def _probe_objects(backend: str, server: StorageServer, home: Path) -> list[str]:
    if backend == "supabase":
        return [key for key in server.objects() if key.startswith(".vwaza-probe/")]
    root = home / "data" / "storage"
    return [str(p) for p in root.rglob("*")] if root.exists() else []


@pytest.mark.parametrize("backend", ["local", "supabase"])
def test_the_storage_probe_leaves_no_object_when_it_passes(
    initialised: Cli, env: Path, storage_server: StorageServer, monkeypatch, backend: str
) -> None:
    if backend == "supabase":
        _use_supabase(storage_server, monkeypatch)

    assert _checks(initialised)["storage"]["status"] == "ok"

    assert _probe_objects(backend, storage_server, env) == []


def test_a_supabase_probe_that_fails_after_its_object_landed_removes_it(
    initialised: Cli, env: Path, storage_server: StorageServer, monkeypatch
) -> None:
    _use_supabase(storage_server, monkeypatch)
    storage_server.faults.land_then_fail(1, status=500, method="POST")  # stored, "failed"

    assert _checks(initialised)["storage"]["status"] == "fail"

    assert _probe_objects("supabase", storage_server, env) == []


def test_a_local_probe_that_fails_leaves_nothing(
    initialised: Cli, env: Path, storage_server: StorageServer, mocker
) -> None:
    mocker.patch("os.replace", side_effect=PermissionError(errno.EACCES, "Permission denied"))

    assert _checks(initialised)["storage"]["status"] == "fail"

    assert _probe_objects("local", storage_server, env) == []
