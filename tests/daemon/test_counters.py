"""A job's two counters: ``retry_count`` counts every failed attempt of its life (cli.md),
``failures_since_queued`` the failed attempts since it was last queued (the retry budget).
An attempt given back at shutdown is no failure; a lease that expired is one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import Cli, Media
from tests.daemon.conftest import job_rows, stage_release
from vwaza_cli import clock
from vwaza_cli.db import jobs
from vwaza_cli.db.models import JobStatus, UploadJob
from vwaza_cli.services import queue
from vwaza_cli.services.context import Context

LEASE = timedelta(minutes=1)


def _only_job(ctx: Context) -> UploadJob:
    """Stage one track and its cover, finish the cover: one job left, claimed by "d"."""
    first = queue.claim(ctx, "d", LEASE)
    other = queue.claim(ctx, "d", LEASE)
    assert first is not None
    assert other is not None
    assert queue.complete(ctx, other, "d", "https://x/cover")
    return first


def _counters(job_id: str) -> tuple[str, int, int]:
    row = next(r for r in job_rows() if r["id"] == job_id)
    return row["status"], row["retry_count"], row["failures_since_queued"]


def _claim(ctx: Context, owner: str = "d") -> UploadJob:
    job = queue.claim(ctx, owner, LEASE)
    assert job is not None
    return job


def test_failures_count_on_both_and_a_given_back_attempt_on_neither(
    ada: Cli, media: Media, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    ctx = Context.from_environment()
    job = _only_job(ctx)
    assert queue.give_back(ctx, job.id, "d")
    assert _counters(job.id) == (JobStatus.PENDING, 0, 0)
    assert _claim(ctx).failures_since_queued == 0
    assert queue.fail(ctx, job, "d", "503", clock.now())
    assert _counters(job.id) == (JobStatus.PENDING, 1, 1)
    assert _claim(ctx).failures_since_queued == 1
    assert queue.fail(ctx, job, "d", "refused", None)
    assert _counters(job.id) == (JobStatus.FAILED, 2, 2)


def test_jobs_retry_gives_a_fresh_budget_and_keeps_the_life_long_count(
    ada: Cli, media: Media, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    ctx = Context.from_environment()
    job = _only_job(ctx)
    assert queue.fail(ctx, job, "d", "refused", None)
    with ctx.tx() as session:
        assert jobs.retry_failed(session, None, job.id, clock.now()) == 1
    assert _counters(job.id) == (JobStatus.PENDING, 1, 0)


def test_an_expired_lease_counts_as_a_failed_attempt(
    ada: Cli, media: Media, env: Path, mocker
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    ctx = Context.from_environment()
    job = _only_job(ctx)
    mocker.patch("vwaza_cli.clock.now", return_value=clock.now() + LEASE * 2)
    taken = _claim(ctx, "daemon-b")
    assert (taken.id, taken.lease_owner) == (job.id, "daemon-b")
    assert (taken.retry_count, taken.failures_since_queued) == (1, 1)
    assert taken.error_log == "lease of d expired: taken back"
