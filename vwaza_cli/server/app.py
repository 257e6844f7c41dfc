"""The FastAPI application: routers under /api/v1, errors as the error object of cli.md."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from vwaza_cli import __version__
from vwaza_cli.errors import VwazaError
from vwaza_cli.server import resumable
from vwaza_cli.server.config import ServerSettings, load_server_settings
from vwaza_cli.server.deps import anonymous
from vwaza_cli.server.errors import (
    RequestRefused,
    ServerBug,
    error_body,
    headers_for,
    status_for,
)
from vwaza_cli.server.ratelimit import LoginLimiter
from vwaza_cli.server.routes import (
    ERRORS,
    accounts,
    admin,
    catalog,
    jobs,
    releases,
    review,
    tracks,
    upload_sessions,
)
from vwaza_cli.server.schemas import Health
from vwaza_cli.server.transport import TransportGuard
from vwaza_cli.settings import Settings, load_settings

API = "/api/v1"
log = logging.getLogger("vwaza.server")


def create_app(
    settings: Settings | None = None, server_settings: ServerSettings | None = None
) -> FastAPI:
    app = FastAPI(
        title="Vwaza Release Manager",
        version=__version__,
        description="The `vwaza` commands over HTTP: the same services, answers and rules.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings or load_settings()
    app.state.server_settings = server_settings or load_server_settings()
    app.state.login_limiter = LoginLimiter()
    resumable.forget_leftovers(app.state.settings)
    app.add_middleware(TransportGuard)
    _handle_errors(app)
    app.get(f"{API}/health", tags=["health"], responses={503: ERRORS[503]})(health)
    for module in (accounts, admin, releases, tracks, review, jobs, catalog, upload_sessions):
        app.include_router(module.router, prefix=API)
    return app


def health(request: Request) -> Health:
    """200 `{"status": "ok"}` once the store is reachable and its schema current."""
    with anonymous(request).tx():
        pass
    return Health(status="ok")


def _handle_errors(app: FastAPI) -> None:
    app.add_exception_handler(VwazaError, _vwaza_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _bad_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _bug)


def answer(exc: VwazaError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=status_for(exc), headers=headers_for(exc))


async def _vwaza_error(request: Request, exc: VwazaError) -> JSONResponse:
    return answer(exc)


async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    return answer(RequestRefused(describe_validation(exc)))


def describe_validation(exc: RequestValidationError) -> str:
    """The first problem, in the voice of a usage error: where, and what is wrong."""
    problems = exc.errors()
    if not problems:
        return "the request is malformed"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own answers (no such route, method not allowed) as the error object; a
    body refused while FastAPI read it (too large) as that refusal."""
    if isinstance(exc.__cause__, VwazaError):
        return answer(exc.__cause__)
    if exc.status_code == 404:
        error: VwazaError = RequestRefused(f"no such operation: {request.url.path}")
        return JSONResponse(error_body(error), status_code=404)
    error = RequestRefused(f"{request.method} {request.url.path}: {exc.detail}")
    return JSONResponse(error_body(error), status_code=exc.status_code, headers=exc.headers)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged here with its traceback; the answer names no detail (its text may
    quote SQL parameters, hashes or tokens)."""
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    name = type(exc).__name__
    return answer(ServerBug(f"internal error on the server ({name}): see its log"))
