"""A Supabase Storage server for tests and benchmarks, answering as shared/spec/storage-protocol.md.

It runs aiohttp in a background thread on 127.0.0.1 (random free port), keeps objects as files
in a folder and streams every body in small pieces, so a 1 GB upload keeps memory flat.
Faults are injected through ``server.faults`` from the test thread::

    with run_storage_server(tmp_path, bucket="vwaza-uploads") as server:
        server.faults.fail_next(1, status=503)
        ...
        assert server.objects() == {"a/b.flac": (size, sha256)}

Standalone (benchmarks): ``python -m tests.support.storage_server --port 54321``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

PREFIX = "/storage/v1/"
TUS_CHUNK = 6 * 1024 * 1024
PIECE = 64 * 1024
DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024  # Supabase's standard global default
# The secret of `supabase start`; any HS256 token signed with it is accepted.
TEST_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"

# Supabase Storage's own rule for object keys (S3-safe characters only).
_VALID_KEY = re.compile(r"[\w/!\-.*'() &$@=;:+,?]+", re.ASCII)


# --- keys ---------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(
    role: str = "service_role", *, secret: str = TEST_JWT_SECRET, lifetime: int = 10 * 365 * 86400
) -> str:
    """A Supabase-shaped API key: an HS256 JWT with a `role` claim, signed with `secret`."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": "supabase-demo", "role": role, "iat": now, "exp": now + lifetime}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def verify_jwt(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired HS256 token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
    try:
        if not hmac.compare_digest(_b64url_decode(parts[2]), expected.digest()):
            return None
        claims = json.loads(_b64url_decode(parts[1]))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("exp", float("inf")) < time.time():
        return None
    return claims


# --- error bodies (the spec's table; statusCode is a string) ---------------------------


def storage_error(status: str, error: str, message: str, code: str) -> dict[str, str]:
    return {"statusCode": status, "error": error, "message": message, "code": code}


DUPLICATE = storage_error("409", "Duplicate", "The resource already exists", "KeyAlreadyExists")
NO_SUCH_KEY = storage_error("404", "not_found", "Object not found", "NoSuchKey")
NO_SUCH_BUCKET = storage_error("404", "Bucket not found", "Bucket not found", "NoSuchBucket")
TOO_LARGE = storage_error(
    "413", "Payload too large", "The object exceeded the maximum allowed size", "EntityTooLarge"
)
ACCESS_DENIED = storage_error("403", "Unauthorized", "invalid signature", "AccessDenied")
RLS_DENIED = storage_error(
    "403", "Unauthorized", "new row violates row-level security policy", "AccessDenied"
)
INTERNAL = storage_error("500", "Internal", "Internal Server Error", "InternalError")
DATABASE_TIMEOUT = storage_error(
    "544", "DatabaseTimeout", "The database timed out", "DatabaseTimeout"
)
TOO_MANY = storage_error(
    "429", "too_many_connections", "Too many connections issued to the database", "SlowDown"
)


def invalid_mime(content_type: str) -> dict[str, str]:
    return storage_error(
        "415", "invalid_mime_type", f"mime type {content_type} is not supported", "InvalidMimeType"
    )


def invalid_key(key: str) -> dict[str, str]:
    return storage_error("400", "InvalidKey", f"Invalid key: {key}", "InvalidKey")


def _error_response(body: dict[str, str]) -> web.Response:
    # Storage answers every 4xx as HTTP 400 with the real code in the body; faults as 500.
    return web.json_response(body, status=500 if body["statusCode"] == "500" else 400)


def _text(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, headers={"Tus-Resumable": "1.0.0", **headers})


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# --- state ------------------------------------------------------------------------------


@dataclass
class Bucket:
    id: str
    public: bool = True
    file_size_limit: int | None = None
    allowed_mime_types: list[str] | None = None
    created_at: str = field(default_factory=_now)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.id,
            "owner": "",
            "public": self.public,
            "type": "STANDARD",
            "file_size_limit": self.file_size_limit,
            "allowed_mime_types": self.allowed_mime_types,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }

    def allows(self, content_type: str) -> bool:
        if not self.allowed_mime_types:
            return True
        mime = content_type.split(";")[0].strip().lower()
        return any(
            allowed in {mime, "*/*"} or allowed == f"{mime.split('/')[0]}/*"
            for allowed in (a.lower() for a in self.allowed_mime_types)
        )


