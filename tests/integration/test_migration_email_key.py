"""Migration 0005: existing users get their email's key (NFKC, case-folded), two users with
one key stop the upgrade naming both, and the downgrade gives back lower(email)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support import db as testdb
from vwaza_cli.db import schema
from vwaza_cli.db.engine import get_engine
from vwaza_cli.errors import EmailTaken

BEFORE = "0004_job_bytes_sent"
AFTER = "0005_user_email_key"


@pytest.fixture
def old_store(own_store: str) -> str:
    """A store of its own at revision 0004, on each engine."""
    schema.upgrade(own_store, BEFORE)
    return own_store


def _add_user(url: str, user_id: str, email: str) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, password_hash, role, artist_name, created_at)"
                " VALUES (:id, :email, 'x', 'ARTIST', 'N', CURRENT_TIMESTAMP)"
            ),
            {"id": user_id, "email": email},
        )


def _add_release(url: str, artist_id: str) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO releases (id, artist_id, title, genre, status, created_at,"
                " updated_at) VALUES ('r1', :artist, 'T', 'G', 'DRAFT', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            ),
            {"artist": artist_id},
        )


def _rows(url: str, sql: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def _columns(url: str) -> set[str]:
    with get_engine(url).connect() as conn:
        return {column["name"] for column in sa.inspect(conn).get_columns("users")}


def test_the_upgrade_gives_existing_users_their_keys_and_keeps_their_emails(
    old_store: str,
) -> None:
    _add_user(old_store, "u1", "Émile@Example.com")
    _add_user(old_store, "u2", "\u212aay@example.com")  # KELVIN SIGN
    _add_user(old_store, "u3", "ADA@example.com")
    _add_release(old_store, "u1")
    assert schema.upgrade(old_store) == schema.HEAD_REVISION
    assert _rows(old_store, "SELECT id, email, email_key FROM users ORDER BY id") == [
        ("u1", "Émile@Example.com", "émile@example.com"),
        ("u2", "\u212aay@example.com", "kay@example.com"),
        ("u3", "ADA@example.com", "ada@example.com"),
    ]
    assert _rows(old_store, "SELECT id, artist_id FROM releases") == [("r1", "u1")]


def test_users_whose_emails_share_a_key_stop_the_upgrade_and_nothing_changes(
    old_store: str,
) -> None:
    _add_user(old_store, "u1", "ada@example.com")
    _add_user(old_store, "u2", "\uff41da@example.com")  # FULLWIDTH LATIN SMALL LETTER A
    _add_user(old_store, "u3", "bo@example.com")
    with pytest.raises(EmailTaken) as refused:
        schema.upgrade(old_store)
    assert "'ada@example.com' (user u1) and '\uff41da@example.com' (user u2)" in str(refused.value)
    assert "bo@example.com" not in str(refused.value)
    assert "nothing was changed" in str(refused.value)
    assert schema.current_revision(old_store) == BEFORE
    assert "email_key" not in _columns(old_store)


def test_a_store_without_users_upgrades(old_store: str) -> None:
    assert schema.upgrade(old_store) == schema.HEAD_REVISION
    assert _rows(old_store, "SELECT count(*) FROM users") == [(0,)]


def test_the_downgrade_drops_the_key_and_keeps_every_user_and_release(old_store: str) -> None:
    _add_user(old_store, "u1", "Émile@Example.com")
    _add_release(old_store, "u1")
    schema.upgrade(old_store, AFTER)
    testdb.downgrade(old_store, BEFORE)
    assert schema.current_revision(old_store) == BEFORE
    assert "email_key" not in _columns(old_store)
    assert _rows(old_store, "SELECT id, email FROM users") == [("u1", "Émile@Example.com")]
    assert _rows(old_store, "SELECT id FROM releases") == [("r1",)]
    with pytest.raises(sa.exc.IntegrityError):  # lower(email) is unique again
        _add_user(old_store, "u2", "ÉMILE@EXAMPLE.COM")
    assert schema.upgrade(old_store) == schema.HEAD_REVISION
