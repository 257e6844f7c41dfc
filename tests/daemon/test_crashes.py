"""Crashes: a daemon SIGKILLed at random moments, restarted, loses and duplicates nothing;
a daemon that lost its lease changes nothing; the sweep repairs what a crash leaves."""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli, Media, spool_files
from tests.daemon.conftest import FAST_RETRIES, job_rows, run_daemon, stage_release, start_daemon
from tests.support.storage_server import StorageServer


def test_sigkill_at_random_moments_loses_nothing(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        stage_release(ada, media, tracks=3, seconds=3)
    on_supabase.faults.slow(0.002)
    rng = random.Random(int(os.environ.get("VWAZA_KILL_SEED", "20261126")))
    kills = 0
    for round_ in range(12):
        if all(j["status"] == "COMPLETED" for j in job_rows()):
            break
        process = start_daemon(
            "--concurrency", "2", "--lease", "1", *FAST_RETRIES, log=tmp_path / "daemon.log"
        )
        time.sleep(rng.uniform(0.2, 1.2))  # the moment of the kill is what is random here
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kills += 1
        del round_
    on_supabase.faults.clear()
    final = run_daemon("--once", "--lease", "1", *FAST_RETRIES)
    assert final.returncode == 0, final.stderr
    jobs = job_rows()
    assert {j["status"] for j in jobs} == {"COMPLETED"}
    stored = on_supabase.objects()
    assert len(stored) == len(jobs)  # deterministic keys: never a second copy
    for job in jobs:
        assert stored[job["object_key"]] == (job["size"], job["sha256"])
    assert spool_files(env) == []
    assert kills >= 1
    assert ada.ok("release", "list")[0]["status"] == "PENDING_REVIEW"


def _ctx():
    from vwaza_cli.services.context import Context

    return Context.from_environment()


def test_a_daemon_that_lost_its_lease_changes_nothing(
    ada: Cli, media: Media, env: Path, mocker
) -> None:
    from vwaza_cli import clock
    from vwaza_cli.services import queue

    stage_release(ada, media, tracks=1, submit=False)
    ctx = _ctx()
    first = queue.claim(ctx, "daemon-a", timedelta(seconds=10))
    assert first is not None
    later = clock.now() + timedelta(seconds=11)
    mocker.patch("vwaza_cli.clock.now", return_value=later)
    second = queue.claim(ctx, "daemon-b", timedelta(seconds=10))
    assert second is not None
    assert second.id == first.id  # the expired lease was taken back
    assert queue.extend(ctx, first.id, "daemon-a", timedelta(seconds=10)) is False
    assert queue.complete(ctx, first, "daemon-a", "https://x/a") is False
    assert queue.fail(ctx, first, "daemon-a", "boom", None) is False
    job = next(j for j in job_rows() if j["id"] == first.id)
    assert (job["status"], job["lease_owner"]) == ("UPLOADING", "daemon-b")
    assert queue.complete(ctx, second, "daemon-b", "https://x/b") is True


def test_a_job_is_claimed_by_one_daemon_only(ada: Cli, media: Media, env: Path) -> None:
    from vwaza_cli.services import queue

    stage_release(ada, media, tracks=3, submit=False)
    ctx = _ctx()
    claimed = [queue.claim(ctx, f"d{n}", timedelta(minutes=1)) for n in range(6)]
    ids = [t.id for t in claimed if t is not None]
    assert len(ids) == 4  # three tracks and a cover
    assert len(set(ids)) == 4


def test_jobs_of_another_machine_are_left_alone(
    ada: Cli, media: Media, env: Path, monkeypatch
) -> None:
    from vwaza_cli.services import queue

    stage_release(ada, media, tracks=1, submit=False)
    monkeypatch.setenv("VWAZA_MACHINE_ID", "another-machine")
    assert queue.claim(_ctx(), "d", timedelta(minutes=1)) is None


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sweep_repairs_what_crashes_leave(ada: Cli, media: Media, env: Path) -> None:
    from vwaza_cli.services import queue
    from vwaza_cli.services.sweep import sweep

    stage_release(ada, media, tracks=2, submit=False)
    spool = env / "data" / "spool"
    staged = sorted(spool_files(env))
    stale_temp = spool / ".incoming" / "crashed.part"
    stale_temp.write_bytes(b"half a file")
    orphan = spool / "0f0f0f0f-crash-between-file-and-row.wav"
    orphan.write_bytes(b"a file whose row never came")
    young_orphan = spool / "still-being-recorded.wav"
    young_orphan.write_bytes(b"a CLI may be about to record it")
    for path in (stale_temp, orphan, *(spool / name for name in staged)):
        _age(path, 7200)
    ctx = _ctx()
    tickets = []
    while (ticket := queue.claim(ctx, "d", timedelta(minutes=1))) is not None:
        # every upload recorded, no file deleted: a crash just after each commit
        assert queue.complete(ctx, ticket, "d", "https://x/done")
        tickets.append(ticket)
    report = sweep(ctx)
    # The cover goes; the masters stay, their tracks' processing has still to read them.
    assert (report.stale_temp_files, report.orphan_files, report.uploaded_leftovers) == (1, 1, 1)
    left = spool_files(env)
    cover = next(t for t in tickets if t.type == "COVER_ART")
    assert Path(cover.local_path).name not in left
    assert young_orphan.name in left
    assert len([n for n in left if n in staged]) == len(staged) - 1  # the masters kept


@pytest.mark.parametrize("failures", [1, 3, 8])
def test_retry_policy_backs_off_exponentially_with_a_cap(failures: int) -> None:
    from daemon.policy import RetryPolicy
    from vwaza_cli import clock

    policy = RetryPolicy(base_seconds=2, cap_seconds=60, max_failures=8)
    rng = random.Random(1)
    ceiling = min(60, 2 * 2 ** (failures - 1))
    delays = [policy.delay(failures, rng) for _ in range(200)]
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling * 0.8  # full jitter spreads over the whole range
    now = clock.now()
    expected_none = failures >= 8
    assert (policy.next_attempt(failures, now, rng) is None) is expected_none


@pytest.mark.parametrize(
    "args",
    [["--concurrency", "0"], ["--concurrency", "100000"], ["--lease", "-1"], ["--poll", "0"]],
)
def test_daemon_refuses_bad_options(args: list[str]) -> None:
    done = run_daemon(*args, "--once")
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_daemon_refuses_bad_environment_values(monkeypatch) -> None:
    monkeypatch.setenv("VWAZA_CONCURRENCY", "many")
    done = run_daemon("--once")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