@dataclass
class StoredObject:
    id: str
    bucket: str
    name: str
    size: int
    content_type: str
    cache_control: str
    md5: str
    sha256: str
    data: Path
    metadata: dict[str, Any] | None
    created_at: str
    updated_at: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.md5}"'  # quoted, as the file backend (and S3) send it

    def info_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "bucket_id": self.bucket,
            "size": self.size,
            "content_type": self.content_type,
            "cache_control": f"max-age={self.cache_control}",
            "etag": self.etag,
            "metadata": self.metadata,
            "last_modified": self.updated_at,
            "created_at": self.created_at,
        }

    def row_json(self) -> dict[str, Any]:
        return {
            "bucket_id": self.bucket,
            "name": self.name,
            "id": self.id,
            "owner": "",
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_accessed_at": self.updated_at,
            "metadata": self.storage_metadata(),
            "user_metadata": self.metadata,
        }

    def storage_metadata(self) -> dict[str, Any]:
        return {
            "eTag": self.etag,
            "size": self.size,
            "mimetype": self.content_type,
            "cacheControl": f"max-age={self.cache_control}",
            "lastModified": self.updated_at,
            "contentLength": self.size,
            "httpStatusCode": 200,
        }


@dataclass
class TusUpload:
    id: str
    bucket: str
    name: str
    length: int
    content_type: str
    cache_control: str
    upsert: bool
    temp: Path
    offset: int = 0
    busy: bool = False
    finished: bool = False
    md5: Any = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    sha256: Any = field(default_factory=hashlib.sha256)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str  # decoded, as received (with /storage/v1/)
    status: int | None  # None when the server dropped the connection
    headers: dict[str, str]  # lower-case names

    @property
    def upload_offset(self) -> int | None:
        value = self.headers.get("upload-offset")
        return int(value) if value is not None else None


class _Dropped(ConnectionResetError):
    """Raised after the server closed a connection on purpose; aiohttp ignores it quietly."""


class _BodyError(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


# --- faults -------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # fail | hang | drop | land_then_fail
    remaining: int
    skip: int = 0
    method: str | None = None
    path: str | None = None  # substring of the request path
    status: int = 500
    body: dict[str, Any] | str | None = None
    seconds: float = 0.0
    after_bytes: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )

    def response(self) -> web.Response:
        body = self.body if self.body is not None else _default_fault_body(self.status)
        if isinstance(body, dict):
            return web.json_response(body, status=self.status)
        kind = "text/html" if body.lstrip().startswith("<") else "text/plain"
        return web.Response(status=self.status, text=body, content_type=kind)


def _default_fault_body(status: int) -> dict[str, Any] | str:
    if status in {502, 503, 504}:  # a gateway's HTML page: storage3 cannot parse it
        return f"<html><body><h1>{status}</h1>upstream unavailable</body></html>"
    known = {500: INTERNAL, 544: DATABASE_TIMEOUT, 429: TOO_MANY}
    return known.get(status) or storage_error(str(status), "Error", f"injected {status}", "Error")


