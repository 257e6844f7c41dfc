"""Storage that refuses the daemon itself: a wrong SUPABASE_KEY, or a missing bucket the key
may not create (cli.md: "otherwise jobs fail with an error that says so"). Nothing is sent,
but every job due shows the cause: each attempt is counted with it at the policy's pace, and
the job ends FAILED after the policy's attempts, its file kept; once the setting is fixed,
`jobs retry --failed` and the daemon complete them. On both engines."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import Cli, Media, spool_files
from tests.daemon.conftest import (
    FAST_RETRIES,
    job_rows,
    run_daemon,
    stage_release,
    start_daemon,
    wait_for,
)
from tests.support.storage_server import StorageServer

ATTEMPTS = ["--max-attempts", "3"]


def _uploads_sent(server: StorageServer) -> list[str]:
    return [r.path for r in server.requests if r.method in {"POST", "PATCH", "PUT"}]


def _assert_failed_with_the_cause(cause: str, home: Path) -> None:
    jobs = job_rows()
    assert {(j["status"], j["retry_count"]) for j in jobs} == {("FAILED", 3)}
    assert all(cause in j["error_log"] for j in jobs), [j["error_log"] for j in jobs]
    assert all("storage refuses the daemon" in j["error_log"] for j in jobs)
    assert len(spool_files(home)) == len(jobs)  # every file kept


def _assert_processed(stderr: str) -> None:
    """Processing needs no storage: every master was measured and rendered, refusal or not."""
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine
    from vwaza_cli.settings import load_settings

    with get_engine(load_settings().database_url).connect() as conn:
        rows = conn.execute(sa.text("SELECT status, error_log FROM track_processing")).all()
    failures = [line for line in stderr.splitlines() if "processing" in line and "fail" in line]
    assert rows, "no track was given processing"
    assert {status for status, _ in rows} == {"DONE"}, (rows, failures)


def _assert_retry_completes_them(ada: Cli, server: StorageServer, bucket: str) -> None:
    assert ada.ok("jobs", "retry", "--failed")
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    jobs = job_rows()
    assert {j["status"] for j in jobs} == {"COMPLETED"}
    assert set(server.objects(bucket)) == {j["object_key"] for j in jobs}


def test_a_wrong_key_fails_each_job_with_the_cause_then_retry_completes_them(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, monkeypatch
) -> None:
    stage_release(ada, media, tracks=2)
    monkeypatch.setenv("SUPABASE_KEY", "not-the-service-key")
    done = run_daemon("--once", *ATTEMPTS, *FAST_RETRIES)
    assert done.returncode == 7
    assert done.stderr.count("storage refuses us") == 1  # said once, not once per job
    _assert_processed(done.stderr)
    _assert_failed_with_the_cause("SUPABASE_KEY", env)
    listed = ada.ok("jobs", "list")
    assert all("SUPABASE_KEY" in j["error_log"] for j in listed)  # `jobs list` shows it
    assert _uploads_sent(on_supabase) == []  # nothing was sent, not even once per job
    monkeypatch.setenv("SUPABASE_KEY", on_supabase.key)
    _assert_retry_completes_them(ada, on_supabase, "vwaza-uploads")


def test_a_missing_bucket_the_key_may_not_create_fails_each_job_with_the_cause(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, monkeypatch
) -> None:
    stage_release(ada, media, tracks=1)
    monkeypatch.setenv("VWAZA_BUCKET", "not-created-yet")
    monkeypatch.setenv("SUPABASE_KEY", on_supabase.anon_key)  # may not create buckets
    done = run_daemon("--once", *ATTEMPTS, *FAST_RETRIES)
    assert done.returncode == 7
    _assert_failed_with_the_cause("bucket 'not-created-yet' not found", env)
    assert "not-created-yet" not in on_supabase.buckets()
    on_supabase.create_bucket("not-created-yet")  # created in the dashboard
    _assert_retry_completes_them(ada, on_supabase, "not-created-yet")


def test_each_refused_attempt_waits_the_policys_backoff(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, monkeypatch, tmp_path: Path
) -> None:
    """Not a loop burning the budget: one counted attempt per job, then the job waits its
    delay (here up to an hour) although the daemon polls ten times a second."""
    stage_release(ada, media, tracks=2, submit=False)
    monkeypatch.setenv("SUPABASE_KEY", "not-the-service-key")
    slow_retries = ["--retry-base", "3600", "--retry-cap", "3600", "--poll", "0.1"]
    process = start_daemon(*slow_retries, log=tmp_path / "daemon.log")
    try:
        # 2 masters and a cover, then each track's 3 renditions once processed
        wait_for(
            lambda: len(jobs := job_rows()) == 9 and all(j["retry_count"] for j in jobs),
            what="a refusal per job",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    for job in job_rows():
        assert (job["status"], job["retry_count"]) == ("PENDING", 1)
        assert job["next_attempt_at"] > job["updated_at"]
        assert "SUPABASE_KEY" in job["error_log"]


@pytest.mark.parametrize("jobs", [0, 1])
def test_once_with_storage_refusing_us_exits_7_even_with_nothing_to_do(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, monkeypatch, jobs: int
) -> None:
    if jobs:
        stage_release(ada, media, tracks=1, submit=False)
    monkeypatch.setenv("SUPABASE_KEY", "not-the-service-key")
    assert run_daemon("--once", "--max-attempts", "1", *FAST_RETRIES).returncode == 7
