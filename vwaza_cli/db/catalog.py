"""Set-based queries and inserts for catalog import and export: no query per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.lookup import table_of
from vwaza_cli.db.models import (
    Release,
    ReleaseStatus,
    Track,
    TrackProcessing,
    UploadJob,
    User,
    column_values,
)
from vwaza_cli.emails import email_key


class ExistingRelease(NamedTuple):
    """A release already in the store, as catalog import compares it with the file's."""

    id: str
    artist_id: str
    external_id: str | None
    title: str
    status: ReleaseStatus
    tracks: int


def users_by_email(session: Session, emails: Iterable[str]) -> dict[str, User]:
    """The users of these emails, keyed by each email as given (compared by its key)."""
    keys = {email: email_key(email) for email in emails}
    if not keys:
        return {}
    statement = sa.select(User).where(col(User.email_key).in_(sorted(set(keys.values()))))
    found = {user.email_key: user for user in session.scalars(statement)}
    return {email: found[key] for email, key in keys.items() if key in found}


def existing_releases(session: Session, artist_ids: Iterable[str]) -> list[ExistingRelease]:
    """These artists' releases, each with its track count."""
    ids = sorted(set(artist_ids))
    if not ids:
        return []
    tracks = (
        sa.select(col(Track.release_id), sa.func.count().label("n"))
        .group_by(col(Track.release_id))
        .subquery()
    )
    statement = (
        sa.select(
            col(Release.id),
            col(Release.artist_id),
            col(Release.external_id),
            col(Release.title),
            col(Release.status),
            sa.func.coalesce(tracks.c.n, 0),
        )
        .outerjoin(tracks, tracks.c.release_id == col(Release.id))
        .where(col(Release.artist_id).in_(ids))
    )
    return [ExistingRelease._make(row) for row in session.execute(statement)]


def insert_release(
    session: Session,
    release: Release,
    tracks: Sequence[Track],
    jobs: Sequence[UploadJob],
    processing: Sequence[TrackProcessing] = (),
) -> bool:
    """One release with its tracks, upload jobs and tracks' processing, written as plain
    rows (executemany, not the ORM's unit of work); the objects stay out of the session.
    False, with nothing written, when the release's external_id exists already."""
    connection = session.connection()
    releases = table_of(Release)
    # ON CONFLICT instead of a savepoint: two round trips fewer per release.
    key = ["artist_id", "external_id"]
    insert: postgresql.Insert | sqlite.Insert
    if connection.dialect.name == "postgresql":
        insert = postgresql.insert(releases).on_conflict_do_nothing(index_elements=key)
    else:
        insert = sqlite.insert(releases).on_conflict_do_nothing(index_elements=key)
    if session.execute(insert.returning(releases.c.id), column_values(release)).first() is None:
        return False
    if tracks:
        session.execute(sa.insert(table_of(Track)), [column_values(track) for track in tracks])
    if jobs:
        session.execute(sa.insert(table_of(UploadJob)), [column_values(job) for job in jobs])
    if processing:
        rows = [column_values(row) for row in processing]
        session.execute(sa.insert(table_of(TrackProcessing)), rows)
    return True


def export_rows(
    session: Session, owner_id: str | None
) -> tuple[list[Release], list[Track], dict[str, str]]:
    """Releases (with their artist's email) and tracks for export, in two queries."""
    releases = sa.select(Release, col(User.email)).join(
        User, col(User.id) == col(Release.artist_id)
    )
    if owner_id is not None:
        releases = releases.where(col(Release.artist_id) == owner_id)
    rows = list(session.execute(releases.order_by(col(Release.created_at), col(Release.id))))
    ids = [r[0].id for r in rows]
    tracks: list[Track] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        statement = sa.select(Track).where(col(Track.release_id).in_(chunk))
        tracks.extend(session.scalars(statement.order_by(col(Track.release_id), col(Track.order))))
    emails = {r[0].id: r[1] for r in rows}
    return [r[0] for r in rows], tracks, emails
