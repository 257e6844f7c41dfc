"""Who is asking: the bearer token, and the service Context a route hands to the services.

The server checks no permission of its own: it passes the token into the Context and the
services decide, as they do for the CLI. It only tells apart a token that opens no session
(401, checked by the services' own `current_actor`) from a role that may not (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vwaza_cli.errors import NotLoggedIn, PermissionDenied
from vwaza_cli.server.errors import NotAuthenticated
from vwaza_cli.services import accounts
from vwaza_cli.services.context import Context
from vwaza_cli.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="A session token from POST /api/v1/auth/login, in the Authorization header "
    "only (never in a query string or a cookie).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def anonymous(request: Request) -> Context:
    """For register, login and password reset: no session needed, none used."""
    return Context(settings=settings_of(request))


def maybe_token(credentials: Credentials) -> str | None:
    return credentials.credentials if credentials is not None else None


def caller(request: Request, token: Annotated[str | None, Depends(maybe_token)]) -> Context:
    """A Context for the session the token opens; 401 when it opens none."""
    if not token:
        raise NotLoggedIn()
    ctx = Context(settings=settings_of(request), token=token)
    try:
        accounts.current_actor(ctx)
    except PermissionDenied as exc:
        raise NotAuthenticated(exc.message) from None
    return ctx


Anonymous = Annotated[Context, Depends(anonymous)]
Caller = Annotated[Context, Depends(caller)]
MaybeToken = Annotated[str | None, Depends(maybe_token)]
