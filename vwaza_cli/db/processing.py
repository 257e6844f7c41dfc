"""Queries about track processing: the work queue the daemon's processors claim under a
lease (like upload jobs, see db/jobs.py), and what the processing records on a track."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.lookup import rowcount
from vwaza_cli.db.models import JobStatus, JobType, Release, Track, TrackProcessing, UploadJob
from vwaza_cli.enums import ProcessingStatus

UNFINISHED = (ProcessingStatus.PENDING, ProcessingStatus.RUNNING)
# Still needs its master: unfinished, or failed (a resubmit queues it again).
NEEDS_MASTER = (*UNFINISHED, ProcessingStatus.FAILED)


def put(session: Session, row: TrackProcessing) -> None:
    """Queue ``row``'s work, replacing what its track had queued or done before."""
    session.execute(sa.delete(TrackProcessing).where(col(TrackProcessing.track_id) == row.track_id))
    session.add(row)
    session.flush()


def find(session: Session, track_id: str) -> TrackProcessing | None:
    return session.get(TrackProcessing, track_id)


def of_tracks(session: Session, track_ids: Sequence[str]) -> dict[str, TrackProcessing]:
    if not track_ids:
        return {}
    statement = sa.select(TrackProcessing).where(col(TrackProcessing.track_id).in_(track_ids))
    return {row.track_id: row for row in session.scalars(statement)}


