"""`vwaza jobs` and `vwaza daemon status` over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList
from vwaza_cli.services import daemon_status, jobs

router = APIRouter(tags=["jobs"], responses=ERRORS)


@router.get("/jobs")
def list_(ctx: Caller, status: str | None = None) -> JsonList:
    """Your releases' upload jobs; an admin's, all."""
    return jobs.list_jobs(ctx, status)


@router.post("/jobs/retry-failed")
def retry_failed(ctx: Caller) -> Json:
    """`jobs retry --failed`: every FAILED job you may see, queued again."""
    return jobs.retry(ctx, None)


@router.post("/jobs/{job_id}/retry")
def retry(job_id: str, ctx: Caller) -> Json:
    return jobs.retry(ctx, job_id)


@router.get("/daemon/status")
def status(ctx: Caller) -> Json:
    return daemon_status.status(ctx)
