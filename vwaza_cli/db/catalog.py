"""Set-based queries and inserts for catalog import and export: no query per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vwaza_cli.db.models import Release, Track, UploadJob, User


def users_by_email(session: Session, emails: Iterable[str]) -> dict[str, User]:
    lowered = sorted({e.lower() for e in emails})
    if not lowered:
        return {}
    statement = sa.select(User).where(sa.func.lower(User.email).in_(lowered))
    return {user.email.lower(): user for user in session.scalars(statement)}


def existing_releases(session: Session, artist_ids: Iterable[str]) -> list[Any]:
    """(id, artist_id, external_id, title, status, track count) of these artists' releases."""
    ids = sorted(set(artist_ids))
    if not ids:
        return []
    tracks = (
        sa.select(Track.release_id, sa.func.count().label("n"))
        .group_by(Track.release_id)
        .subquery()
    )
    statement = (
        sa.select(
            Release.id,
            Release.artist_id,
            Release.external_id,
            Release.title,
            Release.status,
            sa.func.coalesce(tracks.c.n, 0),
        )
        .outerjoin(tracks, tracks.c.release_id == Release.id)
        .where(Release.artist_id.in_(ids))
    )
    return list(session.execute(statement))


def insert_release(
    session: Session,
    release: dict[str, Any],
    tracks: Sequence[dict[str, Any]],
    jobs: Sequence[dict[str, Any]],
) -> bool:
    """One release with its tracks and upload jobs, as plain rows (executemany).
    False, with nothing written, when the release's external_id exists already."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # ON CONFLICT instead of a savepoint: two round trips fewer per release.
    statement = (
        insert(Release.__table__)
        .on_conflict_do_nothing(index_elements=["artist_id", "external_id"])
        .returning(Release.__table__.c.id)
    )
    if session.execute(statement, release).first() is None:
        return False
    if tracks:
        session.execute(sa.insert(Track.__table__), list(tracks))
    if jobs:
        session.execute(sa.insert(UploadJob.__table__), list(jobs))
    return True


def export_rows(
    session: Session, owner_id: str | None
) -> tuple[list[Any], list[Any], dict[str, str]]:
    """Releases (with their artist's email) and tracks for export, in two queries."""
    releases = sa.select(Release, User.email).join(User, User.id == Release.artist_id)
    if owner_id is not None:
        releases = releases.where(Release.artist_id == owner_id)
    rows = list(session.execute(releases.order_by(Release.created_at, Release.id)))
    ids = [r[0].id for r in rows]
    tracks: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        statement = sa.select(Track).where(Track.release_id.in_(chunk))
        tracks.extend(session.scalars(statement.order_by(Track.release_id, Track.order)))
    emails = {r[0].id: r[1] for r in rows}
    return [r[0] for r in rows], tracks, emails
