"""A SQLite store that cannot grow says so, naming its folder (no root needed: SQLite's own
page limit makes it full). The CLI tests in tests/cli/test_full_disk.py fill real disks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.support import db as testdb
from vwaza_cli.db.engine import dispose_engines, get_engine, transaction
from vwaza_cli.errors import StoreFull, StoreUnavailable


def _no_growth(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA max_page_count = 1")  # raised to the current size


def test_a_sqlite_store_that_cannot_grow_is_full_and_names_its_folder(
    tmp_path: Path, sqlite_template: Path
) -> None:
    url = testdb.sqlite_copy(sqlite_template, tmp_path)
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE filler (b BLOB)")
    engine.dispose()
    event.listen(engine, "connect", _no_growth)
    try:
        with pytest.raises(StoreFull) as caught, transaction(url) as session:
            session.execute(sa.text("INSERT INTO filler VALUES (zeroblob(100000))"))
    finally:
        dispose_engines()
    assert isinstance(caught.value, StoreUnavailable)  # the daemon keeps trying, as for any
    assert caught.value.exit_code == 7
    assert str(tmp_path / "store") in caught.value.message
    assert "free space" in caught.value.message


def test_other_operational_errors_still_say_the_store_cannot_be_reached(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not-a-folder' / 'x.db'}"
    try:
        with pytest.raises(StoreUnavailable) as caught, transaction(url) as session:
            session.execute(sa.text("SELECT 1"))
    finally:
        dispose_engines()
    assert not isinstance(caught.value, StoreFull)
    assert "cannot reach the store" in caught.value.message
