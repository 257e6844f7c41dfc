"""Processing a track's master (spec/processing.md): the work queue the daemon claims, what
it records, and the warnings people see.

A track gets its processing row in the transaction that records it (`track add`, catalog
import). A daemon of the machine whose spool holds the master claims the row under a lease,
makes the measurements and renditions in a worker process, renames the renditions into the
spool, then records in one transaction, fenced on its lease and on the master being the
track's current one: the analysis on the track, one upload job per rendition (replacing
the ones it remakes), the row DONE, and the release moved on when nothing else is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vwaza_cli import clock
from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db
from vwaza_cli.db import releases as db_releases
from vwaza_cli.db.models import Track, TrackProcessing, UploadJob
from vwaza_cli.enums import RENDITIONS, JobStatus, JobType, ProcessingStatus
from vwaza_cli.services import spool, uploads
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import advance_release, reopen_after_failed_upload
from vwaza_cli.settings import Settings

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 600.0


def new_processing(
    settings: Settings,
    track_id: str,
    release_id: str,
    staged: spool.StagedFile,
    *,
    measure: bool = True,
    make: tuple[JobType, ...] = RENDITIONS,
) -> TrackProcessing:
    """The one way a processing row is built (`track add`, catalog import, a remade
    preview): due now, on this machine, reading ``staged``."""
    return TrackProcessing(
        track_id=track_id,
        release_id=release_id,
        machine_id=settings.machine_id,
        master_path=str(staged.path),
        master_sha256=staged.sha256,
        measure=measure,
        renditions=",".join(kind.value for kind in make),
    )


@dataclass(frozen=True)
class Task:
    """A claimed processing row, detached from any session."""

    track_id: str
    release_id: str
    master_path: str
    master_sha256: str
    measure: bool
    make: tuple[JobType, ...]
    preview_start: float | None
    attempts: int
    # Where to fetch the master from when it is not in the spool (uploaded, then deleted;
    # or a crash after its upload, before the bookkeeping): its upload's object key.
    master_key: str | None
    master_size: int
    master_uploaded: bool


def claim(ctx: Context, owner: str, lease: timedelta) -> Task | None:
    moment = clock.now()
    with ctx.tx() as session:
        row = db.claim_next(session, ctx.settings.machine_id, owner, moment, moment + lease)
        if row is None:
            return None
        track = session.get(Track, row.track_id)
        master = jobs.master_of(session, row.track_id)
        uploaded = master is not None and master.status == JobStatus.COMPLETED
        return Task(
            track_id=row.track_id,
            release_id=row.release_id,
            master_path=row.master_path,
            master_sha256=row.master_sha256,
            measure=row.measure,
            make=tuple(JobType(kind) for kind in row.renditions.split(",") if kind),
            preview_start=track.preview_start if track else None,
            attempts=row.attempts,
            master_key=master.object_key if master is not None else None,
            master_size=master.size if master is not None else 0,
            master_uploaded=uploaded,
        )


def extend(ctx: Context, task: Task, owner: str, lease: timedelta) -> bool:
    with ctx.tx() as session:
        until = clock.now() + lease
        return db.update_if_leased(session, task.track_id, owner, lease_expires_at=until)


@dataclass(frozen=True)
class Made:
    """A rendition renamed into the spool, under the ID of the job that will upload it."""

    job_id: str
    kind: JobType
    staged: spool.StagedFile
    content_type: str
    extension: str


def record(
    ctx: Context, task: Task, owner: str, analysis: dict[str, Any] | None, made: list[Made]
) -> bool:
    """One transaction: the analysis, the renditions' jobs, the task DONE, the release on.
    False, with nothing written, when the lease was lost or the track or its master changed;
    the caller then discards ``made``. Files the replaced renditions and the master leave
    behind are removed once the transaction has committed."""
    with ctx.tx() as session:
        db_releases.lock_release(session, task.release_id)  # the lock order: release first
        row = db.lock_leased(session, task.track_id, owner)
        track = session.get(Track, task.track_id)
        if row is None or track is None or row.master_sha256 != task.master_sha256:
            return False
        if analysis is not None:
            track.analysis = analysis
        leftovers = _replace_renditions(session, ctx.settings, track, made)
        _mark_done(session, task, owner)
        if db.master_uploaded(session, track.id, task.master_path):
            leftovers.append(task.master_path)
        advance_release(session, task.release_id)
    spool.discard(leftovers)
    return True


def _mark_done(session: Session, task: Task, owner: str) -> None:
    done = {"status": ProcessingStatus.DONE, "error_log": None, "updated_at": clock.now()}
    db.update_if_leased(session, task.track_id, owner, **done, **_lease_dropped())
    session.flush()


def _lease_dropped() -> dict[str, Any]:
    return {"lease_owner": None, "lease_expires_at": None}


def _replace_renditions(
    session: Session, settings: Settings, track: Track, made: list[Made]
) -> list[str]:
    """The new renditions' jobs in, the ones they replace out (their stored objects
    scheduled for removal); returns the staged files the replaced jobs leave."""
    kinds = [m.kind for m in made]
    old = db.rendition_jobs(session, track.id, kinds)
    staged_old = [job.local_path for job in old if job.status != JobStatus.COMPLETED]
    old_ids = [job.id for job in old]
    if old_ids:
        jobs.schedule_object_removal(session, jobs.job_ids(old_ids))
        db.drop_jobs(session, old_ids)
    db.clear_rendition_urls(session, track.id, kinds)
    for rendition in made:
        jobs.add_job(session, _rendition_job(settings, track, rendition))
    return staged_old


def _rendition_job(settings: Settings, track: Track, made: Made) -> UploadJob:
    folder = made.kind.value.lower()
    key = f"{folder}/{track.release_id}/{track.id}/{made.staged.sha256}.{made.extension}"
    return uploads.new_job(
        settings,
        made.job_id,
        made.kind,
        track.release_id,
        track.id,
        made.staged,
        made.content_type,
        key,
    )


def fail(ctx: Context, task: Task, owner: str, error: str, *, permanent: bool) -> bool:
    """Count a failed attempt: due again after a backoff, or FAILED (the release back to
    the artist, with the reason on the track) when permanent or out of attempts."""
    attempts = task.attempts + 1
    gives_up = permanent or attempts >= MAX_ATTEMPTS
    moment = clock.now()
    values: dict[str, Any] = {
        "status": ProcessingStatus.FAILED if gives_up else ProcessingStatus.PENDING,
        "attempts": attempts,
        "error_log": error[:2000],
        **_lease_dropped(),
        "updated_at": moment,
    }
    if not gives_up:
        values["next_attempt_at"] = moment + retry_delay(attempts)
    with ctx.tx() as session:
        db_releases.lock_release(session, task.release_id)  # the lock order: release first
        recorded = db.update_if_leased(session, task.track_id, owner, **values)
        if recorded and gives_up:
            reopen_after_failed_upload(session, task.release_id)
        return recorded


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1)))


def give_back(ctx: Context, task: Task, owner: str) -> bool:
    """Shutdown: the task goes back to the queue untouched (no attempt counted)."""
    moment = clock.now()
    with ctx.tx() as session:
        return db.update_if_leased(
            session,
            task.track_id,
            owner,
            status=ProcessingStatus.PENDING,
            next_attempt_at=moment,
            updated_at=moment,
            **_lease_dropped(),
        )


def settle_unrecorded(ctx: Context, track_id: str, owner: str, paths: list[str]) -> list[str]:
    """A daemon put renditions in the spool and then died (or its record raised): fence it
    out first (a lease it still holds is taken back, counted as an attempt as an expired
    one is), so that no record of its can commit any more; then say which of ``paths`` no
    job names. Those are safe to remove. On PostgreSQL the fence waits for the row lock a
    dead client's last transaction may still hold, so a commit in flight is seen."""
    with ctx.tx() as session:
        db.take_back(session, track_id, owner, clock.now())
        named = jobs.status_of_paths(session, paths)
    return [p for p in paths if p not in named]


def outstanding(ctx: Context) -> int:
    with ctx.tx() as session:
        return db.outstanding(session, ctx.settings.machine_id)


def failed_count(ctx: Context) -> int:
    """Tracks of this machine whose processing FAILED (their releases went back to DRAFT)."""
    with ctx.tx() as session:
        return db.failed(session, ctx.settings.machine_id)


def next_due(ctx: Context) -> datetime | None:
    with ctx.tx() as session:
        return db.next_due_at(session, ctx.settings.machine_id)
