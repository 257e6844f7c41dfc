"""Schema version checks and migrations (alembic owns the schema)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from vwaza_cli.db.engine import (
    get_engine,
    prepare_sqlite_file,
    sqlite_file_missing,
    transaction,
)
from vwaza_cli.db.revision import HEAD_REVISION as HEAD_REVISION
from vwaza_cli.errors import StoreNotMigrated

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config() -> Config:
    # alembic loads only to migrate: every command checks the version, none needs alembic.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the store to ``revision``; returns the revision it is now at."""
    from alembic import command

    config = _alembic_config()
    prepare_sqlite_file(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(url)


def prepare_store(url: str) -> None:
    """What `vwaza init` creates before migrating: a SQLite file and its private folder."""
    prepare_sqlite_file(url)


def current_revision(url: str) -> str | None:
    """The store's schema revision; None for a store that was never initialised (a SQLite
    file that does not exist is not created by asking)."""
    if sqlite_file_missing(url):
        return None
    with transaction(url) as session:
        inspector = sa.inspect(session.connection())
        if not inspector.has_table("alembic_version"):
            return None
        return session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def script_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def ensure_migrated(url: str) -> None:
    """Refuse to work on a store that is missing or behind, and say how to fix it."""
    revision = current_revision(url)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise StoreNotMigrated("the store is not initialised: run `vwaza init`")
    raise StoreNotMigrated(
        f"the store's schema is at {revision}, this vwaza needs {HEAD_REVISION}: "
        "run `vwaza db upgrade`"
    )
