"""A FAILED job's cause says why it stopped, never that it will be retried; the retry log
line shows the delay that was drawn, never a negative one."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Cli, Media
from tests.daemon.conftest import job_rows, run_daemon, stage_release
from tests.support.storage_server import StorageServer

NO_WAIT = ["--retry-base", "0", "--retry-cap", "0", "--poll", "0.2"]


def test_a_job_that_spends_its_budget_says_it_gave_up(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    on_supabase.faults.fail_next(100, 503, method="POST")
    done = run_daemon("--once", "--max-attempts", "2", *NO_WAIT)
    assert done.returncode == 7, done.stderr
    for job in job_rows():
        assert job["status"] == "FAILED"
        assert job["error_log"].startswith("gave up after 2 failed attempts: "), job["error_log"]
        assert "503" in job["error_log"]
        assert "retry" not in job["error_log"]


def test_a_permanent_failure_does_not_promise_a_retry(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    on_supabase.create_bucket("vwaza-uploads", allowed_mime_types=["image/jpeg"])
    stage_release(ada, media, tracks=1, submit=False)
    assert run_daemon("--once", *NO_WAIT).returncode == 7
    audio = next(j for j in job_rows() if j["type"] == "AUDIO")
    assert audio["status"] == "FAILED"
    assert "retry" not in audio["error_log"]


def test_the_retry_line_never_shows_a_negative_delay(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    on_supabase.faults.fail_next(4, 503, method="POST")
    done = run_daemon("--once", *NO_WAIT)  # every delay drawn is 0: due at the failure
    assert done.returncode == 0, done.stderr
    delays = re.findall(r"retry \S+ in (\S+)s", done.stderr)
    assert delays, done.stderr
    assert set(delays) == {"0.0"}, done.stderr
