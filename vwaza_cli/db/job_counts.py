"""How many upload jobs there are, for everyone or for one artist: `vwaza daemon status`."""

from __future__ import annotations

from typing import TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.models import Release, UploadJob
from vwaza_cli.enums import JobStatus

Columns = TypeVarTuple("Columns")


def count_by_status(session: Session, owner_id: str | None) -> dict[str, int]:
    """Every status with its count (0 included); ``owner_id`` counts only the jobs of that
    artist's releases, None counts all."""
    statement = sa.select(col(UploadJob.status), sa.func.count()).group_by(col(UploadJob.status))
    counts = {status.value: 0 for status in JobStatus}
    for status, count in session.execute(_of_owner(statement, owner_id)):
        counts[JobStatus(status).value] = count
    return counts


def uploading_by_daemon(session: Session, owner_id: str) -> dict[str, int]:
    """The artist's jobs being uploaded right now, by the daemon (lease owner) doing it."""
    statement = (
        sa.select(col(UploadJob.lease_owner), sa.func.count())
        .where(
            col(UploadJob.status) == JobStatus.UPLOADING, col(UploadJob.lease_owner).is_not(None)
        )
        .group_by(col(UploadJob.lease_owner))
    )
    return {str(daemon): count for daemon, count in session.execute(_of_owner(statement, owner_id))}


def _of_owner(statement: sa.Select[*Columns], owner_id: str | None) -> sa.Select[*Columns]:
    if owner_id is None:
        return statement
    return statement.join(Release, col(Release.id) == col(UploadJob.release_id)).where(
        col(Release.artist_id) == owner_id
    )
