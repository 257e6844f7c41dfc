"""The upload queue as the daemon works it: claim under a lease, keep the lease alive,
finish (fenced on the lease owner), count failures, give work back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from vwaza_cli import clock
from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db_processing
from vwaza_cli.db import releases as db_releases
from vwaza_cli.db.models import JobStatus, JobType, UploadJob
from vwaza_cli.enums import RENDITIONS
from vwaza_cli.errors import VwazaError
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import advance_release, reopen_after_failed_upload


def claim(ctx: Context, owner: str, lease: timedelta) -> UploadJob | None:
    """One due job, now leased to ``owner``: a copy of its row that belongs to no session
    (the worker reads it for minutes; every later change goes through the fenced calls)."""
    moment = clock.now()
    with ctx.tx() as session:
        job = jobs.claim_next(session, ctx.settings.machine_id, owner, moment, moment + lease)
        return detached_copy(job) if job else None


def detached_copy(job: UploadJob) -> UploadJob:
    """Every column of ``job``, in a new object no session tracks."""
    return UploadJob.model_validate(job.model_dump())


def extend(
    ctx: Context, job_id: str, owner: str, lease: timedelta, bytes_sent: int | None = None
) -> bool:
    """Keep the lease alive during a long upload, and say how far it got (``bytes_sent``);
    False means the lease was lost."""
    with ctx.tx() as session:
        return jobs.extend_lease(session, job_id, owner, clock.now() + lease, bytes_sent)


def complete(ctx: Context, job: UploadJob, owner: str, url: str) -> bool:
    """One transaction: the URL on the track (or cover), the job COMPLETED, the release
    moved on when it was its last upload. False (and nothing changed) if the lease was lost.
    The release row is locked first, as in every transaction that writes a release's jobs
    or tracks (services/releases.py, the lock order)."""
    with ctx.tx() as session:
        db_releases.lock_release(session, job.release_id)
        if not jobs.mark_completed(session, job.id, owner, clock.now()):
            return False  # nothing was written: the fenced update matched no row
        if job.type == JobType.AUDIO and job.track_id:
            db_releases.set_audio_url_if_current(session, job.track_id, job.local_path, url)
        elif job.type in RENDITIONS:
            db_processing.set_rendition_url(session, job, url)
        else:
            db_releases.set_cover_url_if_current(session, job.release_id, job.local_path, url)
        advance_release(session, job.release_id)
        return True


def keeps_local_copy(ctx: Context, job: UploadJob) -> bool:
    """Whether an uploaded file must stay in the spool: a master its track's processing
    has still to read (its processing deletes it once done)."""
    if job.type != JobType.AUDIO:
        return False
    with ctx.tx() as session:
        return db_processing.master_needed(session, job.local_path)


def fail(ctx: Context, job: UploadJob, owner: str, error: str, retry_at: datetime | None) -> bool:
    """Count a failed attempt: due again at ``retry_at``, or FAILED (its release back to the
    artist) when None. False if the lease was lost."""
    with ctx.tx() as session:
        db_releases.lock_release(session, job.release_id)  # the lock order: release first
        recorded = jobs.mark_failed_attempt(session, job.id, owner, clock.now(), error, retry_at)
        if recorded and retry_at is None:
            reopen_after_failed_upload(session, job.release_id)
        return recorded


def give_back(ctx: Context, job_id: str, owner: str) -> bool:
    with ctx.tx() as session:
        return jobs.release_lease(session, job_id, owner, clock.now())


def outstanding(ctx: Context) -> int:
    """Work of this machine still to do: jobs PENDING or UPLOADING, tracks to process,
    objects to remove."""
    machine = ctx.settings.machine_id
    with ctx.tx() as session:
        return (
            jobs.pending_or_uploading(session, machine)
            + db_processing.outstanding(session, machine)
            + len(jobs.pending_deletions(session, machine, limit=1))
        )


def failed_count(ctx: Context) -> int:
    """Jobs of this machine that ended FAILED."""
    with ctx.tx() as session:
        return jobs.count_by_status(session, ctx.settings.machine_id)[JobStatus.FAILED]


def job_exists(ctx: Context, job_id: str) -> bool:
    with ctx.tx() as session:
        return jobs.job_exists(session, job_id)


def next_due(ctx: Context) -> datetime | None:
    with ctx.tx() as session:
        return jobs.next_due_at(session, ctx.settings.machine_id)


def remove_deleted_objects(ctx: Context, remove: Callable[[str], None]) -> int:
    """Remove from storage the objects whose owners were deleted; returns how many went.
    A failure is noted and tried again on the next round."""
    with ctx.tx() as session:
        todo = jobs.pending_deletions(session, ctx.settings.machine_id)
    return sum(_remove_one(ctx, remove, deletion_id, key) for deletion_id, key in todo)


def _remove_one(ctx: Context, remove: Callable[[str], None], deletion_id: str, key: str) -> bool:
    try:
        remove(key)
    except VwazaError as exc:
        with ctx.tx() as session:
            jobs.note_deletion_failure(session, deletion_id, exc.message)
        return False
    with ctx.tx() as session:
        jobs.forget_deletion(session, deletion_id)
    return True
