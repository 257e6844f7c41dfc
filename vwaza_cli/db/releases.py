"""Queries about releases and tracks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.lookup import by_prefix, rowcount, table_of
from vwaza_cli.db.models import Release, ReleaseStatus, Track, User
from vwaza_cli.errors import TrackOrderTaken


def _visible_releases(owner_id: str | None) -> sa.Select[Release]:
    statement = sa.select(Release)
    if owner_id is not None:
        statement = statement.where(col(Release.artist_id) == owner_id)
    return statement


def find_release(session: Session, prefix: str, owner_id: str | None) -> Release | None:
    """A release by ID prefix; ``owner_id`` limits the search to one artist's releases."""
    return by_prefix(session, _visible_releases(owner_id), col(Release.id), prefix, "release")


def lock_release(session: Session, release_id: str) -> Release | None:
    """Re-read a release inside the write transaction (row lock on PostgreSQL)."""
    statement = sa.select(Release).where(col(Release.id) == release_id).with_for_update()
    session.expire_all()
    return session.scalars(statement).first()


def list_releases(
    session: Session,
    owner_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
    oldest_first: bool = False,
) -> Sequence[Release]:
    statement = _visible_releases(owner_id)
    if status:
        statement = statement.where(col(Release.status) == ReleaseStatus(status))
    # in the order of the listing indexes (migration 0008): a page is read, never sorted
    order: tuple[sa.ColumnElement[Any], ...]
    if oldest_first:
        order = (col(Release.updated_at).asc(), col(Release.id).asc())
    else:
        order = (col(Release.created_at).desc(), col(Release.id).desc())
    statement = statement.order_by(*order).limit(limit).offset(offset)
    return session.scalars(statement).all()


def releases_with_artists(session: Session, releases: Sequence[Release]) -> dict[str, User]:
    ids = {release.artist_id for release in releases}
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(sa.select(User).where(col(User.id).in_(ids)))}


def find_by_external_id(session: Session, artist_id: str, external_id: str) -> Release | None:
    statement = sa.select(Release).where(
        col(Release.artist_id) == artist_id, col(Release.external_id) == external_id
    )
    return session.scalars(statement).first()


def find_by_title(session: Session, artist_id: str, title: str) -> Release | None:
    statement = sa.select(Release).where(
        col(Release.artist_id) == artist_id,
        col(Release.title) == title,
        col(Release.external_id).is_(None),
    )
    return session.scalars(statement).first()


def delete_release(session: Session, release_id: str) -> None:
    session.execute(sa.delete(Release).where(col(Release.id) == release_id))


def set_cover_url_if_current(session: Session, release_id: str, staged: str, url: str) -> int:
    """Record the uploaded cover, unless the release has since been given another cover."""
    statement = (
        sa.update(Release)
        .where(col(Release.id) == release_id, col(Release.cover_art) == staged)
        .values(cover_art=url)
    )
    return rowcount(session.execute(statement))


# --- tracks ----------------------------------------------------------------------------


def tracks_of(session: Session, release_id: str) -> Sequence[Track]:
    statement = (
        sa.select(Track).where(col(Track.release_id) == release_id).order_by(col(Track.order))
    )
    return session.scalars(statement).all()


def count_tracks(session: Session, release_id: str) -> int:
    statement = sa.select(sa.func.count()).where(col(Track.release_id) == release_id)
    return session.scalar(statement) or 0


def find_track(session: Session, prefix: str, owner_id: str | None) -> Track | None:
    statement = sa.select(Track).join(Release, col(Release.id) == col(Track.release_id))
    if owner_id is not None:
        statement = statement.where(col(Release.artist_id) == owner_id)
    return by_prefix(session, statement, col(Track.id), prefix, "track")


def order_taken(session: Session, release_id: str, order: int) -> bool:
    statement = sa.select(col(Track.id)).where(
        col(Track.release_id) == release_id, col(Track.order) == order
    )
    return session.scalar(statement) is not None


def next_order(session: Session, release_id: str) -> int:
    statement = sa.select(sa.func.max(col(Track.order))).where(col(Track.release_id) == release_id)
    return (session.scalar(statement) or 0) + 1


def add_track(session: Session, track: Track) -> None:
    """Insert a track; the database's unique (release, order) decides a taken order."""
    try:
        with session.begin_nested():
            session.add(track)
            session.flush()
    except IntegrityError:
        raise TrackOrderTaken(
            f"track {track.order} is already taken on this release: "
            "choose another --order, or `vwaza track move` the other one"
        ) from None


def renumber(session: Session, release_id: str, ordered_ids: Sequence[str]) -> None:
    """Give the tracks orders 1..n in the given sequence, never breaking uniqueness.

    First every order moves out of the way (negative), then each takes its final place:
    PostgreSQL checks the unique constraint row by row, so a plain shift would collide.
    """
    table = table_of(Track)
    position = table.c.position
    session.execute(
        sa.update(table).where(table.c.release_id == release_id).values(position=-position - 1)
    )
    for index, track_id in enumerate(ordered_ids, start=1):
        session.execute(sa.update(table).where(table.c.id == track_id).values(position=index))
    session.expire_all()


def delete_track(session: Session, track_id: str) -> None:
    session.execute(sa.delete(Track).where(col(Track.id) == track_id))


def set_audio_url_if_current(session: Session, track_id: str, staged: str, url: str) -> int:
    statement = (
        sa.update(Track)
        .where(col(Track.id) == track_id, col(Track.audio_file) == staged)
        .values(audio_file=url)
    )
    return rowcount(session.execute(statement))