def claim_next(
    session: Session, machine_id: str, owner: str, at: datetime, lease_until: datetime
) -> TrackProcessing | None:
    """One due task of this machine, now leased to ``owner`` (see jobs.claim_next for how
    two daemons never take the same one). An expired lease counts as a failed attempt."""
    due = sa.and_(
        col(TrackProcessing.status) == ProcessingStatus.PENDING,
        col(TrackProcessing.next_attempt_at) <= at,
    )
    expired = sa.and_(
        col(TrackProcessing.status) == ProcessingStatus.RUNNING,
        col(TrackProcessing.lease_expires_at) < at,
    )
    candidate = session.execute(
        sa.select(col(TrackProcessing.track_id), col(TrackProcessing.status))
        .where(col(TrackProcessing.machine_id) == machine_id, sa.or_(due, expired))
        .order_by(col(TrackProcessing.next_attempt_at), col(TrackProcessing.created_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if candidate is None:
        return None
    track_id, status = candidate
    values: dict[str, Any] = {
        "status": ProcessingStatus.RUNNING,
        "lease_owner": owner,
        "lease_expires_at": lease_until,
        "updated_at": at,
    }
    if ProcessingStatus(status) == ProcessingStatus.RUNNING:
        values.update(_attempt_taken_back())
    claimed = sa.update(TrackProcessing).where(
        col(TrackProcessing.track_id) == track_id, col(TrackProcessing.status) == status
    )
    if rowcount(session.execute(claimed.values(**values))) != 1:
        return None
    session.expire_all()
    return session.get(TrackProcessing, track_id)


def _attempt_taken_back() -> dict[str, Any]:
    """A daemon stopped while it held the lease: counted as a failed attempt."""
    return {
        "attempts": col(TrackProcessing.attempts) + 1,
        "error_log": "the daemon processing it stopped: taken back",
    }


def take_back(session: Session, track_id: str, owner: str, at: datetime) -> bool:
    """The task back in the queue, due at once, if ``owner`` still holds it (row-locked,
    so on PostgreSQL this waits for a transaction of the owner still in flight)."""
    values = {"status": ProcessingStatus.PENDING, "next_attempt_at": at, "updated_at": at}
    values |= {"lease_owner": None, "lease_expires_at": None}
    return update_if_leased(session, track_id, owner, **values, **_attempt_taken_back())


def _leased(track_id: str, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(TrackProcessing.track_id) == track_id,
        col(TrackProcessing.lease_owner) == owner,
        col(TrackProcessing.status) == ProcessingStatus.RUNNING,
    )


def update_if_leased(session: Session, track_id: str, owner: str, **values: Any) -> bool:
    """Write ``values`` only while ``owner`` still holds the lease (the fence)."""
    statement = (
        sa.update(TrackProcessing)
        .where(_leased(track_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(statement)) == 1


def lock_leased(session: Session, track_id: str, owner: str) -> TrackProcessing | None:
    """The task, row-locked, if ``owner`` still holds its lease."""
    statement = sa.select(TrackProcessing).where(_leased(track_id, owner)).with_for_update()
    return session.scalars(statement).first()


def unfinished_in_release(session: Session, release_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        col(TrackProcessing.release_id) == release_id,
        col(TrackProcessing.status) != ProcessingStatus.DONE,
    )
    return session.scalar(statement) or 0


def outstanding(session: Session, machine_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        col(TrackProcessing.machine_id) == machine_id,
        col(TrackProcessing.status).in_(UNFINISHED),
    )
    return session.scalar(statement) or 0


def failed(session: Session, machine_id: str) -> int:
    statement = sa.select(sa.func.count()).where(
        col(TrackProcessing.machine_id) == machine_id,
        col(TrackProcessing.status) == ProcessingStatus.FAILED,
    )
    return session.scalar(statement) or 0


def next_due_at(session: Session, machine_id: str) -> datetime | None:
    statement = sa.select(sa.func.min(col(TrackProcessing.next_attempt_at))).where(
        col(TrackProcessing.machine_id) == machine_id,
        col(TrackProcessing.status) == ProcessingStatus.PENDING,
    )
    return session.scalar(statement)


def masters_in_use(session: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` a processing task still has to read."""
    found: set[str] = set()
    for start in range(0, len(paths), 500):
        statement = sa.select(col(TrackProcessing.master_path)).where(
            col(TrackProcessing.master_path).in_(paths[start : start + 500]),
            col(TrackProcessing.status).in_(NEEDS_MASTER),
        )
        found.update(session.scalars(statement))
    return found


def master_needed(session: Session, path: str) -> bool:
    return bool(masters_in_use(session, [path]))


def masters_of(session: Session, condition: sa.ColumnElement[bool]) -> list[str]:
    """The staged masters of the matching tasks that still need them."""
    statement = sa.select(col(TrackProcessing.master_path)).where(
        condition, col(TrackProcessing.status).in_(NEEDS_MASTER)
    )
    return list(session.scalars(statement))


def master_uploaded(session: Session, track_id: str, path: str) -> bool:
    """Whether the audio job that staged ``path`` is COMPLETED (the master may then go)."""
    statement = sa.select(sa.func.count()).where(
        col(UploadJob.track_id) == track_id,
        col(UploadJob.type) == JobType.AUDIO,
        col(UploadJob.local_path) == path,
        col(UploadJob.status) == JobStatus.COMPLETED,
    )
    return bool(session.scalar(statement))


def requeue_failed_of_release(session: Session, release_id: str, at: datetime) -> int:
    """FAILED -> PENDING, due now, with a fresh budget (resubmit)."""
    statement = (
        sa.update(TrackProcessing)
        .where(
            col(TrackProcessing.release_id) == release_id,
            col(TrackProcessing.status) == ProcessingStatus.FAILED,
        )
        .values(status=ProcessingStatus.PENDING, attempts=0, next_attempt_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(statement))


def of_track(track_id: str) -> sa.ColumnElement[bool]:
    return col(TrackProcessing.track_id) == track_id


def of_release(release_id: str) -> sa.ColumnElement[bool]:
    return col(TrackProcessing.release_id) == release_id


def owned_by_user(user_id: str) -> sa.ColumnElement[bool]:
    owned = sa.select(col(Release.id)).where(col(Release.artist_id) == user_id)
    return col(TrackProcessing.release_id).in_(owned.scalar_subquery())


# --- renditions recorded on the track ----------------------------------------------------

URL_COLUMNS = {
    JobType.STREAM: "stream_url",
    JobType.PREVIEW: "preview_url",
    JobType.WAVEFORM: "waveform_url",
}


def rendition_jobs(session: Session, track_id: str, kinds: Sequence[JobType]) -> list[UploadJob]:
    statement = sa.select(UploadJob).where(
        col(UploadJob.track_id) == track_id, col(UploadJob.type).in_(kinds)
    )
    return list(session.scalars(statement))


def drop_jobs(session: Session, job_ids: Sequence[str]) -> None:
    if job_ids:
        session.execute(sa.delete(UploadJob).where(col(UploadJob.id).in_(job_ids)))


def set_rendition_url(session: Session, job: UploadJob, url: str) -> int:
    """The URL of an uploaded rendition on its track (the job is its track's current one:
    a replaced rendition's job is deleted, so it never completes)."""
    column = URL_COLUMNS[JobType(job.type)]
    statement = sa.update(Track).where(col(Track.id) == job.track_id).values({column: url})
    return rowcount(session.execute(statement))


def clear_rendition_urls(session: Session, track_id: str, kinds: Sequence[JobType]) -> None:
    values = {URL_COLUMNS[kind]: None for kind in kinds}
    session.execute(sa.update(Track).where(col(Track.id) == track_id).values(values))
