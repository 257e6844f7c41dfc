"""Upload jobs with what they upload: the titles of their tracks and releases (`jobs list`),
and the jobs of one release (`release submit --wait`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.models import Release, Track, UploadJob


@dataclass(frozen=True)
class TargetTitles:
    """The track's title (None for a cover, whose target is the release) and the release's."""

    track: str | None
    release: str | None


def titles_of(session: Session, jobs: Sequence[UploadJob]) -> dict[str, TargetTitles]:
    """Job ID -> the titles of its track and release, for all ``jobs`` in one query."""
    ids = [job.id for job in jobs]
    if not ids:
        return {}
    statement = (
        sa.select(col(UploadJob.id), col(Track.title), col(Release.title))
        .select_from(UploadJob)
        .outerjoin(Track, col(Track.id) == col(UploadJob.track_id))
        .outerjoin(Release, col(Release.id) == col(UploadJob.release_id))
        .where(col(UploadJob.id).in_(ids))
    )
    return {
        job_id: TargetTitles(track, release)
        for job_id, track, release in session.execute(statement)
    }


def of_release(session: Session, release_id: str) -> Sequence[UploadJob]:
    """Every upload job of a release (its tracks' and its cover's), oldest first."""
    statement = (
        sa.select(UploadJob)
        .where(col(UploadJob.release_id) == release_id)
        .order_by(col(UploadJob.created_at), col(UploadJob.id))
    )
    return session.scalars(statement).all()