class Faults:
    """Thread-safe fault injection. Each fault hits the next `n` matching requests, after
    letting `skip` matching requests through; `method`/`path` narrow what matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._slow = 0.0

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        body: dict[str, Any] | str | None = None,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
    ) -> None:
        """Answer `status` without doing anything (body: the spec's shape for that status)."""
        self._add(Fault("fail", n, skip, method, path, status=status, body=body))

    def hang_next(
        self,
        n: int = 1,
        seconds: float = 30.0,
        *,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
    ) -> None:
        """Say nothing for `seconds` (or until the server stops), then handle the request."""
        self._add(Fault("hang", n, skip, method, path, seconds=seconds))

    def drop_next(
        self,
        n: int = 1,
        *,
        after_bytes: int = 0,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
    ) -> None:
        """Read `after_bytes` of the body, then close the connection without answering."""
        self._add(Fault("drop", n, skip, method, path, after_bytes=after_bytes))

    def land_then_fail(
        self,
        n: int = 1,
        status: int = 500,
        *,
        body: dict[str, Any] | str | None = None,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
    ) -> None:
        """Do the work (store the object), then answer `status` as if it had failed."""
        self._add(Fault("land_then_fail", n, skip, method, path, status=status, body=body))

    def slow(self, seconds_per_chunk: float) -> None:
        """Pause this long after every 64 KiB read or written (0 turns it off)."""
        with self._lock:
            self._slow = seconds_per_chunk

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._slow = 0.0

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(fault.remaining for fault in self._queue)

    @property
    def seconds_per_chunk(self) -> float:
        with self._lock:
            return self._slow

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if not fault.matches(method, path):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._queue.remove(fault)
                return fault
        return None

    def _add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault must hit at least one request")
        with self._lock:
            self._queue.append(fault)


# --- the server -------------------------------------------------------------------------


class StorageServer:
    def __init__(
        self,
        root: Path,
        *,
        key: str | None = None,
        jwt_secret: str = TEST_JWT_SECRET,
        file_size_limit: int = DEFAULT_FILE_SIZE_LIMIT,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.root = root
        self.jwt_secret = jwt_secret
        self.key = key or make_jwt("service_role", secret=jwt_secret)
        self.anon_key = make_jwt("anon", secret=jwt_secret)
        self.file_size_limit = file_size_limit
        self.bucket: str | None = None  # the default bucket for objects()/upload_count()
        self.faults = Faults()
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}
        self._objects: dict[tuple[str, str], StoredObject] = {}
        self._uploads: dict[str, TusUpload] = {}
        self._upload_counts: Counter[tuple[str, str]] = Counter()
        self._seen: list[SeenRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # --- lifecycle ---

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def storage_url(self) -> str:
        return f"{self.url}{PREFIX}"

    def start(self) -> StorageServer:
        for sub in ("objects", "uploads", "incoming"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="storage-server", daemon=True
        )
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise RuntimeError("storage server failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(self._begin_stop)
        thread.join(15)
        self._loop = self._thread = None

    def __enter__(self) -> StorageServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application(client_max_size=1024**2)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
            self._stopping = asyncio.Event()
        except BaseException as exc:  # reported to start() in the caller's thread
            self._startup_error = exc
            sock.close()
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _begin_stop(self) -> None:
        assert self._stopping is not None
        assert self._loop is not None
        self._stopping.set()
        self._loop.stop()

    # --- set-up and inspection (any thread) ---

    def create_bucket(
        self,
        name: str,
        *,
        public: bool = True,
        file_size_limit: int | None = None,
        allowed_mime_types: list[str] | None = None,
    ) -> None:
        with self._lock:
            self._buckets[name] = Bucket(name, public, file_size_limit, allowed_mime_types)
        if self.bucket is None:
            self.bucket = name

    def buckets(self) -> dict[str, Bucket]:
        with self._lock:
            return {name: replace(bucket) for name, bucket in self._buckets.items()}

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._seen)

    def objects(self, bucket: str | None = None) -> dict[str, tuple[int, str]]:
        """key -> (size, sha256 hex) of the objects in `bucket` (default: the first bucket)."""
        wanted = bucket or self.bucket
        with self._lock:
            return {
                name: (obj.size, obj.sha256)
                for (in_bucket, name), obj in sorted(self._objects.items())
                if in_bucket == wanted
            }

    def object(self, key: str, bucket: str | None = None) -> StoredObject | None:
        with self._lock:
            found = self._objects.get((bucket or self.bucket or "", key))
            return replace(found) if found else None

    def upload_count(self, key: str, bucket: str | None = None) -> int:
        """How many uploads of `key` were stored (standard, upsert, update or TUS)."""
        with self._lock:
            return self._upload_counts[(bucket or self.bucket or "", key)]

    def tus_uploads(self) -> list[TusUpload]:
        with self._lock:
            return [replace(upload) for upload in self._uploads.values()]

    def unfinished_tus_uploads(self) -> list[TusUpload]:
        """Resumable uploads the server still holds bytes for, waiting for the rest."""
        return [upload for upload in self.tus_uploads() if not upload.finished]

    # --- request plumbing ---

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        path = unquote(raw_path)
        fault = self.faults.take(request.method, path)
        try:
            response = await self._answer(request, path, fault)
        except ConnectionError:  # dropped on purpose, or the client went away
            self._record(request, path, None)
            if request.transport is not None:
                request.transport.abort()
            # aiohttp quietly gives up writing this to the closed connection; raising instead
            # would log a traceback for a fault the test asked for.
            return web.Response(status=204)
        self._record(request, path, response.status)
        return response

    async def _answer(
        self, request: web.Request, path: str, fault: Fault | None
    ) -> web.StreamResponse:
        if fault is not None:
            early = await self._apply_fault(request, fault)
            if early is not None:
                return early
        if not path.startswith(PREFIX):
            return web.json_response(_route_missing(request, path), status=404)
        response = await self._route(request, path.removeprefix(PREFIX))
        if fault is not None and fault.kind == "land_then_fail" and response.status < 300:
            return fault.response()
        return response

    async def _apply_fault(self, request: web.Request, fault: Fault) -> web.Response | None:
        """Act out a fault that comes before the work; a response ends the request there."""
        if fault.kind == "hang":
            await self._hang(request, fault.seconds)
        elif fault.kind == "drop":
            await self._drop(request, fault.after_bytes)
        elif fault.kind == "fail":
            await self._drain(request)
            return fault.response()
        return None

    def _record(self, request: web.Request, path: str, status: int | None) -> None:
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            self._seen.append(SeenRequest(request.method, path, status, headers))

    async def _hang(self, request: web.Request, seconds: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            await self._drop(request, 0)

    async def _drop(self, request: web.Request, after_bytes: int) -> None:
        with contextlib.suppress(ConnectionError):
            read = 0
            while read < after_bytes:
                piece = await request.content.read(min(PIECE, after_bytes - read))
                if not piece:
                    break
                read += len(piece)
        if request.transport is not None:
            request.transport.abort()
        raise _Dropped("dropped on purpose")

    async def _drain(self, request: web.Request) -> None:
        with contextlib.suppress(ConnectionError):
            while await request.content.read(PIECE):
                await self._pause()

    async def _pause(self) -> None:
        seconds = self.faults.seconds_per_chunk
        if seconds:
            await asyncio.sleep(seconds)

    # --- routing ---

    async def _route(self, request: web.Request, path: str) -> web.StreamResponse:
        method, parts = request.method, path.split("/")
        if parts[0] == "object" and len(parts) >= 4 and parts[1] == "public":
            if method in {"GET", "HEAD"}:
                return await self._public_get(request, parts[2], "/".join(parts[3:]))
        denied = self._auth_failure(request)
        if denied is not None:
            await self._drain(request)
            return denied
        if path.startswith("upload/resumable"):
            return await self._tus(request, path.removeprefix("upload/resumable").strip("/"))
        if parts[0] == "bucket":
            return await self._bucket_route(request, parts[1:])
        if parts[0] == "object" and len(parts) >= 2:
            return await self._object_route(request, parts[1:])
        return web.json_response(_route_missing(request, path), status=404)

    async def _bucket_route(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        method = request.method
        if method == "GET" and parts in ([], [""]):
            return web.json_response([bucket.as_json() for bucket in self.buckets().values()])
        if method == "GET" and len(parts) == 1:
            bucket = self.buckets().get(parts[0])
            return (
                web.json_response(bucket.as_json()) if bucket else _error_response(NO_SUCH_BUCKET)
            )
        if method == "POST" and parts in ([], [""]):
            return await self._create_bucket(request)
        return web.json_response(_route_missing(request, "bucket/" + "/".join(parts)), status=404)

    async def _object_route(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        method, head = request.method, parts[0]
        if head == "info" and method == "GET" and len(parts) >= 3:
            return self._info(parts[1], "/".join(parts[2:]))
        if head == "list" and method == "POST" and len(parts) == 2:
            return await self._list(request, parts[1])
        if method == "DELETE" and len(parts) == 1:
            return await self._remove_many(request, head)
        if head == "authenticated" and len(parts) >= 3:
            parts = parts[1:]
        bucket, key = parts[0], "/".join(parts[1:])
        if not key:
            return web.json_response(_route_missing(request, "object/" + bucket), status=404)
        if method == "POST":
            return await self._upload(request, bucket, key, update=False)
        if method == "PUT":
            return await self._upload(request, bucket, key, update=True)
        if method in {"GET", "HEAD"}:
            return await self._send_object(request, bucket, key)
        if method == "DELETE":
            return self._remove_one(bucket, key)
        return web.json_response(_route_missing(request, "object/" + bucket), status=404)

    # --- auth ---

    def _role(self, token: str | None) -> str | None:
        if not token:
            return None
        claims = verify_jwt(token, self.jwt_secret)
        if claims is not None:
            return str(claims.get("role", "anon"))
        return "service_role" if token == self.key else None  # a configured non-JWT key

    def _request_role(self, request: web.Request) -> str | None:
        authorization = request.headers.get("Authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        role = self._role(bearer)
        if role is None or self._role(request.headers.get("apikey")) is None:
            return None
        return role

    def _auth_failure(self, request: web.Request) -> web.Response | None:
        return _error_response(ACCESS_DENIED) if self._request_role(request) is None else None

    # --- buckets ---

    async def _create_bucket(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        name = str(body.get("id") or body.get("name") or "")
        if self._request_role(request) != "service_role":
            return _error_response(RLS_DENIED)
        if not name:
            return _error_response(
                storage_error("400", "Invalid", "bucket name missing", "Invalid")
            )
        with self._lock:
            if name in self._buckets:
                return _error_response(DUPLICATE)
            self._buckets[name] = Bucket(
                name,
                bool(body.get("public", False)),
                _int_or_none(body.get("file_size_limit")),
                body.get("allowed_mime_types"),
            )
        if self.bucket is None:
            self.bucket = name
        return web.json_response({"name": name})

    def _bucket(self, name: str) -> Bucket | None:
        with self._lock:
            return self._buckets.get(name)

    def _limit(self, bucket: Bucket) -> int:
        return min(self.file_size_limit, bucket.file_size_limit or self.file_size_limit)

    # --- objects ---

    def _info(self, bucket: str, key: str) -> web.Response:
        if self._bucket(bucket) is None:
            return _error_response(NO_SUCH_BUCKET)
        found = self.object(key, bucket)
        if found is None:
            return _error_response(NO_SUCH_KEY)
        return web.json_response(found.info_json(), headers={"ETag": found.etag})

    async def _upload(
        self, request: web.Request, bucket_name: str, key: str, *, update: bool
    ) -> web.Response:
        bucket = self._bucket(bucket_name)
        upsert = update or request.headers.get("x-upsert", "false").lower() == "true"
        refusal = self._upload_refusal(bucket, key, upsert=upsert, update=update)
        if refusal is not None:
            await self._drain(request)
            return _error_response(refusal)
        assert bucket is not None
        try:
            received = await self._receive_upload(request, bucket)
        except _BodyError as exc:
            await self._drain(request)
            return exc.response
        stored = self._commit(bucket.id, key, received, upsert=upsert)
        if stored is None:
            return _error_response(DUPLICATE)
        return web.json_response({"Key": f"{bucket.id}/{key}", "Id": stored.id})

    def _upload_refusal(
        self, bucket: Bucket | None, key: str, *, upsert: bool, update: bool
    ) -> dict[str, str] | None:
        if bucket is None:
            return NO_SUCH_BUCKET
        if not _valid_key(key):
            return invalid_key(key)
        exists = self.object(key, bucket.id) is not None
        if update and not exists:
            return NO_SUCH_KEY
        if exists and not upsert:
            return DUPLICATE
        return None

    async def _receive_upload(self, request: web.Request, bucket: Bucket) -> _Received:
        if request.content_type.startswith("multipart/"):
            return await self._receive_multipart(request, bucket)
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        cache_control = request.headers.get("Cache-Control", "3600").removeprefix("max-age=")
        return await self._receive_stream(request.content, bucket, content_type, cache_control)

    async def _receive_multipart(self, request: web.Request, bucket: Bucket) -> _Received:
        reader = await request.multipart()
        fields: dict[str, str] = {}
        received: _Received | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file" and received is None:
                content_type = part.headers.get("Content-Type", "text/plain;charset=UTF-8")
                cache_control = fields.get("cacheControl", "3600")
                received = await self._receive_stream(part, bucket, content_type, cache_control)
            else:
                fields[part.name or ""] = await part.text()
        if received is None:
            raise _BodyError(
                _error_response(storage_error("400", "Invalid", "file part missing", "Invalid"))
            )
        if "metadata" in fields:
            received.metadata = json.loads(fields["metadata"])
        return received

    async def _receive_stream(
        self, source: Any, bucket: Bucket, content_type: str, cache_control: str
    ) -> _Received:
        if not bucket.allows(content_type):
            raise _BodyError(_error_response(invalid_mime(content_type)))
        limit = self._limit(bucket)
        received = _Received.create(self.root / "incoming", content_type, cache_control)
        try:
            with received.temp.open("wb") as out:
                while piece := await _read_piece(source):
                    received.add(piece)
                    if received.size > limit:
                        raise _BodyError(_error_response(TOO_LARGE))
                    out.write(piece)
                    await self._pause()
        except BaseException:
            received.temp.unlink(missing_ok=True)
            raise
        return received

    def _commit(
        self, bucket: str, key: str, received: _Received, *, upsert: bool
    ) -> StoredObject | None:
        with self._lock:
            existing = self._objects.get((bucket, key))
            if existing is not None and not upsert:
                received.temp.unlink(missing_ok=True)
                return None
            object_id = existing.id if existing else str(uuid.uuid4())
            data = self.root / "objects" / object_id
            os.replace(received.temp, data)
            now = _now()
            stored = StoredObject(
                id=object_id,
                bucket=bucket,
                name=key,
                size=received.size,
                content_type=received.content_type,
                cache_control=received.cache_control,
                md5=received.md5.hexdigest(),
                sha256=received.sha256.hexdigest(),
                data=data,
                metadata=received.metadata,
                created_at=existing.created_at if existing else now,
                updated_at=now,
                version=str(uuid.uuid4()),
            )
            self._objects[(bucket, key)] = stored
            self._upload_counts[(bucket, key)] += 1
            return stored

    async def _send_object(self, request: web.Request, bucket: str, key: str) -> web.StreamResponse:
        if self._bucket(bucket) is None:
            return _error_response(NO_SUCH_BUCKET)
        found = self.object(key, bucket)
        if found is None:
            return _error_response(NO_SUCH_KEY)
        return await self._stream_out(request, found)

    async def _public_get(self, request: web.Request, bucket: str, key: str) -> web.StreamResponse:
        known = self._bucket(bucket)
        found = self.object(key, bucket) if known and known.public else None
        if found is None:  # a missing public object is HTTP 400 with statusCode "404"
            return _error_response(NO_SUCH_BUCKET if known is None else NO_SUCH_KEY)
        return await self._stream_out(request, found)

    async def _stream_out(self, request: web.Request, found: StoredObject) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": found.content_type,
                "ETag": found.etag,
                "Cache-Control": f"max-age={found.cache_control}",
            }
        )
        response.content_length = found.size
        await response.prepare(request)
        if request.method != "HEAD":
            with found.data.open("rb") as source:
                while piece := source.read(PIECE):
                    await response.write(piece)
                    await self._pause()
        await response.write_eof()
        return response

    async def _remove_many(self, request: web.Request, bucket: str) -> web.Response:
        body = await _json_body(request)
        if self._bucket(bucket) is None:
            return _error_response(NO_SUCH_BUCKET)
        removed = [row for name in body.get("prefixes") or [] if (row := self._pop(bucket, name))]
        return web.json_response(removed)

    def _remove_one(self, bucket: str, key: str) -> web.Response:
        if self._bucket(bucket) is None:
            return _error_response(NO_SUCH_BUCKET)
        if self._pop(bucket, key) is None:
            return _error_response(NO_SUCH_KEY)
        return web.json_response({"message": "Successfully deleted"})

    def _pop(self, bucket: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._objects.pop((bucket, key), None)
        if found is None:
            return None
        found.data.unlink(missing_ok=True)
        return found.row_json()

    async def _list(self, request: web.Request, bucket: str) -> web.Response:
        body = await _json_body(request)
        if self._bucket(bucket) is None:
            return _error_response(NO_SUCH_BUCKET)
        prefix = str(body.get("prefix") or "").strip("/")
        with self._lock:
            names = {key: obj for (b, key), obj in self._objects.items() if b == bucket}
        entries = _folder_level(names, prefix, str(body.get("search") or ""))
        offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 100)
        return web.json_response(entries[offset : offset + limit])

    # --- TUS ---

    async def _tus(self, request: web.Request, upload_id: str) -> web.StreamResponse:
        method = request.method
        if not upload_id and method == "POST":
            return self._tus_create(request)
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None:
            await self._drain(request)
            return _text(404, "The file for this url was not found")
        if method == "HEAD":
            return _text(
                200,
                "",
                **{
                    "Upload-Offset": str(upload.offset),
                    "Upload-Length": str(upload.length),
                    "Cache-Control": "no-store",
                },
            )
        if method == "PATCH":
            return await self._tus_patch(request, upload)
        if method == "DELETE":
            return self._tus_terminate(upload)
        return _text(405, "Method not allowed")

    def _tus_create(self, request: web.Request) -> web.Response:
        if request.headers.get("Tus-Resumable") != "1.0.0":
            return _text(412, "Unsupported version")
        try:
            length = int(request.headers["Upload-Length"])
            meta = _tus_metadata(request.headers.get("Upload-Metadata", ""))
        except (KeyError, ValueError):
            return _text(400, "Upload-Length or Upload-Metadata missing or invalid")
        upsert = request.headers.get("x-upsert", "false").lower() == "true"
        bucket = self._bucket(meta.get("bucketName", ""))
        refusal = self._tus_refusal(bucket, meta.get("objectName", ""), meta, length, upsert)
        if refusal is not None:
            return refusal
        assert bucket is not None
        upload = TusUpload(
            id=uuid.uuid4().hex,
            bucket=bucket.id,
            name=meta["objectName"],
            length=length,
            content_type=meta.get("contentType") or "application/octet-stream",
            cache_control=meta.get("cacheControl") or "3600",
            upsert=upsert,
            temp=self.root / "uploads" / uuid.uuid4().hex,
        )
        upload.temp.touch()
        with self._lock:
            self._uploads[upload.id] = upload
        if length == 0:
            self._tus_finish(upload)
        location = f"{self.storage_url}upload/resumable/{upload.id}"
        return _text(201, "", Location=location)

    def _tus_refusal(
        self, bucket: Bucket | None, key: str, meta: dict[str, str], length: int, upsert: bool
    ) -> web.Response | None:
        if bucket is None:
            return _text(404, "Bucket not found")
        if not _valid_key(key):
            return _text(400, f"Invalid key: {key}")
        content_type = meta.get("contentType") or "application/octet-stream"
        if not bucket.allows(content_type):
            return _text(415, f"mime type {content_type} is not supported")
        if length > self._limit(bucket):
            return _text(413, "Maximum size exceeded")
        if not upsert and self.object(key, bucket.id) is not None:
            return _text(409, "The resource already exists")
        return None

    async def _tus_patch(self, request: web.Request, upload: TusUpload) -> web.StreamResponse:
        problem = _tus_patch_problem(request, upload)
        if problem is not None:
            await self._drain(request)
            return problem
        if not self._tus_claim(upload):
            await self._drain(request)
            return _text(423, "The upload is locked by another request")
        try:
            await self._tus_receive(request, upload, request.content_length or 0)
            if upload.offset == upload.length and not self._tus_finish(upload):
                return _text(409, "The resource already exists")
        finally:
            upload.busy = False
        return _text(204, "", **{"Upload-Offset": str(upload.offset)})

    def _tus_claim(self, upload: TusUpload) -> bool:
        with self._lock:
            if upload.busy:
                return False
            upload.busy = True
            return True

    async def _tus_receive(self, request: web.Request, upload: TusUpload, length: int) -> None:
        """Append one chunk; an interrupted chunk is thrown away whole."""
        if not length:
            return
        md5, sha256 = upload.md5.copy(), upload.sha256.copy()
        got = 0
        with upload.temp.open("r+b") as out:
            out.seek(upload.offset)
            try:
                while got < length and (piece := await request.content.read(PIECE)):
                    out.write(piece)
                    md5.update(piece)
                    sha256.update(piece)
                    got += len(piece)
                    await self._pause()
            except ConnectionError:
                pass
            if got != length:
                out.truncate(upload.offset)
                raise _Dropped("client went away mid-chunk")
        with self._lock:
            upload.offset += got
            upload.md5, upload.sha256 = md5, sha256

    def _tus_finish(self, upload: TusUpload) -> bool:
        if upload.finished:
            return True
        upload.finished = True
        received = _Received(
            temp=upload.temp,
            content_type=upload.content_type,
            cache_control=upload.cache_control,
            size=upload.length,
            md5=upload.md5,
            sha256=upload.sha256,
        )
        return self._commit(upload.bucket, upload.name, received, upsert=upload.upsert) is not None

    def _tus_terminate(self, upload: TusUpload) -> web.Response:
        """TUS termination, as Supabase configures it (disableTerminationForFinishedUploads):
        an unfinished upload is dropped, a finished one is refused (its object stays)."""
        if upload.finished:
            return _text(400, "Cannot terminate an already completed upload")
        self._tus_forget(upload)
        return _text(204, "")

    def _tus_forget(self, upload: TusUpload) -> None:
        with self._lock:
            self._uploads.pop(upload.id, None)
        upload.temp.unlink(missing_ok=True)


@dataclass
class _Received:
    temp: Path
    content_type: str
    cache_control: str
    size: int = 0
    md5: Any = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    sha256: Any = field(default_factory=hashlib.sha256)
    metadata: dict[str, Any] | None = None

    @classmethod
    def create(cls, folder: Path, content_type: str, cache_control: str) -> _Received:
        return cls(folder / uuid.uuid4().hex, content_type, cache_control)

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        self.md5.update(piece)
        self.sha256.update(piece)


def _tus_patch_problem(request: web.Request, upload: TusUpload) -> web.Response | None:
    if request.headers.get("Content-Type") != "application/offset+octet-stream":
        return _text(415, "Content-Type must be application/offset+octet-stream")
    try:
        offset = int(request.headers["Upload-Offset"])
    except (KeyError, ValueError):
        return _text(400, "Upload-Offset missing or invalid")
    if offset != upload.offset:
        return _text(409, "Upload-Offset conflict", **{"Upload-Offset": str(upload.offset)})
    length = request.content_length
    if length is None:
        return _text(400, "Content-Length required")
    if offset + length > upload.length:
        return _text(413, "Upload-Length exceeded")
    if length != TUS_CHUNK and offset + length != upload.length:
        return _text(400, f"chunks must be exactly {TUS_CHUNK} bytes, except the last one")
    return None


async def _read_piece(source: Any) -> bytes:
    if isinstance(source, BodyPartReader):
        return bytes(await source.read_chunk(PIECE))
    return bytes(await source.read(PIECE))


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tus_metadata(header: str) -> dict[str, str]:
    meta = {}
    for item in filter(None, (part.strip() for part in header.split(","))):
        name, _, value = item.partition(" ")
        meta[name] = base64.b64decode(value, validate=True).decode()
    return meta


def _valid_key(key: str) -> bool:
    return bool(_VALID_KEY.fullmatch(key))


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _route_missing(request: web.Request, path: str) -> dict[str, Any]:
    # Fastify's own 404: a real HTTP 404 with an int statusCode.
    return {
        "message": f"Route {request.method}:{path} not found",
        "error": "Not Found",
        "statusCode": 404,
    }


def _folder_level(
    objects: dict[str, StoredObject], prefix: str, search: str
) -> list[dict[str, Any]]:
    """One level below `prefix`: objects, and folders (id null) for deeper keys."""
    start = f"{prefix}/" if prefix else ""
    entries: dict[str, dict[str, Any]] = {}
    for key, obj in objects.items():
        if not key.startswith(start):
            continue
        name, _, deeper = key[len(start) :].partition("/")
        if search and search not in name:
            continue
        if deeper:
            entries.setdefault(name, _folder_entry(name))
        else:
            row = obj.row_json()
            entries[name] = {**row, "name": name}
    return [entries[name] for name in sorted(entries)]


def _folder_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "id": None,
        "updated_at": None,
        "created_at": None,
        "last_accessed_at": None,
        "metadata": None,
    }


# --- entry points -------------------------------------------------------------------------


@contextlib.contextmanager
def run_storage_server(
    root: Path,
    *,
    key: str | None = None,
    bucket: str | None = None,
    public: bool = True,
    file_size_limit: int = DEFAULT_FILE_SIZE_LIMIT,
    bucket_size_limit: int | None = None,
    allowed_mime_types: list[str] | None = None,
    port: int = 0,
) -> Iterator[StorageServer]:
    """Run a server for the length of a `with` block; `bucket` is created up front if given."""
    server = StorageServer(root, key=key, file_size_limit=file_size_limit, port=port)
    if bucket is not None:
        server.create_bucket(
            bucket,
            public=public,
            file_size_limit=bucket_size_limit,
            allowed_mime_types=allowed_mime_types,
        )
    with server:
        yield server


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Supabase-Storage-protocol server for tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--root", type=Path, help="where objects go (default: a temp folder)")
    parser.add_argument("--bucket", default="vwaza-uploads")
    parser.add_argument("--key", help="an extra accepted API key (default: a signed test JWT)")
    parser.add_argument("--file-size-limit", type=int, default=5 * 1024**3, help="bytes")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with tempfile.TemporaryDirectory(prefix="storage-server-") as scratch:
        server = StorageServer(
            args.root or Path(scratch),
            key=args.key,
            file_size_limit=args.file_size_limit,
            host=args.host,
            port=args.port,
        )
        server.create_bucket(args.bucket)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        with server:
            print(json.dumps({"url": server.url, "key": server.key, "bucket": args.bucket}))
            print("serving; Ctrl-C to stop", flush=True)
            stop.wait()


if __name__ == "__main__":
    main()
