"""Accounts and login sessions: register, log in and out, who am I, admin user management."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vwaza_cli import clock
from vwaza_cli.db import jobs, users
from vwaza_cli.db import processing as db_processing
from vwaza_cli.db.models import LoginSession, Role, User
from vwaza_cli.emails import email_key
from vwaza_cli.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
    RoleForbidden,
    UserNotFound,
    WrongCredentials,
)
from vwaza_cli.services import passwords, session_file, spool, uploads
from vwaza_cli.services.context import Context
from vwaza_cli.services.text import clean_text, has_unsafe_characters
from vwaza_cli.services.tokens import hash_token, new_token
from vwaza_cli.services.views import user_view
from vwaza_cli.textsafe import printable

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_LENGTH = 320


@dataclass(frozen=True)
class Actor:
    """Who is asking: enough to decide what they may see and do."""

    id: str
    email: str
    role: Role
    artist_name: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def _actor(user: User) -> Actor:
    return Actor(id=user.id, email=user.email, role=user.role, artist_name=user.artist_name)


def normalise_email(email: str) -> str:
    """The email as typed, trimmed (it is shown so; compared by its key)."""
    email = email.strip()
    if not _is_email(email):
        raise InvalidInput(f"not a valid email address: '{printable(email[:80])}'")
    return email


def _is_email(email: str) -> bool:
    """One printable address whose key (vwaza_cli/emails.py) fits the store as well:
    compatibility forms (ligatures, full-width letters) can make the key longer."""
    return (
        len(email) <= EMAIL_LENGTH
        and EMAIL_PATTERN.match(email) is not None
        and not has_unsafe_characters(email)
        and len(email_key(email)) <= EMAIL_LENGTH
    )


def _check_artist_name(role: Role, artist_name: str | None) -> str | None:
    name = (artist_name or "").strip() or None
    if role == Role.ARTIST and not name:
        raise InvalidInput("an artist needs an artist name: add --artist-name NAME")
    return clean_text(name, "artist name", 200) if name else None


def parse_role(role: str) -> Role:
    try:
        return Role(role.upper())
    except ValueError:
        raise InvalidInput(f"role must be ARTIST or ADMIN, not {role.upper()!r}") from None


def _new_user(ctx: Context, email: str, role: Role, artist_name: str | None, password: str) -> User:
    """The one way a User row is built (register, admin user create, init)."""
    email = normalise_email(email)
    name = _check_artist_name(role, artist_name)
    password_hash = passwords.hash_password(password, ctx.settings.bcrypt_rounds)
    return User(
        email=email,
        email_key=email_key(email),
        role=role,
        artist_name=name,
        password_hash=password_hash,
    )


def register(ctx: Context, email: str, artist_name: str, password: str) -> dict[str, Any]:
    user = _new_user(ctx, email, Role.ARTIST, artist_name, password)
    with ctx.tx() as session:
        users.add_user(session, user)
        return user_view(user)


def login(ctx: Context, email: str, password: str) -> dict[str, Any]:
    """Check the password, open a session, save it locally. Same error for every failure."""
    session_file.private_folder(ctx.settings)  # refused before anything changes in the store
    replaced = session_file.token_to_replace(ctx.settings)
    result = open_session(ctx, email, password, replaced)
    session_file.save_token(ctx.settings, result["token"], result["user"]["email"])
    return result


def open_session(
    ctx: Context, email: str, password: str, replaced: str | None = None
) -> dict[str, Any]:
    """Check the password and open a session, saving nothing on this machine (`vwaza serve`
    hands the token back to the client that logged in). Same error for every failure."""
    rounds = ctx.settings.bcrypt_rounds
    with ctx.tx() as session:
        user = users.find_user_by_email(session, email)
        if not passwords.verify_password(password, user.password_hash if user else None, rounds):
            raise WrongCredentials("wrong email or password")
        assert user is not None
        token, expires = _open_session(ctx, session, user.id, replaced)
        return {"token": token, "user": user_view(user), "expires_at": clock.iso(expires)}


def _open_session(
    ctx: Context, session: Session, user_id: str, replaced: str | None
) -> tuple[str, datetime]:
    """A new login session. The one saved on this machine before is revoked: nothing should
    go on working with a token this machine no longer holds (others, like CI's VWAZA_TOKEN,
    are left alone)."""
    token = new_token("vws")
    moment = clock.now()
    expires = moment + timedelta(days=ctx.settings.session_days)
    login_row = LoginSession(
        user_id=user_id, token_hash=hash_token(token), created_at=moment, expires_at=expires
    )
    users.add_login_session(session, login_row)
    if replaced is not None:
        users.revoke_session(session, hash_token(replaced), moment)
    return token, expires


def current_actor(ctx: Context) -> Actor:
    token = session_file.require_token(ctx.settings, ctx.token)
    with ctx.tx() as session:
        login_row = users.find_live_session(session, hash_token(token), clock.now())
        return _actor(_live_user(session, login_row.user_id if login_row else None))


def _live_user(session: Session, user_id: str | None) -> User:
    """The logged-in user, or the one answer for a session that no longer holds (expired,
    revoked, or its user deleted since it was read)."""
    user = users.get_user(session, user_id) if user_id else None
    if user is None:
        raise PermissionDenied(
            "your session has expired or was revoked: run `vwaza auth login --email YOU`"
        )
    return user


def require_admin(ctx: Context) -> Actor:
    actor = current_actor(ctx)
    if not actor.is_admin:
        raise RoleForbidden("only an admin may do this")
    return actor


def whoami(ctx: Context) -> dict[str, Any]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        return user_view(_live_user(session, actor.id))


def logout(ctx: Context) -> dict[str, Any]:
    """Revoke the session in the store and forget it locally. Logging out twice is fine.
    A saved session refused as unsafe is revoked and forgotten too (its token may be out)."""
    saved = session_file.token_to_replace(ctx.settings)
    token = ctx.token or saved
    revoked = 0
    if token:
        with ctx.tx() as session:
            revoked = users.revoke_session(session, hash_token(token), clock.now())
    if saved in (token, None):
        session_file.clear_token(ctx.settings)  # not someone else's saved login (VWAZA_TOKEN)
    return {"logged_out": True, "revoked": revoked == 1}


def change_password(ctx: Context, old_password: str, new_password: str) -> dict[str, Any]:
    """Change one's own password; every other session of the user is logged out."""
    actor = current_actor(ctx)
    rounds = ctx.settings.bcrypt_rounds
    new_hash = passwords.hash_password(new_password, rounds)
    with ctx.tx() as session:
        user = _live_user(session, actor.id)
        if not passwords.verify_password(old_password, user.password_hash, rounds):
            raise WrongCredentials("the current password is wrong")
        users.set_password_hash(session, actor.id, new_hash)
        assert ctx.token is not None
        users.revoke_user_sessions(session, actor.id, clock.now(), keep=hash_token(ctx.token))
    return {"password_changed": True, "email": actor.email}


