"""Engine factory. Built from settings when a command needs it, never at import time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from vwaza_cli.errors import (
    StoreDatabaseMissing,
    StoreFull,
    StoreUnavailable,
    UnsupportedStoreUrl,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_FULL = 13  # "database or disk is full"
SQLITE_IOERR = 10  # the primary code of every I/O error (SHMSIZE: no room for the -shm file)
PG_DISK_FULL = "53100"
PG_CONFLICTS = {"40P01", "40001"}  # deadlock_detected, serialization_failure
SQLITE_BUSY_CODES = {5, 6, 261, 517}  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
PG_NO_SUCH_DATABASE = "3D000"  # invalid_catalog_name
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
URL_HINT = "give sqlite:///PATH or postgresql://USER@HOST/DB"
NEARLY_FULL_BYTES = 1024 * 1024  # an I/O error on a disk with less room than this is "full"


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Take the write lock up front: a CLI and a daemon writing at once wait on the
        # busy timeout instead of failing with "database is locked" on lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine (and pool) per store URL for the life of the process."""
    engine = _ENGINES.get(url)
    if engine is None:
        check_store_url(url)
        engine = _ENGINES[url] = _create_engine(_normalise_url(url))
    return engine


def check_store_url(url: str) -> None:
    """Only SQLite and PostgreSQL stores: anything else is a setting this tool cannot take
    (exit 2), said before any driver is looked for."""
    try:
        backend = sa.engine.make_url(_normalise_url(url)).get_backend_name()
    except ArgumentError:
        raise UnsupportedStoreUrl(f"VWAZA_DATABASE_URL is not a database URL: {URL_HINT}") from None
    if backend not in SUPPORTED_BACKENDS:
        raise UnsupportedStoreUrl(
            f"VWAZA_DATABASE_URL names {backend}, which this tool does not support: "
            f"the store is SQLite or PostgreSQL ({URL_HINT})"
        )


def dispose_engines() -> None:
    """Close every pooled connection (tests, and a daemon shutting down)."""
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def _create_engine(url: str) -> Engine:
    """No folder or file is created here: a mistyped URL must not leave files behind
    (`vwaza init` creates the SQLite file, see ``prepare_sqlite_file``)."""
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(
                url,
                hide_parameters=True,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            _configure_sqlite(engine)
            return engine
        return sa.create_engine(
            url, pool_pre_ping=True, hide_parameters=True, connect_args={"connect_timeout": 10}
        )
    except (ArgumentError, NoSuchModuleError):
        raise UnsupportedStoreUrl(
            f"VWAZA_DATABASE_URL is not a database URL this tool can use: {URL_HINT}"
        ) from None


def describe_url(url: str) -> str:
    """The store's URL as shown to people: never with its password."""
    try:
        return sa.engine.make_url(_normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid URL)"


def sqlite_file_missing(url: str) -> bool:
    if not url.startswith("sqlite"):
        return False
    path = sa.engine.make_url(url).database
    return path is not None and path not in ("", ":memory:") and not Path(path).exists()


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite store's folder (private) and file (0600): it holds password hashes."""
    if not url.startswith("sqlite"):
        return
    path = sa.engine.make_url(url).database
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    if not folder.exists():
        folder.mkdir(parents=True)
        folder.chmod(0o700)
    Path(path).touch(mode=0o600, exist_ok=True)
    Path(path).chmod(0o600)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    try:
        with Session(get_engine(url), expire_on_commit=False) as session, session.begin():
            yield session
    except OperationalError as exc:
        full = _full_store_message(url, exc.orig)
        if full is not None:
            raise StoreFull(full) from exc
        if _database_missing(exc.orig):
            raise StoreDatabaseMissing(_missing_database_message(url)) from exc
        if _conflicted(exc.orig):
            raise StoreUnavailable(_conflict_message(url, exc)) from exc
        raise StoreUnavailable(_describe_operational_error(url, exc)) from exc


def _conflicted(orig: BaseException | None) -> bool:
    """The store answered, but this transaction met another one (a deadlock, a failed
    serialisation, SQLite's busy timeout): rolled back whole, worth trying again."""
    if getattr(orig, "sqlstate", None) in PG_CONFLICTS:
        return True
    return getattr(orig, "sqlite_errorcode", None) in SQLITE_BUSY_CODES


def _conflict_message(url: str, exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "busy"
    return f"the store at {describe_url(url)} was busy ({reason}): nothing was changed, try again"


def _database_missing(orig: BaseException | None) -> bool:
    """PostgreSQL answered, but the database of the URL does not exist there."""
    if getattr(orig, "sqlstate", None) == PG_NO_SUCH_DATABASE:
        return True
    # psycopg reports a refused connection's cause in its message only (no sqlstate).
    return orig is not None and "does not exist" in str(orig) and 'database "' in str(orig)


def _missing_database_message(url: str) -> str:
    parts = sa.engine.make_url(_normalise_url(url))
    return (
        f"the store's database {parts.database!r} does not exist on {parts.host or 'localhost'}"
        f": create it (e.g. `createdb -h {parts.host or 'localhost'} {parts.database}`), "
        "then run `vwaza init`; or fix VWAZA_DATABASE_URL"
    )


def _full_store_message(url: str, orig: BaseException | None) -> str | None:
    """What to say when the store failed for want of disk space; None when it did not."""
    if getattr(orig, "sqlstate", None) == PG_DISK_FULL:
        return (
            f"the database server of the store at {describe_url(url)} is out of disk space: "
            "free space on that server, then try again"
        )
    folder = sqlite_folder(url)
    code = getattr(orig, "sqlite_errorcode", None)
    if folder is None or code is None:
        return None
    primary = code & 0xFF  # extended result codes keep the primary one in the low byte
    if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _nearly_full(folder)):
        return f"the store's folder {folder} is full: free space there, then try again"
    return None


def sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite store's file (where its journal and -shm files go too)."""
    if not url.startswith("sqlite"):
        return None
    path = sa.engine.make_url(url).database
    if not path or path == ":memory:":
        return None
    return Path(path).absolute().parent


def _nearly_full(folder: Path) -> bool:
    """SQLite reports a -shm file it could not grow as an I/O error, not as SQLITE_FULL."""
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < NEARLY_FULL_BYTES


def _describe_operational_error(url: str, exc: OperationalError) -> str:
    where = describe_url(url)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
    return f"cannot reach the store at {where} ({reason}): check VWAZA_DATABASE_URL, retry later"
