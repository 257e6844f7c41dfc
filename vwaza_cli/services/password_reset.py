"""Password reset by email: a token mailed once, stored only as a hash, valid an hour, used once.

No account enumeration. ``request_reset`` prints the same words and exits with the same code for
every email, and takes the same steps whether or not an account exists or the email is over its
rate limit: a token is made and hashed, the same queries run in one transaction, the same mail is
composed, and then it is either sent or *rehearsed* (``mailer.rehearse``: the same SMTP session
up to the recipient, or the same outbox file written and fsynced, but nothing delivered). An SMTP
server that cannot be reached or refuses the login therefore fails alike for everyone, and may be
reported: exit 7, whatever the email.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from vwaza_cli import clock
from vwaza_cli.db import users
from vwaza_cli.db.models import PasswordResetToken
from vwaza_cli.emails import email_key
from vwaza_cli.errors import InvalidResetToken, VwazaError
from vwaza_cli.services import mailer, passwords, tokens
from vwaza_cli.services.accounts import normalise_email

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vwaza_cli.services.context import Context
    from vwaza_cli.settings import Settings

TOKEN_PREFIX = "vwr"
TOKEN_LIFETIME = timedelta(hours=1)
REQUESTS_PER_WINDOW = 3  # reset mails per email address ...
RATE_WINDOW = timedelta(hours=1)  # ... in this long
RESET_SUBJECT = "Your Vwaza password reset token"
CHANGED_SUBJECT = "Your Vwaza password was changed"
INVALID_TOKEN = (
    "this reset token is unknown, already used or expired: "
    "ask for a new one with `vwaza auth password reset-request --email YOU`"
)


def request_reset(ctx: Context, email: str) -> dict[str, Any]:
    """Mail a reset token if ``email`` has an account; the answer never says whether it has."""
    email = normalise_email(email)
    moment = clock.now()
    token = tokens.new_token(TOKEN_PREFIX)
    with ctx.tx() as session:
        recipient = _issue_token(session, email, tokens.hash_token(token), moment)
    body = _reset_mail(recipient or email, token, moment + TOKEN_LIFETIME)
    message = mailer.compose(ctx.settings, to=recipient or email, subject=RESET_SUBJECT, body=body)
    if recipient is None:
        mailer.rehearse(ctx.settings, message)
    else:
        mailer.send(ctx.settings, message)
    return _request_answer(ctx.settings, email)


def reset_password(ctx: Context, token: str, password: str) -> dict[str, Any]:
    """Use a token once: set the password, void the user's other tokens, end all their sessions."""
    # The registration rules, checked before the token is spent: a refused password keeps it.
    new_hash = passwords.hash_password(password, ctx.settings.bcrypt_rounds)
    moment = clock.now()
    with ctx.tx() as session:
        row = users.find_reset_token(session, tokens.hash_token(token.strip()))
        if row is None or not users.consume_reset_token(session, row.id, moment):
            raise InvalidResetToken(INVALID_TOKEN)
        users.set_password_hash(session, row.user_id, new_hash)
        users.void_reset_tokens(session, row.user_id)
        revoked = users.revoke_user_sessions(session, row.user_id, moment)
        user = users.get_user(session, row.user_id)
        assert user is not None  # the foreign key cascades: no token outlives its user
        email = user.email
    result: dict[str, Any] = {"password_reset": True, "email": email, "sessions_ended": revoked}
    warnings = _notify_changed(ctx.settings, email, moment)
    if warnings:
        result["warnings"] = warnings
    return result


def _issue_token(session: Session, email: str, token_hash: str, moment: datetime) -> str | None:
    """Count the request against the rate limit and store the token for the account, if any.
    Returns the account's own address (mail goes there, not to what was typed), or None."""
    since = moment - RATE_WINDOW
    key = _rate_key(email)
    users.forget_reset_requests_before(session, since)
    users.forget_reset_tokens_expired_before(session, since)  # dead secrets are not kept
    within_limit = users.count_reset_requests(session, key, since) < REQUESTS_PER_WINDOW
    user = users.find_user_by_email(session, email)
    if not within_limit:
        return None
    users.record_reset_request(session, key, moment)
    if user is None:
        # One round trip in place of the token's insert: with a remote store, a missing
        # statement would show as a shorter answer.
        users.find_reset_token(session, token_hash)
        return None
    expires = moment + TOKEN_LIFETIME
    row = PasswordResetToken(
        user_id=user.id, token_hash=token_hash, created_at=moment, expires_at=expires
    )
    users.add_reset_token(session, row)
    return user.email


def _rate_key(email: str) -> str:
    # Keyed by a hash, and counted whether or not the account exists: the limit reveals nothing.
    return tokens.hash_token(f"reset-request:{email_key(email)}")


def _request_answer(settings: Settings, email: str) -> dict[str, Any]:
    minutes = int(TOKEN_LIFETIME.total_seconds() // 60)
    if settings.smtp is None:
        where = f"written to the outbox {settings.outbox_dir}, as no SMTP server is configured"
    else:
        where = "emailed to it"
    message = (
        f"If an account exists for {email}, a password-reset token has been {where} "
        f"(at most {REQUESTS_PER_WINDOW} an hour). It expires in {minutes} minutes: "
        "run `vwaza auth password reset --token TOKEN`."
    )
    return {
        "email": email,
        "message": message,
        "delivery": "smtp" if settings.smtp else "outbox",
        "outbox": None if settings.smtp else str(settings.outbox_dir),
        "expires_in_minutes": minutes,
    }


def _reset_mail(address: str, token: str, expires: datetime) -> str:
    return (
        f"Someone, hopefully you, asked to reset the password of the Vwaza account {address}.\n"
        "\n"
        "To choose a new password, run this command (it asks for the new password twice):\n"
        "\n"
        f"    vwaza auth password reset --token {token}\n"
        "\n"
        f"then log in with `vwaza auth login --email {address}`.\n"
        "\n"
        f"The token works once and expires at {_utc(expires)}, one hour after it was asked\n"
        "for. Keep it secret: whoever holds it can set your password. Resetting the password\n"
        "logs the account out everywhere.\n"
        "\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )


def _notify_changed(settings: Settings, email: str, moment: datetime) -> list[str]:
    """Tell the account's address that its password changed; a failure is only a warning,
    since the password has been reset by then."""
    body = (
        f"The password of the Vwaza account {email} was reset at {_utc(moment)} with a\n"
        "token sent to this address, and every session of the account was logged out.\n"
        "\n"
        "If this was not you, ask for a new token at once with\n"
        f"`vwaza auth password reset-request --email {email}` and tell your Vwaza admin.\n"
    )
    message = mailer.compose(settings, to=email, subject=CHANGED_SUBJECT, body=body)
    try:
        mailer.send(settings, message)
    except VwazaError as exc:  # unreachable server, or a refused setting
        return [f"the password was reset, but the notice mail was not sent: {exc.message}"]
    return []


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
