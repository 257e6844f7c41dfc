"""`vwaza auth` over HTTP: register, log in and out, who am I, passwords."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vwaza_cli.errors import WrongCredentials
from vwaza_cli.server.deps import Anonymous, Caller, MaybeToken, anonymous
from vwaza_cli.server.ratelimit import LoginLimiter
from vwaza_cli.server.routes import ERRORS, Json
from vwaza_cli.server.schemas import Login, PasswordChange, Register, Reset, ResetRequest
from vwaza_cli.services import accounts, password_reset
from vwaza_cli.services.context import Context

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


@router.post("/register", status_code=201)
def register(body: Register, ctx: Anonymous) -> Json:
    return accounts.register(ctx, body.email, body.artist_name, body.password)


@router.post("/login")
def login(body: Login, request: Request, ctx: Anonymous) -> Json:
    """`{"token", "user", "expires_at"}`; 5 failures in 15 minutes lock the account's
    logins for 15 minutes (429), for an unknown email alike."""
    limiter: LoginLimiter = request.app.state.login_limiter
    mark = limiter.begin(body.email)
    try:
        result = accounts.open_session(ctx, body.email, body.password)
    except WrongCredentials:
        raise  # stays counted
    except BaseException:
        limiter.succeeded(body.email, mark)  # not a guess that failed (store down, bad email)
        raise
    limiter.succeeded(body.email, mark)
    return result


@router.post(
    "/logout", response_model=None, responses={204: {"description": "no session was given"}}
)
def logout(request: Request, token: MaybeToken) -> Json | Response:
    """Revoke the session of the bearer token; without one there is nothing to do (204)."""
    if not token:
        return Response(status_code=204)
    ctx = Context(settings=anonymous(request).settings, token=token)
    return accounts.logout(ctx)


@router.get("/whoami")
def whoami(ctx: Caller) -> Json:
    return accounts.whoami(ctx)


@router.post("/password/change")
def password_change(body: PasswordChange, ctx: Caller) -> Json:
    return accounts.change_password(ctx, body.old_password, body.new_password)


@router.post("/password/reset-request")
def password_reset_request(body: ResetRequest, ctx: Anonymous) -> Json:
    """The same answer whether or not the email has an account; the token is mailed by
    the server (or written to its outbox), never answered."""
    return password_reset.request_reset(ctx, body.email)


@router.post("/password/reset")
def password_reset_confirm(body: Reset, ctx: Anonymous) -> Json:
    return password_reset.reset_password(ctx, body.token, body.password)
