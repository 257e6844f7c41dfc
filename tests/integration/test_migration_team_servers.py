"""Migration 0006: the team_servers table comes and goes, and every other row stays."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support import db as testdb
from vwaza_cli.db import schema
from vwaza_cli.db.engine import get_engine

BEFORE = "0005_user_email_key"


def _tables(url: str) -> set[str]:
    with get_engine(url).connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_the_table_is_added_and_dropped_again(own_store: str) -> None:
    schema.upgrade(own_store, BEFORE)
    assert "team_servers" not in _tables(own_store)
    assert schema.upgrade(own_store) == schema.HEAD_REVISION
    assert "team_servers" in _tables(own_store)
    testdb.downgrade(own_store, BEFORE)
    assert schema.current_revision(own_store) == BEFORE
    assert "team_servers" not in _tables(own_store)
    assert schema.upgrade(own_store) == schema.HEAD_REVISION


# Below 0005, SQLite's batch steps reflect the users table and its lower(email) index.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_every_migration_goes_down_and_up_again(own_store: str) -> None:
    schema.upgrade(own_store)
    testdb.downgrade(own_store, "base")
    assert _tables(own_store) <= {"alembic_version"}
    assert schema.upgrade(own_store) == schema.HEAD_REVISION
