"""What every request passes before a route: plain http only from loopback, and a bounded
body. Plain ASGI middleware, so that a refused request is answered before its body is read."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vwaza_cli.errors import PermissionDenied, VwazaError
from vwaza_cli.server.config import MAX_JSON_BYTES, is_loopback
from vwaza_cli.server.errors import BodyTooLarge, error_body, headers_for, status_for
from vwaza_cli.services.uploads import AUDIO, IMAGE

CATALOG_IMPORT_JSON_BYTES = 64 * 1024**2  # an upload named per file reference: 100,000s of them

# Bodies that are files, and the most each may be (the service's own limit for the kind).
FILE_BODIES = (
    ("POST", re.compile(r"/api/v1/releases/[^/]+/tracks"), AUDIO.max_bytes),
    ("PUT", re.compile(r"/api/v1/releases/[^/]+/cover"), IMAGE.max_bytes),
    ("PATCH", re.compile(r"/api/v1/uploads/[^/]+"), max(AUDIO.max_bytes, IMAGE.max_bytes)),
    # not a file, but it names an upload for each file reference of a catalog
    ("POST", re.compile(r"/api/v1/catalog/import"), CATALOG_IMPORT_JSON_BYTES),
)

PLAIN_HTTP = (
    "plain http is refused from other machines: the session token would cross the network "
    "in clear; use https (vwaza serve behind a TLS-terminating proxy, with "
    "VWAZA_SERVER_TRUST_PROXY set)"
)


class Refuse(Exception):
    """Raised inside ``receive`` when the body grows past the limit."""


class TransportGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await answer(send, refusal)
            return
        await self.app(scope, _bounded(receive, body_limit(scope)), send)

    def _refusal(self, scope: Scope) -> VwazaError | None:
        client = scope.get("client")
        if scope.get("scheme") != "https" and not is_loopback(client[0] if client else None):
            return PermissionDenied(PLAIN_HTTP)
        length = dict(scope.get("headers", ())).get(b"content-length")
        limit = body_limit(scope)
        if length is not None and (not length.isdigit() or int(length) > limit):
            return BodyTooLarge(_too_large(limit))
        return None


def body_limit(scope: Scope) -> int:
    for method, path, limit in FILE_BODIES:
        if scope.get("method") == method and path.fullmatch(scope.get("path", "")):
            return limit
    return MAX_JSON_BYTES


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise BodyTooLarge(_too_large(limit))
        return message

    return bounded


def _too_large(limit: int) -> str:
    if limit >= 1024**3:
        return f"the request body is over {limit // 1024**3} GiB: send less"
    return f"the request body is over {limit // 1024} KiB: send less"


async def answer(send: Send, exc: VwazaError) -> None:
    body = json.dumps(error_body(exc), ensure_ascii=False).encode("utf-8")
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    extra = headers_for(exc).items()
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
    await send({"type": "http.response.start", "status": status_for(exc), "headers": headers})
    await send({"type": "http.response.body", "body": body})
