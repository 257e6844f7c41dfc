"""What interrupted uploads leave in storage, cleaned by the daemon (cli.md: "After a crash, a
later daemon run leaves no temporary file ... in the local storage folder"): temp files of a
daemon killed mid-copy, and resumable uploads on Supabase that are given up (shutdown, a
permanent refusal) are dropped on the server. On both engines."""

from __future__ import annotations

import fcntl
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import Cli, Media
from tests.daemon.conftest import (
    FAST_RETRIES,
    job_rows,
    run_daemon,
    stage_release,
    start_daemon,
    wait_for,
)
from tests.support.storage_server import StorageServer

# The daemon, held in the middle of its first copy into the local storage folder, so that
# the test can kill it there (it waits on an event nobody sets, not on a timer).
_STALLED_MID_COPY = """
import sys, threading
from pathlib import Path
from vwaza_cli.storage import local

def stalled(src, out, *_):
    out.write(src.read(4096))
    out.flush()
    Path(sys.argv[1]).write_text("copying")
    threading.Event().wait()

local._copy = stalled
from daemon.main import main
sys.exit(main(sys.argv[2:]))
"""


def _temp_files(storage: Path) -> list[Path]:
    return [p for p in storage.rglob("*") if p.is_file() and p.name.endswith(".part")]


def _kill_mid_copy(tmp_path: Path) -> None:
    marker = tmp_path / "copying"
    options = ["--concurrency", "1", "--lease", "1"]
    command = [sys.executable, "-c", _STALLED_MID_COPY, str(marker), *options]
    with (tmp_path / "stalled.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        wait_for(marker.exists, timeout=60, what="the daemon to start copying")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def test_a_daemon_killed_mid_copy_leaves_no_temp_file_after_the_next_run(
    ada: Cli, media: Media, env: Path, tmp_path: Path
) -> None:
    stage_release(ada, media, tracks=1)
    storage = env / "data" / "storage"
    _kill_mid_copy(tmp_path)
    assert len(_temp_files(storage)) == 1  # what the probe found piling up

    done = run_daemon("--once", "--lease", "1", *FAST_RETRIES)

    assert done.returncode == 0, done.stderr
    assert "leftover(s) of interrupted uploads" in done.stderr
    assert _temp_files(storage) == []
    assert {j["status"] for j in job_rows()} == {"COMPLETED"}


def test_a_temp_file_a_live_writer_holds_is_left_alone(ada: Cli, media: Media, env: Path) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    folder = env / "data" / "storage" / "audio" / "elsewhere"
    folder.mkdir(parents=True)
    temp = folder / ".other.wav.x1y2z3.part"
    temp.write_bytes(b"another daemon of this machine is copying this")
    with temp.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert run_daemon("--once", *FAST_RETRIES).returncode == 0
        assert temp.exists()
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0  # its writer is gone now
    assert not temp.exists()


def test_a_resumable_upload_given_back_at_shutdown_is_dropped_on_the_server(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, tmp_path: Path
) -> None:
    stage_release(ada, media, tracks=1, seconds=80)  # 7 MB: by TUS
    on_supabase.faults.slow(0.05)  # 64 KiB per 50 ms: the first chunk takes seconds
    process = start_daemon(
        "--concurrency", "1", "--grace", "0.2", *FAST_RETRIES, log=tmp_path / "daemon.log"
    )
    wait_for(on_supabase.unfinished_tus_uploads, timeout=60, what="a resumable upload")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0

    assert on_supabase.unfinished_tus_uploads() == []
    audio = next(j for j in job_rows() if j["type"] == "AUDIO")
    assert (audio["status"], audio["retry_count"]) == ("PENDING", 0)  # given back, not failed
    on_supabase.faults.clear()
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    assert {j["status"] for j in job_rows()} == {"COMPLETED"}


def test_a_resumable_upload_refused_for_good_is_dropped_on_the_server(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, seconds=80, submit=False)
    on_supabase.faults.fail_next(1, status=403, method="PATCH", skip=1, body="forbidden")

    assert run_daemon("--once", *FAST_RETRIES).returncode == 7

    audio = next(j for j in job_rows() if j["type"] == "AUDIO")
    assert audio["status"] == "FAILED"
    assert on_supabase.tus_uploads() == []
