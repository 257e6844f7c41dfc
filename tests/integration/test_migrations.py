"""Alembic owns the schema: the migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import vwaza_cli.db.models  # noqa: F401  (registers the tables)
from vwaza_cli.db import schema
from vwaza_cli.db.engine import get_engine


def test_the_cli_knows_the_newest_migration() -> None:
    assert schema.script_head() == schema.HEAD_REVISION


def test_migrated_store_matches_the_models(store_url: str) -> None:
    with get_engine(store_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_is_idempotent(store_url: str) -> None:
    assert schema.upgrade(store_url) == schema.HEAD_REVISION
    assert schema.current_revision(store_url) == schema.HEAD_REVISION
