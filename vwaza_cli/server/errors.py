"""Errors as HTTP answers: the error object of cli.md, its status from the exit code.

The one table a remote client reads backwards: it takes the exit code from the error's
``type`` (the exit-code name), never from the status, so a refinement of the status (401
beside 403, 429) changes no exit code.

| exit | type        | HTTP | when                                                         |
| ---- | ----------- | ---- | ------------------------------------------------------------ |
| 1    | internal    | 500  | a bug (the message names no detail; the server logs it)      |
| 2    | usage       | 400  | a request the API does not take: missing or mistyped field,  |
|      |             |      | malformed JSON, unknown operation (404) or method (405)      |
| 3    | not_found   | 404  | no such user, release, track or job (or not yours to see)    |
| 4    | permission  | 403  | your role may not do it                                      |
|      |             | 401  | not authenticated: no, unknown, expired or revoked token;    |
|      |             |      | wrong email or password; unknown/used/expired reset token    |
|      |             | 429  | too many failed logins for the account (Retry-After)         |
|      |             | 403  | plain http from another machine (use https)                  |
| 5    | conflict    | 409  | an integrity rule or the lifecycle forbids it                |
| 6    | invalid     | 422  | the services refuse a value (text rule, ISRC, media, email)  |
|      |             | 413  | a request body over the size the API takes                   |
| 7    | unavailable | 503  | the store, storage or mail cannot be reached                 |
"""

from __future__ import annotations

from typing import Any

from vwaza_cli.errors import (
    InvalidResetToken,
    NotLoggedIn,
    PermissionDenied,
    VwazaError,
    WrongCredentials,
)

STATUS_BY_TYPE: dict[str, int] = {
    "internal": 500,
    "usage": 400,
    "not_found": 404,
    "permission": 403,
    "conflict": 409,
    "invalid": 422,
    "unavailable": 503,
}


class NotAuthenticated(PermissionDenied):
    """The bearer token opens no live session (unknown, forged, expired, revoked)."""


class TooManyLogins(PermissionDenied):
    """Logins for one account are locked after too many failures."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestRefused(VwazaError):
    """A request the API does not take: the command line's usage error (exit 2)."""

    kind = "usage"


class BodyTooLarge(VwazaError):
    kind = "invalid"


class ServerBug(VwazaError):
    kind = "internal"


# Refinements of the table above, the most specific class first.
STATUS_BY_CLASS: tuple[tuple[type[VwazaError], int], ...] = (
    (TooManyLogins, 429),
    (NotLoggedIn, 401),
    (NotAuthenticated, 401),
    (WrongCredentials, 401),
    (InvalidResetToken, 401),
    (BodyTooLarge, 413),
)


def status_for(exc: VwazaError) -> int:
    for cls, status in STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return STATUS_BY_TYPE[exc.kind]


def error_body(exc: VwazaError) -> dict[str, Any]:
    """``{"error": {"type", "message"}}``, with the details the CLI prints too (a catalog's
    ``problems``, the extra ``lines`` under a message)."""
    body: dict[str, Any] = {"type": exc.kind, "message": exc.message}
    body.update({k: v for k, v in exc.details.items() if k in ("problems", "lines")})
    return {"error": _encodable(body)}


def _encodable(value: Any) -> Any:
    """Text that JSON in UTF-8 can carry: a lone surrogate (from a catalog's ``"\\ud800"``,
    quoted back in a problem) becomes its escape, ``\\ud800``."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {key: _encodable(item) for key, item in value.items()}
    return value


def headers_for(exc: VwazaError) -> dict[str, str]:
    if isinstance(exc, TooManyLogins):
        return {"Retry-After": str(exc.retry_after)}
    if status_for(exc) == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {}
