"""A staged copy that changed after it was queued (cli.md, "Integrity and abuse"): the daemon
stores only bytes whose SHA-256 is the accepted file's. The copy is hashed while it is sent
and checked before the object is finished, so the job fails at once (no retry brings the
bytes back), nothing is stored or recorded, and the file is kept; on both engines and both
storage backends."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, Media
from tests.daemon.conftest import FAST_RETRIES, job_rows, run_daemon, stage_release
from tests.support.storage_server import StorageServer

BACKENDS = ("local", "supabase")


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    storage_server: StorageServer,
    monkeypatch: pytest.MonkeyPatch,
    env: Path,
) -> str:
    if request.param == "supabase":
        monkeypatch.setenv("VWAZA_STORAGE", "supabase")
        monkeypatch.setenv("SUPABASE_URL", storage_server.url)
        monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    return str(request.param)


def _stored_keys(backend: str, server: StorageServer, home: Path) -> set[str]:
    if backend == "supabase":
        return set(server.objects())
    root = home / "data" / "storage"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _tamper(path: Path, at: int = 100) -> str:
    """Overwrite 4 bytes in place (the size stays); the SHA-256 of what the file holds now."""
    with path.open("r+b") as staged:
        staged.seek(at)
        staged.write(b"\xde\xad\xbe\xef")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audio_job() -> dict[str, Any]:
    return next(j for j in job_rows() if j["type"] == "AUDIO")


def _assert_failed_for_the_changed_copy(job: dict[str, Any], found: str) -> None:
    assert (job["status"], job["retry_count"]) == ("FAILED", 1)  # at once: no retry
    error = job["error_log"]
    assert "changed after it was queued" in error
    assert f"SHA-256 {job['sha256']} expected, {found} found" in error
    assert hashlib.sha256(Path(job["local_path"]).read_bytes()).hexdigest() == found  # kept


def _assert_nothing_stored_nor_recorded(
    ada: Cli, release: str, backend: str, server: StorageServer, home: Path
) -> None:
    job = _audio_job()
    cover = next(j for j in job_rows() if j["type"] == "COVER_ART")
    assert cover["status"] == "COMPLETED"
    assert _stored_keys(backend, server, home) == {cover["object_key"]}
    assert server.unfinished_tus_uploads() == []  # a resumable upload was dropped
    shown = ada.ok("release", "show", release)
    assert shown["tracks"][0]["audio_file"] == job["local_path"]  # never the URL
    assert shown["status"] == "DRAFT"  # back to the artist, as for any permanent failure


def test_a_staged_copy_that_changed_fails_its_job_and_nothing_is_stored(
    ada: Cli, media: Media, backend: str, storage_server: StorageServer, env: Path
) -> None:
    release = stage_release(ada, media, tracks=1)
    found = _tamper(Path(_audio_job()["local_path"]))
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 7, done.stderr
    _assert_failed_for_the_changed_copy(_audio_job(), found)
    _assert_nothing_stored_nor_recorded(ada, release, backend, storage_server, env)


def test_a_changed_copy_sent_resumably_is_dropped_before_it_completes(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    release = stage_release(ada, media, tracks=1, seconds=80)  # 7 MB: by TUS
    found = _tamper(Path(_audio_job()["local_path"]))
    assert run_daemon("--once", *FAST_RETRIES).returncode == 7
    _assert_failed_for_the_changed_copy(_audio_job(), found)
    _assert_nothing_stored_nor_recorded(ada, release, "supabase", on_supabase, env)
    assert [r.status for r in on_supabase.requests if r.method == "PATCH"] == [204, None]


def test_retrying_a_changed_copy_fails_again_without_storing_it(
    ada: Cli, media: Media, backend: str, storage_server: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    found = _tamper(Path(_audio_job()["local_path"]))
    assert run_daemon("--once", *FAST_RETRIES).returncode == 7
    ada.ok("jobs", "retry", "--failed")
    assert run_daemon("--once", *FAST_RETRIES).returncode == 7
    job = _audio_job()
    assert (job["status"], job["retry_count"], job["failures_since_queued"]) == ("FAILED", 2, 1)
    assert f"{found} found" in job["error_log"]
    assert job["object_key"] not in _stored_keys(backend, storage_server, env)


def test_a_copy_that_changed_after_its_object_landed_leaves_no_object(
    ada: Cli, media: Media, backend: str, storage_server: StorageServer, env: Path
) -> None:
    """A crash after the object landed, before the job was recorded; then the staged copy
    changed: the object at its key is no longer known to be the accepted file, so it goes."""
    from vwaza_cli.services.context import Context
    from vwaza_cli.storage import open_store

    stage_release(ada, media, tracks=1, submit=False)
    job = _audio_job()
    store = open_store(Context.from_environment().settings)
    path = Path(job["local_path"])
    store.put_file(
        job["object_key"],
        path,
        content_type=job["content_type"],
        size=job["size"],
        sha256=job["sha256"],
    )
    store.close()
    found = _tamper(path)
    assert run_daemon("--once", *FAST_RETRIES).returncode == 7
    _assert_failed_for_the_changed_copy(_audio_job(), found)
    assert job["object_key"] not in _stored_keys(backend, storage_server, env)
