"""Queries about upload jobs: recording, claiming with a lease, finishing (fenced), listing.

A job carries two counters, both moved here only:
- ``retry_count``: every failed attempt in the job's life (the contracted JSON field);
- ``failures_since_queued``: the failed attempts since the job was last queued (staged, or
  put back by `jobs retry` / a resubmit): the retry budget the daemon spends.
A failed attempt is one that raised, or whose daemon died so that its lease expired; an
attempt given back at shutdown is no failure and counts nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli import clock
from vwaza_cli.db.lookup import by_prefix, rowcount
from vwaza_cli.db.models import (
    JobStatus,
    JobType,
    Release,
    StorageDeletion,
    UploadJob,
    new_id,
)

ACTIVE = (JobStatus.PENDING, JobStatus.UPLOADING, JobStatus.FAILED)
DELETION_ATTEMPTS = 5
Row = TypeVar("Row")


def add_job(session: Session, job: UploadJob) -> None:
    session.add(job)
    session.flush()


def find_job(session: Session, prefix: str, owner_id: str | None) -> UploadJob | None:
    statement = _owned_by(sa.select(UploadJob), owner_id)
    return by_prefix(session, statement, col(UploadJob.id), prefix, "job")


def list_jobs(
    session: Session, owner_id: str | None, status: str | None, limit: int = 1000
) -> Sequence[UploadJob]:
    statement = _owned_by(sa.select(UploadJob), owner_id)
    if status:
        statement = statement.where(col(UploadJob.status) == JobStatus(status))
    newest_last = statement.order_by(col(UploadJob.created_at), col(UploadJob.id))
    return session.scalars(newest_last.limit(limit)).all()


def jobs_by_target(session: Session, target_ids: Sequence[str]) -> dict[str, UploadJob]:
    """The newest upload of each target's own file (a track's master, a release's cover;
    not a track's renditions)."""
    if not target_ids:
        return {}
    statement = (
        sa.select(UploadJob)
        .where(
            col(UploadJob.target_id).in_(target_ids),
            col(UploadJob.type).in_((JobType.AUDIO, JobType.COVER_ART)),
        )
        .order_by(col(UploadJob.created_at))
    )
    return {job.target_id: job for job in session.scalars(statement)}


