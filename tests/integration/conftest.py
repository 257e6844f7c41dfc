"""A store of a test's own on each engine, never migrated: for tests of the migrations
themselves, which move a store's schema up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import db as testdb


@pytest.fixture(params=["sqlite", "postgresql"])
def own_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    from vwaza_cli.db.engine import dispose_engines

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.db'}"
        dispose_engines()
        return
    server, _ = testdb.pg_server_url()
    if not testdb.pg_reachable(server):
        pytest.skip("PostgreSQL is not reachable (set VWAZA_TEST_PG_URL to require it)")
    with testdb.fresh_pg_database(server) as url:
        yield url
