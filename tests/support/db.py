"""Stores for tests: a fresh SQLite file per test, and one PostgreSQL database per test run
(created from VWAZA_TEST_PG_URL, emptied between tests)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TABLES = (
    "upload_jobs",
    "tracks",
    "releases",
    "sessions",
    "password_reset_tokens",
    "reset_requests",
    "daemon_heartbeats",
    "storage_deletions",
    "team_servers",
    "users",
)


def pg_server_url() -> tuple[str, bool]:
    """The PostgreSQL to create test databases on, and whether it was asked for explicitly."""
    explicit = os.environ.get("VWAZA_TEST_PG_URL")
    return explicit or DEFAULT_PG_URL, bool(explicit)


def pg_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def fresh_pg_database(server_url: str, prefix: str = "vwaza_test") -> Iterator[str]:
    """CREATE DATABASE for this test run (or benchmark); DROP it afterwards."""
    import psycopg

    server_url = server_url.replace("+psycopg", "")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    base = sa.engine.make_url(server_url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        from vwaza_cli.db.engine import dispose_engines

        dispose_engines()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_pg(url: str) -> None:
    from vwaza_cli.db.engine import get_engine

    with get_engine(url).begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} CASCADE")


def sqlite_template(folder: Path) -> Path:
    from vwaza_cli.db.schema import upgrade

    path = folder / "template.db"
    upgrade(f"sqlite:///{path}")
    from vwaza_cli.db.engine import dispose_engines

    dispose_engines()
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "store" / "vwaza.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def require_pg_server(server_url: str) -> None:
    """For a benchmark's --pg: exit with one line unless the server answers (a throw-away
    database is created on it later)."""
    import psycopg

    try:
        with psycopg.connect(server_url.replace("+psycopg", ""), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemExit(
            f"--pg: cannot connect ({reason}): give the URL of a PostgreSQL server on which"
            " this user may CREATE DATABASE"
        ) from None


def downgrade(url: str, revision: str) -> None:
    """alembic's downgrade, which the CLI does not offer, for the migrations' tests."""
    from alembic import command
    from alembic.config import Config

    from vwaza_cli.db.engine import get_engine
    from vwaza_cli.db.schema import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with get_engine(url).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
