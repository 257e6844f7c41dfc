"""users: `email_key`, the email as compared, unique in place of lower(email)

SQLite's lower() folds ASCII only: there `Émile@` could not log in typed `émile@`, the two
were separate accounts, and a Kelvin sign made a second account no login could reach. The
key is computed in Python (vwaza_cli.emails: NFKC, case-folded), the same on both engines;
`email` keeps the address as typed. Existing users get their key here. Two users whose
emails share a key stop the upgrade, both named, and nothing changes: merging accounts is
not for a migration to decide.

Revision ID: 0005_user_email_key
Revises: 0004_job_bytes_sent
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from vwaza_cli.emails import email_key
from vwaza_cli.errors import EmailTaken
from vwaza_cli.textsafe import printable

revision = "0005_user_email_key"
down_revision = "0004_job_bytes_sent"
branch_labels = None
depends_on = None

_USERS = sa.table("users", sa.column("id"), sa.column("email"), sa.column("email_key"))


def upgrade() -> None:
    keys = _keys_of_existing_users()
    _refuse_shared_keys(keys)
    # ADD COLUMN, never a table copy: on SQLite a copy drops `users`, and with foreign keys
    # on that deletes every row that cascades from it. NOT NULL needs a default there.
    op.add_column(
        "users",
        sa.Column("email_key", sa.String(length=320), nullable=False, server_default=""),
    )
    _fill_keys(keys)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("users", "email_key", server_default=None)  # SQLite cannot drop it
    op.drop_index("ux_users_email_lower", table_name="users")
    op.create_index("ux_users_email_key", "users", ["email_key"], unique=True)


def _keys_of_existing_users() -> dict[str, tuple[str, str]]:
    """Each user's id -> (email as typed, its key)."""
    rows = op.get_bind().execute(sa.select(_USERS.c.id, _USERS.c.email)).all()
    return {user_id: (email, email_key(email)) for user_id, email in rows}


def _refuse_shared_keys(keys: dict[str, tuple[str, str]]) -> None:
    by_key: dict[str, list[str]] = defaultdict(list)
    for user_id, (email, key) in sorted(keys.items(), key=lambda item: item[1][0]):
        by_key[key].append(f"'{printable(email)}' (user {user_id})")
    shared = [" and ".join(users) for users in by_key.values() if len(users) > 1]
    if shared:
        raise EmailTaken(
            f"cannot upgrade the store: these accounts have one email once case is ignored: "
            f"{'; '.join(shared)}. An email is one account from this version on, so nothing "
            "was changed: delete or rename all but one of each in the database, then run "
            "`vwaza db upgrade` again"
        )


def _fill_keys(keys: dict[str, tuple[str, str]]) -> None:
    if not keys:
        return
    update = (
        sa.update(_USERS)
        .where(_USERS.c.id == sa.bindparam("user_id"))
        .values(email_key=sa.bindparam("key"))
    )
    rows = [{"user_id": user_id, "key": key} for user_id, (_, key) in keys.items()]
    op.get_bind().execute(update, rows)


def downgrade() -> None:
    op.drop_index("ux_users_email_key", table_name="users")
    op.create_index("ux_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    # DROP COLUMN: PostgreSQL, and SQLite since 3.35; no table copy (see upgrade).
    op.execute("ALTER TABLE users DROP COLUMN email_key")
