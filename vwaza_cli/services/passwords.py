"""bcrypt behind one small module. Nothing else imports bcrypt."""

from __future__ import annotations

import bcrypt

from vwaza_cli.errors import InvalidPassword

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt ignores everything past 72 bytes: refuse rather than truncate silently
# A valid hash to check against when there is no user, so that a login for an unknown
# email costs the same time as one for a known email.
_DUMMY_HASH: dict[int, bytes] = {}


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidPassword(f"password too short: use at least {MIN_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise InvalidPassword(f"password too long: at most {MAX_BYTES} bytes (UTF-8)")
    if "\x00" in password:
        raise InvalidPassword("password must not contain NUL characters")


def hash_password(password: str, rounds: int) -> str:
    check_new_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Constant-work check; a missing hash or an over-long password is simply a mismatch."""
    encoded = password.encode("utf-8")
    target = password_hash.encode("ascii") if password_hash else _dummy_hash(rounds)
    if len(encoded) > MAX_BYTES or "\x00" in password:
        bcrypt.checkpw(b"x", target)  # same work, certain mismatch
        return False
    return bcrypt.checkpw(encoded, target) and password_hash is not None


def _dummy_hash(rounds: int) -> bytes:
    if rounds not in _DUMMY_HASH:
        _DUMMY_HASH[rounds] = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))
    return _DUMMY_HASH[rounds]