def master_of(session: Session, track_id: str) -> UploadJob | None:
    """The newest upload job of a track's master (its object key, hash and machine)."""
    statement = (
        sa.select(UploadJob)
        .where(col(UploadJob.track_id) == track_id, col(UploadJob.type) == JobType.AUDIO)
        .order_by(col(UploadJob.created_at).desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def unfinished_count(session: Session, release_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        col(UploadJob.release_id) == release_id, _not_uploaded()
    )
    return session.scalar(statement) or 0


def staged_paths(session: Session, condition: sa.ColumnElement[bool]) -> list[str]:
    """The spool files of the matching jobs that are not uploaded yet."""
    statement = sa.select(col(UploadJob.local_path)).where(condition, _not_uploaded())
    return list(session.scalars(statement))


def _not_uploaded() -> sa.ColumnElement[bool]:
    return col(UploadJob.status) != JobStatus.COMPLETED


def drop_waiting_cover_jobs(session: Session, release_id: str) -> list[str]:
    """Forget cover uploads not yet started (a new cover replaces them); return their files."""
    condition = sa.and_(
        older_covers(release_id),
        col(UploadJob.status).in_((JobStatus.PENDING, JobStatus.FAILED)),
    )
    paths = list(session.scalars(sa.select(col(UploadJob.local_path)).where(condition)))
    session.execute(sa.delete(UploadJob).where(condition))
    return paths


def count_by_status(session: Session, machine_id: str | None = None) -> dict[str, int]:
    statement = sa.select(col(UploadJob.status), sa.func.count()).group_by(col(UploadJob.status))
    if machine_id is not None:
        statement = statement.where(col(UploadJob.machine_id) == machine_id)
    counts = {status.value: 0 for status in JobStatus}
    for status, count in session.execute(statement):
        counts[JobStatus(status).value] = count
    return counts


def _owned_by(statement: sa.Select[Row], owner_id: str | None) -> sa.Select[Row]:
    if owner_id is None:
        return statement
    return statement.join(Release, col(Release.id) == col(UploadJob.release_id)).where(
        col(Release.artist_id) == owner_id
    )


def latest_errors(session: Session, owner_id: str | None, limit: int = 5) -> Sequence[UploadJob]:
    statement = _owned_by(sa.select(UploadJob), owner_id)
    with_errors = statement.where(col(UploadJob.error_log).is_not(None))
    newest_first = with_errors.order_by(col(UploadJob.updated_at).desc())
    return session.scalars(newest_first.limit(limit)).all()


# --- putting FAILED jobs back in the queue --------------------------------------------------


def retry_failed(session: Session, owner_id: str | None, job_id: str | None, at: datetime) -> int:
    """FAILED -> PENDING, due now, with a fresh retry budget."""
    conditions = [col(UploadJob.status) == JobStatus.FAILED]
    if job_id is not None:
        conditions.append(col(UploadJob.id) == job_id)
    if owner_id is not None:
        conditions.append(owned_by_user(owner_id))
    return _queue_again(session, sa.and_(*conditions), at)


def retry_failed_of_release(session: Session, release_id: str, at: datetime) -> int:
    failed = sa.and_(of_release(release_id), col(UploadJob.status) == JobStatus.FAILED)
    return _queue_again(session, failed, at)


def _queue_again(session: Session, condition: sa.ColumnElement[bool], at: datetime) -> int:
    """PENDING and due at ``at``: the budget starts over, the life-long count goes on."""
    statement = (
        sa.update(UploadJob)
        .where(condition)
        .values(
            status=JobStatus.PENDING, failures_since_queued=0, next_attempt_at=at, updated_at=at
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(statement))


# --- the daemon's side: claim, heartbeat, finish ------------------------------------------


def _failure_counted() -> dict[str, Any]:
    """The two counters after one more failed attempt."""
    return {
        "retry_count": col(UploadJob.retry_count) + 1,
        "failures_since_queued": col(UploadJob.failures_since_queued) + 1,
    }


def _lease_dropped() -> dict[str, Any]:
    return {"lease_owner": None, "lease_expires_at": None}


def _claimable(machine_id: str, at: datetime) -> sa.ColumnElement[bool]:
    due = sa.and_(col(UploadJob.status) == JobStatus.PENDING, col(UploadJob.next_attempt_at) <= at)
    return sa.and_(col(UploadJob.machine_id) == machine_id, sa.or_(due, _lease_expired(at)))


def _lease_expired(before: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(UploadJob.status) == JobStatus.UPLOADING, col(UploadJob.lease_expires_at) < before
    )


def claim_next(
    session: Session, machine_id: str, owner: str, at: datetime, lease_until: datetime
) -> UploadJob | None:
    """Take one due job of this machine under a lease; None when there is nothing to do.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets several daemons claim side by side. SQLite: the
    transaction already holds the write lock (BEGIN IMMEDIATE) and the UPDATE is guarded on
    the status seen, so two daemons never take the same job.
    """
    candidate = session.execute(
        sa.select(col(UploadJob.id), col(UploadJob.status), col(UploadJob.lease_owner))
        .where(_claimable(machine_id, at))
        .order_by(col(UploadJob.next_attempt_at), col(UploadJob.created_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if candidate is None:
        return None
    job_id, status, previous_owner = candidate
    values = _claimed(owner, lease_until, at)
    if JobStatus(status) == JobStatus.UPLOADING:
        values |= _taken_back_from(previous_owner)
    if not _update_if_status(session, job_id, status, values):
        return None
    session.expire_all()
    return session.get(UploadJob, job_id)


def _claimed(owner: str, lease_until: datetime, at: datetime) -> dict[str, Any]:
    return {
        "status": JobStatus.UPLOADING,
        "lease_owner": owner,
        "lease_expires_at": lease_until,
        "bytes_sent": 0,
        "updated_at": at,
    }


def _taken_back_from(previous_owner: str | None) -> dict[str, Any]:
    """An expired lease: its daemon died during the attempt, which counts as a failure."""
    return {**_failure_counted(), "error_log": f"lease of {previous_owner} expired: taken back"}


def _update_if_status(
    session: Session, job_id: str, status: JobStatus, values: dict[str, Any]
) -> bool:
    guarded = (
        sa.update(UploadJob)
        .where(col(UploadJob.id) == job_id, col(UploadJob.status) == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(guarded)) == 1


def _update_if_leased(session: Session, job_id: str, owner: str, values: dict[str, Any]) -> bool:
    """Write ``values`` only while ``owner`` still holds the job's lease (the fence)."""
    fenced = (
        sa.update(UploadJob)
        .where(
            col(UploadJob.id) == job_id,
            col(UploadJob.lease_owner) == owner,
            col(UploadJob.status) == JobStatus.UPLOADING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(fenced)) == 1


def extend_lease(
    session: Session, job_id: str, owner: str, until: datetime, bytes_sent: int | None = None
) -> bool:
    """Keep the lease; with ``bytes_sent``, also say how far the upload got (one write)."""
    values: dict[str, Any] = {"lease_expires_at": until}
    if bytes_sent is not None:
        values["bytes_sent"] = bytes_sent
    return _update_if_leased(session, job_id, owner, values)


def mark_completed(session: Session, job_id: str, owner: str, at: datetime) -> bool:
    values = {
        "status": JobStatus.COMPLETED,
        **_lease_dropped(),
        "bytes_sent": col(UploadJob.size),
        "completed_at": at,
        "updated_at": at,
        "error_log": None,
    }
    return _update_if_leased(session, job_id, owner, values)


def mark_failed_attempt(
    session: Session,
    job_id: str,
    owner: str,
    at: datetime,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Count a failed attempt: due again at ``retry_at``, or FAILED for good when None."""
    values: dict[str, Any] = {
        "status": JobStatus.PENDING if retry_at else JobStatus.FAILED,
        **_failure_counted(),
        "error_log": error[:2000],
        **_lease_dropped(),
        "updated_at": at,
    }
    if retry_at:
        values["next_attempt_at"] = retry_at
    return _update_if_leased(session, job_id, owner, values)


def release_lease(session: Session, job_id: str, owner: str, at: datetime) -> bool:
    """Give a claimed job back untouched (shutdown): no failure, so no counter moves."""
    values = {
        "status": JobStatus.PENDING,
        **_lease_dropped(),
        "next_attempt_at": at,
        "updated_at": at,
    }
    return _update_if_leased(session, job_id, owner, values)


def pending_or_uploading(session: Session, machine_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        col(UploadJob.machine_id) == machine_id,
        col(UploadJob.status).in_((JobStatus.PENDING, JobStatus.UPLOADING)),
    )
    return session.scalar(statement) or 0


def next_due_at(session: Session, machine_id: str) -> datetime | None:
    statement = sa.select(sa.func.min(col(UploadJob.next_attempt_at))).where(
        col(UploadJob.machine_id) == machine_id, col(UploadJob.status) == JobStatus.PENDING
    )
    return session.scalar(statement)


def status_of_paths(session: Session, paths: Sequence[str]) -> dict[str, str]:
    """The job status behind each staged path that has a job (chunked IN lists)."""
    found: dict[str, str] = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        rows = session.execute(
            sa.select(col(UploadJob.local_path), col(UploadJob.status)).where(
                col(UploadJob.local_path).in_(chunk)
            )
        )
        found.update((path, JobStatus(status).value) for path, status in rows)
    return found


def overdue_count(session: Session, machine_id: str, before: datetime) -> int:
    """Jobs that should have moved by now: due long ago, or holding a long-expired lease."""
    waiting = sa.and_(
        col(UploadJob.status) == JobStatus.PENDING, col(UploadJob.next_attempt_at) < before
    )
    statement = sa.select(sa.func.count()).where(
        col(UploadJob.machine_id) == machine_id, sa.or_(waiting, _lease_expired(before))
    )
    return session.scalar(statement) or 0


def job_exists(session: Session, job_id: str) -> bool:
    return session.get(UploadJob, job_id) is not None


# --- conditions other modules combine -------------------------------------------------------


def owned_by_user(user_id: str) -> sa.ColumnElement[bool]:
    owned = sa.select(col(Release.id)).where(col(Release.artist_id) == user_id)
    return col(UploadJob.release_id).in_(owned.scalar_subquery())


def of_release(release_id: str) -> sa.ColumnElement[bool]:
    return col(UploadJob.release_id) == release_id


def job_ids(ids: Sequence[str]) -> sa.ColumnElement[bool]:
    return col(UploadJob.id).in_(ids)


def of_track(track_id: str) -> sa.ColumnElement[bool]:
    return col(UploadJob.track_id) == track_id


def older_covers(release_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(of_release(release_id), col(UploadJob.type) == JobType.COVER_ART)


def drop_completed_cover_jobs(session: Session, release_id: str) -> None:
    uploaded = col(UploadJob.status) == JobStatus.COMPLETED
    session.execute(sa.delete(UploadJob).where(older_covers(release_id), uploaded))


# --- objects to remove from storage ----------------------------------------------------------


def schedule_object_removal(session: Session, condition: sa.ColumnElement[bool]) -> int:
    """Queue the stored objects of the COMPLETED jobs matching ``condition`` for removal
    (run it before the rows that own them are deleted)."""
    uploaded = sa.select(col(UploadJob.object_key), col(UploadJob.machine_id)).where(
        condition, col(UploadJob.status) == JobStatus.COMPLETED
    )
    rows = [_deletion_row(key, machine) for key, machine in session.execute(uploaded)]
    if rows:
        session.execute(sa.insert(StorageDeletion), rows)
    return len(rows)


def _deletion_row(object_key: str, machine_id: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "object_key": object_key,
        "machine_id": machine_id,
        "attempts": 0,
        "error_log": None,
        "created_at": clock.now(),
    }


def pending_deletions(session: Session, machine_id: str, limit: int = 100) -> list[tuple[str, str]]:
    statement = (
        sa.select(col(StorageDeletion.id), col(StorageDeletion.object_key))
        .where(
            col(StorageDeletion.machine_id) == machine_id,
            # after that many failures, left for a person to look at
            col(StorageDeletion.attempts) < DELETION_ATTEMPTS,
        )
        .order_by(col(StorageDeletion.created_at))
        .limit(limit)
    )
    return [(deletion_id, key) for deletion_id, key in session.execute(statement)]


def forget_deletion(session: Session, deletion_id: str) -> None:
    session.execute(sa.delete(StorageDeletion).where(col(StorageDeletion.id) == deletion_id))


def note_deletion_failure(session: Session, deletion_id: str, error: str) -> None:
    session.execute(
        sa.update(StorageDeletion)
        .where(col(StorageDeletion.id) == deletion_id)
        .values(attempts=col(StorageDeletion.attempts) + 1, error_log=error[:2000])
    )