# --- admin ------------------------------------------------------------------------------


def create_user(
    ctx: Context, email: str, role: str, artist_name: str | None, password: str
) -> dict[str, Any]:
    require_admin(ctx)
    user = _new_user(ctx, email, parse_role(role), artist_name, password)
    with ctx.tx() as session:
        users.add_user(session, user)
        return user_view(user)


def list_users(ctx: Context) -> list[dict[str, Any]]:
    require_admin(ctx)
    with ctx.tx() as session:
        return [user_view(user) for user in users.list_users(session)]


def delete_user(ctx: Context, email: str) -> dict[str, Any]:
    """Delete a user and, by cascade, everything of theirs; then their staged files."""
    actor = require_admin(ctx)
    with ctx.tx() as session:
        user = users.find_user_by_email(session, email)
        if user is None:
            raise UserNotFound(f"no user with email {email}")
        if user.id == actor.id:
            raise Conflict("you cannot delete your own account while logged in as it")
        staged = uploads.forget_files_of(
            session, jobs.owned_by_user(user.id), db_processing.owned_by_user(user.id)
        )
        view = user_view(user)
        users.delete_user(session, user.id)
    spool.discard(staged)
    return {**view, "deleted": True, "staged_files_removed": len(staged)}


def check_first_admin(email: str, password: str) -> None:
    """What `init --admin-email` is given, checked before the store is created or migrated,
    so that a bad email or password leaves nothing behind."""
    normalise_email(email)
    passwords.check_new_password(password)


def create_first_admin(ctx: Context, email: str, password: str) -> dict[str, Any]:
    """`vwaza init --admin-email`: the *first* admin, only on a store with no user at all
    (anyone who can run init could otherwise make themselves admin of a store in use).
    Re-running init with the same email changes nothing (its password is left as it was);
    everywhere else admins are created by an admin, with `vwaza admin user create`."""
    user = _new_user(ctx, email, Role.ADMIN, None, password)
    with ctx.tx() as session:
        users.lock_users_against_inserts(session)  # two inits, or an init and a register
        existing = users.find_user_by_email(session, email)
        if existing is not None:
            return _first_admin_again(existing, email)
        if users.has_any_user(session):
            raise Conflict(
                "this store has users already, so only an admin may create admins: log in as "
                "one and run `vwaza admin user create --role ADMIN`"
            )
        users.add_user(session, user)
        return {**user_view(user), "created": True}


def _first_admin_again(existing: User, email: str) -> dict[str, Any]:
    """`init --admin-email` run again with the same email: nothing to do, or a conflict."""
    if existing.role != Role.ADMIN:
        raise Conflict(f"{email} already exists and is not an admin")
    return {
        **user_view(existing),
        "created": False,
        "warnings": [f"{email} exists already: its password was left unchanged"],
    }
