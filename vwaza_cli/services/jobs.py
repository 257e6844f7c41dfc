"""Upload jobs as people see them: list, retry."""

from __future__ import annotations

from typing import Any

from vwaza_cli import clock
from vwaza_cli.db import job_targets, jobs
from vwaza_cli.enums import JobStatus, parse
from vwaza_cli.errors import JobNotFound, StatusForbids
from vwaza_cli.services.accounts import current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import owner_filter
from vwaza_cli.services.views import job_view


def list_jobs(ctx: Context, status: str | None) -> list[dict[str, Any]]:
    actor = current_actor(ctx)
    wanted = None if status is None else parse(JobStatus, status, "job status")
    with ctx.tx() as session:
        found = jobs.list_jobs(session, owner_filter(actor), wanted)
        titles = job_targets.titles_of(session, found)
        return [job_view(j, titles.get(j.id)) for j in found]


def retry(ctx: Context, job_id: str | None) -> dict[str, Any]:
    """Put FAILED jobs back in the queue with a fresh attempt budget: one job (printed back),
    or, with no ID, every FAILED job the caller may see."""
    actor = current_actor(ctx)
    owner = owner_filter(actor)
    with ctx.tx() as session:
        if job_id is None:
            return {"retried": jobs.retry_failed(session, owner, None, clock.now())}
        job = jobs.find_job(session, job_id, owner)
        if job is None:
            raise JobNotFound(f"no job {job_id}: see `vwaza jobs list`")
        if job.status != JobStatus.FAILED:
            raise StatusForbids(f"job {job.id[:8]} is {job.status}: only FAILED jobs retry")
        jobs.retry_failed(session, owner, job.id, clock.now())
        session.refresh(job)
        return job_view(job, job_targets.titles_of(session, [job]).get(job.id))
