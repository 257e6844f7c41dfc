"""A large upload says how far it got: a log line at each tenth, and `bytes_sent` on the
job (written with the lease, a few times a file, never at every piece), which `jobs list`
shows while the job is UPLOADING."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, Media
from tests.daemon.conftest import FAST_RETRIES, job_rows, run_daemon
from tests.support.storage_server import StorageServer

BIG_SECONDS = 200.0  # 17.6 MB of 16-bit mono: above the 8 MiB from which progress is said
LINE = re.compile(r"uploading (\S+) (\d+)% \((\S+ [MG]B) of (\S+ [MG]B)\)")


def _stage(artist: Cli, media: Media, seconds: float = BIG_SECONDS) -> dict[str, Any]:
    release = artist.ok("release", "create", "Night Drive", "--genre", "Electronic")
    return artist.ok("track", "add", release["id"], str(media.wav(seconds=seconds)))


def _percentages(stderr: str, job_id: str) -> list[int]:
    return [int(m[2]) for m in LINE.finditer(stderr) if m[1] == job_id]


@pytest.mark.parametrize("backend", ["local", "supabase"])
def test_a_large_upload_logs_each_tenth_and_ends_with_its_size_sent(
    ada: Cli, media: Media, env: Path, storage_server: StorageServer, monkeypatch, backend: str
) -> None:
    if backend == "supabase":  # TUS: 6 MiB chunks, read 256 KiB at a time
        monkeypatch.setenv("VWAZA_STORAGE", "supabase")
        monkeypatch.setenv("SUPABASE_URL", storage_server.url)
        monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    track = _stage(ada, media)
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    said = _percentages(done.stderr, track["upload_job_id"])
    assert [percent // 10 for percent in said] == list(range(1, 10))  # once in each tenth
    (job,) = [j for j in job_rows() if j["type"] == "AUDIO"]
    for line in (m for m in LINE.finditer(done.stderr) if m[1] == job["id"]):
        sent = float(line[3].removesuffix(" MB")) * 1e6
        assert line[4] == f"{job['size'] / 1e6:.1f} MB"
        assert abs(sent - job["size"] * int(line[2]) / 100) <= 0.05e6 + job["size"] / 100
    assert (job["status"], job["bytes_sent"]) == ("COMPLETED", job["size"])


def test_a_small_upload_says_nothing_of_its_progress(ada: Cli, media: Media, env: Path) -> None:
    _stage(ada, media, seconds=1.0)
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    assert "uploading " not in done.stderr
    assert [j["bytes_sent"] for j in job_rows()] == [j["size"] for j in job_rows()]


class _Watched:
    """The local store, with a look at the store each time the upload passes a point."""

    def __init__(self, store: Any, at: list[float], look: Callable[[], None]) -> None:
        self.store, self.at, self.look = store, at, look
        self.pieces = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def put_file(self, key: str, path: Path, *, on_progress: Any, **rest: Any) -> str | None:
        marks = [int(rest["size"] * fraction) for fraction in self.at]

        def progress(sent: int) -> None:
            on_progress(sent)  # the daemon's: it writes bytes_sent at each tenth
            self.pieces += 1
            while marks and sent >= marks[0]:
                marks.pop(0)
                self.look()

        return self.store.put_file(key, path, on_progress=progress, **rest)


def _upload_in_process(store_of: Callable[[Any], Any]) -> Any:
    """One claimed job through the daemon's Uploader, in this process; a lease long enough
    that it is never extended for time, only at the tenths."""
    from daemon.policy import RetryPolicy
    from daemon.upload import Uploader
    from vwaza_cli.services import queue
    from vwaza_cli.services.context import Context
    from vwaza_cli.storage import open_store

    ctx = Context.from_environment()
    store = store_of(open_store(ctx.settings))
    lease = timedelta(hours=1)
    job = queue.claim(ctx, "test-daemon", lease)
    assert job is not None
    Uploader(ctx, store, "test-daemon", lease, RetryPolicy(), threading.Event()).process(job)
    return store


def test_jobs_list_shows_how_far_an_upload_in_progress_got(
    ada: Cli, media: Media, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    track = _stage(ada, media)
    seen: list[dict[str, Any]] = []
    tables: list[str] = []

    def look() -> None:
        (job,) = ada.ok("jobs", "list")
        seen.append(job)
        tables.append(ada("jobs", "list").stdout)

    _upload_in_process(lambda store: _Watched(store, [0.05, 0.35, 0.95], look))
    size = seen[0]["size"]
    assert [job["status"] for job in seen] == ["UPLOADING"] * 3
    assert [job["bytes_sent"] * 10 // size for job in seen] == [0, 3, 9]  # the tenth last said
    assert "sent" in tables[1]
    assert f"({seen[1]['bytes_sent'] * 100 // size}%)" in tables[1]
    (done,) = ada.ok("jobs", "list")
    assert (done["id"], done["status"], done["bytes_sent"]) == (
        track["upload_job_id"],
        "COMPLETED",
        size,
    )
    assert "sent" not in ada("jobs", "list").stdout  # no column without an upload running


def test_the_progress_is_written_a_few_times_not_at_every_piece(
    ada: Cli, media: Media, env: Path, mocker
) -> None:
    from vwaza_cli.services import queue

    _stage(ada, media)
    extend = mocker.spy(queue, "extend")
    store = _upload_in_process(lambda store: _Watched(store, [], lambda: None))
    assert store.pieces >= 17  # the local store copies 1 MiB at a time
    assert extend.call_count == 9  # one write at each tenth, 10% to 90%
