"""The upload queue as the daemon works it: claim under a lease, keep the lease alive,
finish (fenced on the lease owner), count failures, give work back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vwaza_cli import clock
from vwaza_cli.errors import VwazaError
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import advance_release, reopen_after_failed_upload


@dataclass(frozen=True)
class Ticket:
    """A claimed job: what the worker needs, detached from any database session."""

    id: str
    type: str
    release_id: str
    target_id: str
    track_id: str | None
    local_path: str
    sha256: str
    size: int
    content_type: str
    object_key: str
    attempts: int
    retry_count: int


def _ticket(job: Any) -> Ticket:
    return Ticket(
        id=job.id,
        type=str(job.type),
        release_id=job.release_id,
        target_id=job.target_id,
        track_id=job.track_id,
        local_path=job.local_path,
        sha256=job.sha256,
        size=job.size,
        content_type=job.content_type,
        object_key=job.object_key,
        attempts=job.attempts,
        retry_count=job.retry_count,
    )


def claim(ctx: Context, owner: str, lease: timedelta) -> Ticket | None:
    from vwaza_cli.db import jobs

    moment = clock.now()
    with ctx.tx() as session:
        job = jobs.claim_next(session, ctx.settings.machine_id, owner, moment, moment + lease)
        return _ticket(job) if job else None


def extend(ctx: Context, job_id: str, owner: str, lease: timedelta) -> bool:
    """Keep the lease alive during a long upload; False means the lease was lost."""
    from vwaza_cli.db import jobs

    with ctx.tx() as session:
        return jobs.extend_lease(session, job_id, owner, clock.now() + lease)


def complete(ctx: Context, ticket: Ticket, owner: str, url: str) -> bool:
    """One transaction: the URL on the track (or cover), the job COMPLETED, the release
    moved on when it was its last upload. False (and nothing changed) if the lease was lost."""
    from vwaza_cli.db import jobs
    from vwaza_cli.db import releases as db

    with ctx.tx() as session:
        if not jobs.mark_completed(session, ticket.id, owner, clock.now()):
            return False  # nothing was written: the fenced update matched no row
        if ticket.type == "AUDIO" and ticket.track_id:
            db.set_audio_url_if_current(session, ticket.track_id, ticket.local_path, url)
        else:
            db.set_cover_url_if_current(session, ticket.release_id, ticket.local_path, url)
        advance_release(session, ticket.release_id)
        return True


def fail(ctx: Context, ticket: Ticket, owner: str, error: str, retry_at: datetime | None) -> bool:
    from vwaza_cli.db import jobs

    with ctx.tx() as session:
        recorded = jobs.mark_failed_attempt(session, ticket.id, owner, clock.now(), error, retry_at)
        if recorded and retry_at is None:
            reopen_after_failed_upload(session, ticket.release_id)
        return recorded


def give_back(ctx: Context, job_id: str, owner: str) -> bool:
    from vwaza_cli.db import jobs

    with ctx.tx() as session:
        return jobs.release_lease(session, job_id, owner, clock.now())


def outstanding(ctx: Context) -> int:
    """Work of this machine still to do: jobs PENDING or UPLOADING, objects to remove."""
    from vwaza_cli.db import jobs

    machine = ctx.settings.machine_id
    with ctx.tx() as session:
        return jobs.pending_or_uploading(session, machine) + len(
            jobs.pending_deletions(session, machine, limit=1)
        )


def job_exists(ctx: Context, job_id: str) -> bool:
    from vwaza_cli.db import jobs

    with ctx.tx() as session:
        return jobs.job_exists(session, job_id)


def remove_deleted_objects(ctx: Context, remove: Callable[[str], None]) -> int:
    """Remove from storage the objects whose owners were deleted; returns how many went.
    A failure is noted and tried again on the next round."""
    from vwaza_cli.db import jobs

    machine = ctx.settings.machine_id
    with ctx.tx() as session:
        todo = jobs.pending_deletions(session, machine)
    removed = 0
    for deletion_id, key in todo:
        try:
            remove(key)
        except VwazaError as exc:
            with ctx.tx() as session:
                jobs.note_deletion_failure(session, deletion_id, exc.message)
            continue
        with ctx.tx() as session:
            jobs.forget_deletion(session, deletion_id)
        removed += 1
    return removed


def next_due(ctx: Context) -> datetime | None:
    from vwaza_cli.db import jobs

    with ctx.tx() as session:
        return jobs.next_due_at(session, ctx.settings.machine_id)
