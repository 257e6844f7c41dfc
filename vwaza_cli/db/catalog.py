"""Set-based queries and inserts for catalog import and export: no query per row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from vwaza_cli.db import bulk
from vwaza_cli.db.bulk import Row
from vwaza_cli.db.models import (
    Release,
    ReleaseStatus,
    Track,
    TrackProcessing,
    UploadJob,
    User,
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


@dataclass
class ReleaseRows:
    """One release to import, as plain rows (``db.bulk``): the release, its tracks, their
    upload jobs (the cover's too) and their processing."""

    release: Row
    tracks: list[Row] = field(default_factory=list)
    jobs: list[Row] = field(default_factory=list)
    processing: list[Row] = field(default_factory=list)


RELEASE_KEY = "uq_releases_artist_external_id"
CHILDREN = ((Track, "tracks"), (UploadJob, "jobs"), (TrackProcessing, "processing"))


def insert_release(session: Session, rows: ReleaseRows, *, last: bool = True) -> bool:
    """One release with its tracks, upload jobs and tracks' processing: one statement per
    table (executemany), no ORM unit of work. False, with nothing written, when the
    release's external_id exists already (the transaction is then to be rolled back).

    On SQLite the WAL is checkpointed more rarely at the commit of a release that is not
    the ``last`` of an import (``IMPORT_CHECKPOINT_PAGES``): the last one checkpoints as
    usual, as a single big transaction would. On PostgreSQL the statements go
    in one pipeline: one round trip for the release, not one a table."""
    dialect = bulk.dialect_of(session)
    if dialect.name == "postgresql":
        return _insert_pipelined(session, rows)
    _hold_checkpoints(session, held=not last)
    insert = bulk.table_insert(Release, dialect)
    # ON CONFLICT instead of a savepoint: two round trips fewer per release.
    statement = f"{insert.sql} ON CONFLICT (artist_id, external_id) DO NOTHING RETURNING id"
    (values,) = insert.values([rows.release])
    if session.connection().exec_driver_sql(statement, values).first() is None:
        return False
    for model, batch in _children(rows):
        bulk.executemany(session, model, batch)
    return True


def _insert_pipelined(session: Session, rows: ReleaseRows) -> bool:
    """PostgreSQL: every statement of the release sent at once; a release that exists
    already fails on its key, which aborts the transaction and says False."""
    import psycopg

    dialect = bulk.dialect_of(session)
    driver = session.connection().connection.driver_connection
    assert driver is not None
    statement = ""
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            for model, batch in ((Release, [rows.release]), *_children(rows)):
                if batch:
                    insert = bulk.table_insert(model, dialect)
                    statement = insert.sql
                    cursor.executemany(statement, insert.values(batch))
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == RELEASE_KEY:
            return False
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    except psycopg.Error as exc:  # said as SQLAlchemy says it, for engine.transaction
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    return True


def _children(rows: ReleaseRows) -> list[tuple[type[SQLModel], list[Row]]]:
    return [(model, getattr(rows, name)) for model, name in CHILDREN]


# While an import writes, the WAL is checkpointed every 64 MB (4 KB pages) instead of
# SQLite's 4 MB: each release's commit rewrites some 80 index pages, and a checkpoint
# every dozen releases (each an fsync of the database file) would double the import's
# database time; never checkpointing would let the WAL grow by 300 KB a release.
IMPORT_CHECKPOINT_PAGES = 16_384
_HELD = "vwaza_checkpoints_held"  # in a pooled connection's info: its setting to restore


def _hold_checkpoints(session: Session, *, held: bool) -> None:
    """Space out (or restore) this connection's automatic WAL checkpoints; a connection
    given back to the pool always gets its own setting back (``_restore_checkpoints``)."""
    pooled = session.connection().connection
    driver = pooled.driver_connection
    assert driver is not None
    if held and _HELD not in pooled.info:
        pool = session.connection().engine.pool
        if not sa.event.contains(pool, "checkin", _restore_checkpoints):
            sa.event.listen(pool, "checkin", _restore_checkpoints)
        pooled.info[_HELD] = driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        driver.execute(f"PRAGMA wal_autocheckpoint = {IMPORT_CHECKPOINT_PAGES}")
    elif not held and _HELD in pooled.info:
        driver.execute(f"PRAGMA wal_autocheckpoint = {int(pooled.info.pop(_HELD))}")


def _restore_checkpoints(driver: Any, record: Any) -> None:
    if driver is not None and _HELD in record.info:
        driver.execute(f"PRAGMA wal_autocheckpoint = {int(record.info.pop(_HELD))}")


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
