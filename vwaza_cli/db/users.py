"""Queries about users, login sessions and password-reset tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.lookup import rowcount
from vwaza_cli.db.models import LoginSession, PasswordResetToken, ResetRequest, User
from vwaza_cli.emails import email_key
from vwaza_cli.errors import EmailTaken


def find_user_by_email(session: Session, email: str) -> User | None:
    statement = sa.select(User).where(col(User.email_key) == email_key(email))
    return session.scalars(statement).first()


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def add_user(session: Session, user: User) -> User:
    """Insert a user; the unique index on its email's key decides duplicates."""
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise EmailTaken(
            f"an account with email {user.email} already exists: log in, or reset its password"
        ) from None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(sa.select(User).order_by(col(User.created_at), col(User.email))))


def delete_user(session: Session, user_id: str) -> None:
    # The foreign keys cascade to releases, tracks, jobs, tokens and sessions.
    session.execute(sa.delete(User).where(col(User.id) == user_id))


def has_any_user(session: Session) -> bool:
    return session.scalar(sa.select(col(User.id)).limit(1)) is not None


def lock_users_against_inserts(session: Session) -> None:
    """Until the transaction ends, no one else may add a user, and whoever holds this lock
    waits for those adding one to finish: "no user yet, so add the first" holds true.

    PostgreSQL: SHARE ROW EXCLUSIVE conflicts with itself and with the ROW EXCLUSIVE lock an
    INSERT takes (reads and logins go on). SQLite: nothing to do, every transaction begins
    with BEGIN IMMEDIATE, the one writer lock (see engine.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))


def set_password_hash(session: Session, user_id: str, password_hash: str) -> None:
    session.execute(
        sa.update(User).where(col(User.id) == user_id).values(password_hash=password_hash)
    )


# --- login sessions --------------------------------------------------------------------


def add_login_session(session: Session, login: LoginSession) -> None:
    session.add(login)
    session.flush()


def find_live_session(session: Session, token_hash: str, at: datetime) -> LoginSession | None:
    statement = sa.select(LoginSession).where(
        col(LoginSession.token_hash) == token_hash,
        col(LoginSession.revoked_at).is_(None),
        col(LoginSession.expires_at) > at,
    )
    return session.scalars(statement).first()


def revoke_session(session: Session, token_hash: str, at: datetime) -> int:
    statement = (
        sa.update(LoginSession)
        .where(col(LoginSession.token_hash) == token_hash, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=at)
    )
    return rowcount(session.execute(statement))


def revoke_user_sessions(
    session: Session, user_id: str, at: datetime, keep: str | None = None
) -> int:
    """Log a user out everywhere (but the session whose token hash is ``keep``)."""
    statement = (
        sa.update(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=at)
    )
    if keep is not None:
        statement = statement.where(col(LoginSession.token_hash) != keep)
    return rowcount(session.execute(statement))


# --- password reset --------------------------------------------------------------------


def count_reset_requests(session: Session, email_hash: str, since: datetime) -> int:
    statement = sa.select(sa.func.count()).where(
        col(ResetRequest.email_hash) == email_hash, col(ResetRequest.created_at) > since
    )
    return session.scalar(statement) or 0


def record_reset_request(session: Session, email_hash: str, at: datetime) -> None:
    session.add(ResetRequest(email_hash=email_hash, created_at=at))
    session.flush()


def forget_reset_requests_before(session: Session, before: datetime) -> None:
    session.execute(sa.delete(ResetRequest).where(col(ResetRequest.created_at) < before))


def forget_reset_tokens_expired_before(session: Session, before: datetime) -> None:
    session.execute(
        sa.delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) < before)
    )


def add_reset_token(session: Session, token: PasswordResetToken) -> None:
    session.add(token)
    session.flush()


def find_reset_token(session: Session, token_hash: str) -> PasswordResetToken | None:
    statement = sa.select(PasswordResetToken).where(
        col(PasswordResetToken.token_hash) == token_hash
    )
    return session.scalars(statement).first()


def consume_reset_token(session: Session, token_id: str, at: datetime) -> bool:
    """The single guarded update that uses a token: unused, unexpired, exactly one row."""
    statement = (
        sa.update(PasswordResetToken)
        .where(
            col(PasswordResetToken.id) == token_id,
            col(PasswordResetToken.used).is_(False),
            col(PasswordResetToken.expires_at) > at,
        )
        .values(used=True)
    )
    return rowcount(session.execute(statement)) == 1


def void_reset_tokens(session: Session, user_id: str) -> None:
    statement = (
        sa.update(PasswordResetToken)
        .where(col(PasswordResetToken.user_id) == user_id, col(PasswordResetToken.used).is_(False))
        .values(used=True)
    )
    session.execute(statement)
