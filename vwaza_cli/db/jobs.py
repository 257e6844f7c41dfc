"""Queries about upload jobs: recording, claiming with a lease, finishing (fenced), listing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vwaza_cli.db.lookup import by_prefix
from vwaza_cli.db.models import JobStatus, JobType, Release, UploadJob

ACTIVE = (JobStatus.PENDING, JobStatus.UPLOADING, JobStatus.FAILED)
DELETION_ATTEMPTS = 5


def add_job(session: Session, job: UploadJob) -> None:
    session.add(job)
    session.flush()


def find_job(session: Session, prefix: str, owner_id: str | None) -> UploadJob | None:
    statement = _owned_by(sa.select(UploadJob), owner_id)
    return by_prefix(session, statement, UploadJob.id, prefix, "job")


def list_jobs(
    session: Session, owner_id: str | None, status: str | None, limit: int = 1000
) -> Sequence[UploadJob]:
    statement = _owned_by(sa.select(UploadJob), owner_id)
    if status:
        statement = statement.where(UploadJob.status == JobStatus(status))
    return session.scalars(
        statement.order_by(UploadJob.created_at, UploadJob.id).limit(limit)
    ).all()


def jobs_by_target(session: Session, target_ids: Sequence[str]) -> dict[str, UploadJob]:
    """The newest job of each target (a track or a release's cover)."""
    if not target_ids:
        return {}
    statement = (
        sa.select(UploadJob)
        .where(UploadJob.target_id.in_(target_ids))
        .order_by(UploadJob.created_at)
    )
    return {job.target_id: job for job in session.scalars(statement)}


def unfinished_count(session: Session, release_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        UploadJob.release_id == release_id, UploadJob.status != JobStatus.COMPLETED
    )
    return session.scalar(statement) or 0


def _staged_paths(session: Session, condition: sa.ColumnElement[bool]) -> list[str]:
    statement = sa.select(UploadJob.local_path).where(
        condition, UploadJob.status != JobStatus.COMPLETED
    )
    return list(session.scalars(statement))


def staged_paths_of_user(session: Session, user_id: str) -> list[str]:
    return _staged_paths(session, owned_by_user(user_id))


def staged_paths_of_release(session: Session, release_id: str) -> list[str]:
    return _staged_paths(session, of_release(release_id))


def staged_paths_of_track(session: Session, track_id: str) -> list[str]:
    return _staged_paths(session, of_track(track_id))


def drop_waiting_cover_jobs(session: Session, release_id: str) -> list[str]:
    """Forget cover uploads not yet started (a new cover replaces them); return their files."""
    condition = sa.and_(
        UploadJob.release_id == release_id,
        UploadJob.type == JobType.COVER_ART,
        UploadJob.status.in_((JobStatus.PENDING, JobStatus.FAILED)),
    )
    paths = list(session.scalars(sa.select(UploadJob.local_path).where(condition)))
    session.execute(sa.delete(UploadJob).where(condition))
    return paths


def count_by_status(session: Session, machine_id: str | None = None) -> dict[str, int]:
    statement = sa.select(UploadJob.status, sa.func.count()).group_by(UploadJob.status)
    if machine_id is not None:
        statement = statement.where(UploadJob.machine_id == machine_id)
    counts = {status.value: 0 for status in JobStatus}
    for status, count in session.execute(statement):
        counts[JobStatus(status).value] = count
    return counts


def _owned_by(statement: sa.Select, owner_id: str | None) -> sa.Select:  # type: ignore[type-arg]
    if owner_id is None:
        return statement
    return statement.join(Release, Release.id == UploadJob.release_id).where(
        Release.artist_id == owner_id
    )


def latest_errors(session: Session, owner_id: str | None, limit: int = 5) -> Sequence[UploadJob]:
    statement = sa.select(UploadJob).where(UploadJob.error_log.is_not(None))  # type: ignore[union-attr]
    statement = _owned_by(statement, owner_id)
    return session.scalars(statement.order_by(UploadJob.updated_at.desc()).limit(limit)).all()


def retry_failed(session: Session, owner_id: str | None, job_id: str | None, at: datetime) -> int:
    """FAILED -> PENDING, due now, with a fresh attempt budget."""
    statement = sa.update(UploadJob).where(UploadJob.status == JobStatus.FAILED)
    if job_id is not None:
        statement = statement.where(UploadJob.id == job_id)
    if owner_id is not None:
        owned = sa.select(Release.id).where(Release.artist_id == owner_id).scalar_subquery()
        statement = statement.where(UploadJob.release_id.in_(owned))
    statement = statement.values(
        status=JobStatus.PENDING, attempts=0, next_attempt_at=at, updated_at=at
    )
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def retry_failed_of_release(session: Session, release_id: str, at: datetime) -> int:
    statement = (
        sa.update(UploadJob)
        .where(UploadJob.release_id == release_id, UploadJob.status == JobStatus.FAILED)
        .values(status=JobStatus.PENDING, attempts=0, next_attempt_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount


# --- the daemon's side: claim, heartbeat, finish ------------------------------------------


def _claimable(machine_id: str, at: datetime) -> sa.ColumnElement[bool]:
    due = sa.and_(UploadJob.status == JobStatus.PENDING, UploadJob.next_attempt_at <= at)
    abandoned = sa.and_(UploadJob.status == JobStatus.UPLOADING, UploadJob.lease_expires_at < at)
    return sa.and_(UploadJob.machine_id == machine_id, sa.or_(due, abandoned))


def claim_next(
    session: Session, machine_id: str, owner: str, at: datetime, lease_until: datetime
) -> UploadJob | None:
    """Take one due job of this machine under a lease; None when there is nothing to do.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets several daemons claim side by side. SQLite: the
    transaction already holds the write lock (BEGIN IMMEDIATE) and the UPDATE is guarded on
    the status seen, so two daemons never take the same job.
    """
    candidate = session.execute(
        sa.select(UploadJob.id, UploadJob.status, UploadJob.lease_owner)
        .where(_claimable(machine_id, at))
        .order_by(UploadJob.next_attempt_at, UploadJob.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if candidate is None:
        return None
    job_id, status, previous_owner = candidate
    abandoned = JobStatus(status) == JobStatus.UPLOADING
    values: dict[str, object] = {
        "status": JobStatus.UPLOADING,
        "lease_owner": owner,
        "lease_expires_at": lease_until,
        "attempts": UploadJob.attempts + 1,
        "updated_at": at,
    }
    if abandoned:
        values["retry_count"] = UploadJob.retry_count + 1
        values["error_log"] = f"lease of {previous_owner} expired: taken back"
    guarded = (
        sa.update(UploadJob)
        .where(UploadJob.id == job_id, UploadJob.status == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if session.execute(guarded).rowcount != 1:
        return None
    session.expire_all()
    return session.get(UploadJob, job_id)


def _fenced(job_id: str, owner: str) -> sa.Update:
    return (
        sa.update(UploadJob)
        .where(
            UploadJob.id == job_id,
            UploadJob.lease_owner == owner,
            UploadJob.status == JobStatus.UPLOADING,
        )
        .execution_options(synchronize_session=False)
    )


def extend_lease(session: Session, job_id: str, owner: str, until: datetime) -> bool:
    return session.execute(_fenced(job_id, owner).values(lease_expires_at=until)).rowcount == 1


def mark_completed(session: Session, job_id: str, owner: str, at: datetime) -> bool:
    values = {
        "status": JobStatus.COMPLETED,
        "lease_owner": None,
        "lease_expires_at": None,
        "completed_at": at,
        "updated_at": at,
        "error_log": None,
    }
    return session.execute(_fenced(job_id, owner).values(**values)).rowcount == 1


def mark_failed_attempt(
    session: Session,
    job_id: str,
    owner: str,
    at: datetime,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Count a failed attempt: due again at ``retry_at``, or FAILED for good when None."""
    values: dict[str, object] = {
        "status": JobStatus.PENDING if retry_at else JobStatus.FAILED,
        "retry_count": UploadJob.retry_count + 1,
        "error_log": error[:2000],
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": at,
    }
    if retry_at:
        values["next_attempt_at"] = retry_at
    return session.execute(_fenced(job_id, owner).values(**values)).rowcount == 1


def release_lease(session: Session, job_id: str, owner: str, at: datetime) -> bool:
    """Give a claimed job back untouched (shutdown): the attempt does not count."""
    values = {
        "status": JobStatus.PENDING,
        "attempts": UploadJob.attempts - 1,
        "lease_owner": None,
        "lease_expires_at": None,
        "next_attempt_at": at,
        "updated_at": at,
    }
    return session.execute(_fenced(job_id, owner).values(**values)).rowcount == 1


def pending_or_uploading(session: Session, machine_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        UploadJob.machine_id == machine_id,
        UploadJob.status.in_((JobStatus.PENDING, JobStatus.UPLOADING)),
    )
    return session.scalar(statement) or 0


def next_due_at(session: Session, machine_id: str) -> datetime | None:
    statement = sa.select(sa.func.min(UploadJob.next_attempt_at)).where(
        UploadJob.machine_id == machine_id, UploadJob.status == JobStatus.PENDING
    )
    return session.scalar(statement)


def status_of_paths(session: Session, paths: Sequence[str]) -> dict[str, str]:
    """The job status behind each staged path that has a job (chunked IN lists)."""
    found: dict[str, str] = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        rows = session.execute(
            sa.select(UploadJob.local_path, UploadJob.status).where(UploadJob.local_path.in_(chunk))
        )
        found.update((path, JobStatus(status).value) for path, status in rows)
    return found


def overdue_count(session: Session, machine_id: str, before: datetime) -> int:
    """Jobs that should have moved by now: due long ago, or holding a long-expired lease."""
    waiting = sa.and_(UploadJob.status == JobStatus.PENDING, UploadJob.next_attempt_at < before)
    stuck = sa.and_(UploadJob.status == JobStatus.UPLOADING, UploadJob.lease_expires_at < before)
    statement = sa.select(sa.func.count()).where(
        UploadJob.machine_id == machine_id, sa.or_(waiting, stuck)
    )
    return session.scalar(statement) or 0


# --- objects to remove from storage ----------------------------------------------------------


def schedule_object_removal(session: Session, condition: sa.ColumnElement[bool]) -> int:
    """Queue the stored objects of the COMPLETED jobs matching ``condition`` for removal,
    in one INSERT ... SELECT (run it before the rows that own them are deleted)."""
    from vwaza_cli.db.models import StorageDeletion, new_id

    uploaded = sa.select(UploadJob.object_key, UploadJob.machine_id).where(
        condition, UploadJob.status == JobStatus.COMPLETED
    )
    rows = [
        {
            "id": new_id(),
            "object_key": key,
            "machine_id": machine,
            "attempts": 0,
            "error_log": None,
            "created_at": clock_now(),
        }
        for key, machine in session.execute(uploaded)
    ]
    if rows:
        session.execute(sa.insert(StorageDeletion.__table__), rows)
    return len(rows)


def clock_now() -> datetime:
    from vwaza_cli import clock

    return clock.now()


def owned_by_user(user_id: str) -> sa.ColumnElement[bool]:
    owned = sa.select(Release.id).where(Release.artist_id == user_id).scalar_subquery()
    return UploadJob.release_id.in_(owned)


def of_release(release_id: str) -> sa.ColumnElement[bool]:
    return UploadJob.release_id == release_id


def of_track(track_id: str) -> sa.ColumnElement[bool]:
    return UploadJob.track_id == track_id


def older_covers(release_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(UploadJob.release_id == release_id, UploadJob.type == JobType.COVER_ART)


def drop_completed_cover_jobs(session: Session, release_id: str) -> None:
    session.execute(
        sa.delete(UploadJob).where(
            older_covers(release_id), UploadJob.status == JobStatus.COMPLETED
        )
    )


def pending_deletions(session: Session, machine_id: str, limit: int = 100) -> list[tuple[str, str]]:
    from vwaza_cli.db.models import StorageDeletion

    statement = (
        sa.select(StorageDeletion.id, StorageDeletion.object_key)
        .where(
            StorageDeletion.machine_id == machine_id,
            StorageDeletion.attempts < DELETION_ATTEMPTS,  # then left for a person to look at
        )
        .order_by(StorageDeletion.created_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(statement)]


def forget_deletion(session: Session, deletion_id: str) -> None:
    from vwaza_cli.db.models import StorageDeletion

    session.execute(sa.delete(StorageDeletion).where(StorageDeletion.id == deletion_id))


def note_deletion_failure(session: Session, deletion_id: str, error: str) -> None:
    from vwaza_cli.db.models import StorageDeletion

    session.execute(
        sa.update(StorageDeletion)
        .where(StorageDeletion.id == deletion_id)
        .values(attempts=StorageDeletion.attempts + 1, error_log=error[:2000])
    )


def job_exists(session: Session, job_id: str) -> bool:
    return session.get(UploadJob, job_id) is not None
