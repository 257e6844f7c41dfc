"""Reads without the ORM, for the commands whose whole work is one read (`release list`,
`review list`): plain DB-API (sqlite3, psycopg) and SQL text, so that they start without
loading SQLAlchemy or SQLModel, which cost more than the rest of such a command.

They answer only the ordinary case: a store at the current schema, reachable, with the
caller's live session. Anything else (`Unanswered`) is left to the ORM path, which says
what is wrong exactly as every other command does; a read changes nothing, so asking twice
is harmless. The rows are the ORM's: tests compare the two on both engines.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from vwaza_cli.clock import as_utc
from vwaza_cli.db.revision import HEAD_REVISION
from vwaza_cli.enums import ReleaseStatus, Role

SQLITE_BUSY_TIMEOUT_S = 5.0
RELEASE_COLUMNS = (
    "id, artist_id, title, genre, cover_art, status, external_id, rejection_reason, "
    "created_at, updated_at, submitted_at, upc, release_date, original_release_date, label, "
    "p_line, c_line, language, cover_width, cover_height, cover_sha256"
)


class Unanswered(Exception):
    """This read cannot answer here: the ORM path will (and say why, if something is wrong)."""


class _Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    role: Role
    artist_name: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True)
class ReleaseRow:
    id: str
    artist_id: str
    title: str
    genre: str
    cover_art: str | None
    status: ReleaseStatus
    external_id: str | None
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    upc: str | None
    release_date: date | None
    original_release_date: date | None
    label: str | None
    p_line: str | None
    c_line: str | None
    language: str | None
    cover_width: int | None
    cover_height: int | None
    cover_sha256: str | None


class Reader:
    """One read-only connection; `:name` parameters on both engines."""

    def __init__(self, cursor: _Cursor, named: bool) -> None:
        self._cursor = cursor
        self._named = named  # sqlite3 takes :name; psycopg takes %(name)s

    def rows(self, sql: str, **params: Any) -> list[Any]:
        if not self._named:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        self._cursor.execute(sql, params)
        return self._cursor.fetchall()

    def schema_is_current(self) -> bool:
        found = self.rows("SELECT version_num FROM alembic_version")
        return bool(found) and found[0][0] == HEAD_REVISION

    def session_user(self, token_hash: str, at: datetime) -> UserRow | None:
        """The user of a live session (not revoked, not expired, user still there)."""
        found = self.rows(
            "SELECT u.id, u.email, u.role, u.artist_name, s.expires_at FROM sessions s "
            "JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL",
            token_hash=token_hash,
        )
        live = [row for row in found if _moment(row[4]) > at]
        if not live:
            return None
        user_id, email, role, artist_name, _ = live[0]
        return UserRow(user_id, email, Role(role), artist_name)

    def releases(
        self,
        owner_id: str | None,
        status: ReleaseStatus | None,
        limit: int,
        offset: int,
        oldest_first: bool = False,
    ) -> list[ReleaseRow]:
        """As db.releases.list_releases: the same filter, order and page."""
        where: list[str] = []
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if owner_id is not None:
            where.append("artist_id = :owner_id")
            params["owner_id"] = owner_id
        if status is not None:
            where.append("status = :status")
            params["status"] = status.value
        order = "updated_at, id" if oldest_first else "created_at DESC, id DESC"
        sql = (
            f"SELECT {RELEASE_COLUMNS} FROM releases"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
        return [_release(row) for row in self.rows(sql, **params)]

    def artists(self, releases: Sequence[ReleaseRow]) -> dict[str, UserRow]:
        ids = sorted({release.artist_id for release in releases})
        if not ids:
            return {}
        marks = ", ".join(f":id{n}" for n in range(len(ids)))
        found = self.rows(
            f"SELECT id, email, role, artist_name FROM users WHERE id IN ({marks})",
            **{f"id{n}": value for n, value in enumerate(ids)},
        )
        return {row[0]: UserRow(row[0], row[1], Role(row[2]), row[3]) for row in found}


def _moment(value: datetime | str) -> datetime:
    """A timestamp as the store keeps it (UTC; SQLite hands back text), made aware."""
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _maybe_moment(value: datetime | str | None) -> datetime | None:
    return None if value is None else _moment(value)


def _release(row: Sequence[Any]) -> ReleaseRow:
    release_id, artist_id, title, genre, cover_art, status, external_id, reason = row[:8]
    return ReleaseRow(
        release_id,
        artist_id,
        title,
        genre,
        cover_art,
        ReleaseStatus(status),
        external_id,
        reason,
        _moment(row[8]),
        _moment(row[9]),
        _maybe_moment(row[10]),
        row[11],
        _maybe_day(row[12]),
        _maybe_day(row[13]),
        *row[14:21],
    )


def _maybe_day(value: date | str | None) -> date | None:
    """A date as the store keeps it (SQLite hands back text)."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


@contextmanager
def reading(url: str) -> Iterator[Reader]:
    """A read-only connection to the store at ``url``; `Unanswered` for a URL, a store or
    an error this module leaves to the ORM path."""
    try:
        if url.startswith("sqlite:///") and "?" not in url:
            with _sqlite(url.removeprefix("sqlite:///")) as reader:
                yield reader
        elif re.match(r"postgres(ql)?(\+psycopg)?://", url):
            with _postgresql(re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)) as r:
                yield r
        else:
            raise Unanswered(url)
    except Unanswered:
        raise
    except Exception as exc:  # unreachable, locked, missing table...: the ORM path says
        raise Unanswered(str(exc)) from exc


@contextmanager
def _sqlite(path: str) -> Iterator[Reader]:
    if not path or path == ":memory:" or not Path(path).is_file():
        raise Unanswered(path)
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        yield Reader(connection.cursor(), named=True)
    finally:
        connection.close()


@contextmanager
def _postgresql(url: str) -> Iterator[Reader]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        yield Reader(connection.cursor(), named=False)
