"""Supabase Storage through storage3, plus TUS resumable uploads for large files.

The only module that imports storage3 and httpx. Every failure leaves it as a
TransientStorageError (worth retrying) or a PermanentStorageError (needs a human).

storage3's sync client is used directly rather than `supabase.create_client(...).storage`:
importing storage3 costs about 0.18 s, supabase about 0.28 s (it also loads auth, postgrest,
realtime and functions clients), and only storage is needed here.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx
from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from vwaza_cli.errors import PermanentStorageError, StorageError, TransientStorageError
from vwaza_cli.storage.base import (
    ObjectInfo,
    ProbeFile,
    ProgressCallback,
    SentDigest,
    Timeouts,
    check_key,
    check_source,
    probe_file,
    probe_key,
    read_checked,
    reworded,
)

if TYPE_CHECKING:
    from storage3.types import FileOptions

    from vwaza_cli.settings import Settings

TUS_CHUNK = 6 * 1024 * 1024  # Supabase takes TUS chunks of exactly 6 MiB (the last may be less)
TUS_THRESHOLD = TUS_CHUNK  # above this, standard uploads are discouraged: go resumable
TUS_ATTEMPTS = 3  # consecutive failed PATCHes (each followed by a HEAD) before giving up
_PIECE = 256 * 1024  # how much of a chunk is read from disk at a time
_ABANDON_TIMEOUT = httpx.Timeout(5.0)  # dropping a resumable upload must not hold up a shutdown
_TRANSIENT = {"429", "500", "502", "503", "504", "544"}
_MISSING_OBJECT = {"not_found", "NoSuchKey"}
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class _Failure:
    """A refusal from the server, whatever shape it came in."""

    status: str  # the body's statusCode when there is one, else the HTTP status
    code: str
    message: str
    http_status: int | None = None

    @property
    def transient(self) -> bool:
        return self.status in _TRANSIENT or str(self.http_status) in _TRANSIENT

    @property
    def about_bucket(self) -> bool:
        return self.code in {"Bucket not found", "NoSuchBucket"} or "bucket" in self.message.lower()


class _UploadGone(Exception):
    """The server no longer knows a resumable upload (expired or finished elsewhere)."""


@dataclass
class _Resumable:
    """A TUS upload this process started and may resume: its address, the digest of what
    it sent, the server's offset, and when an attempt last worked on it."""

    location: str
    digest: SentDigest
    offset: int = 0
    used: float = field(default_factory=time.monotonic)


class SupabaseStore:
    name = "supabase"

    def __init__(self, url: str, key: str, bucket: str, *, timeouts: Timeouts) -> None:
        self.url = url.rstrip("/")
        self.bucket = bucket
        self._base = f"{self.url}/storage/v1/"
        auth = {"apikey": key, "Authorization": f"Bearer {key}"}
        self._http = httpx.Client(headers=auth, timeout=_timeout(timeouts), follow_redirects=True)
        self._client = SyncStorageClient(self._base, auth, http_client=self._http)
        self._files = self._client.from_(bucket)
        # TUS uploads between attempts, by (key, size, mtime): a retry in this process
        # resumes. An attempt takes its upload out while it works on it.
        self._resumable: dict[tuple[str, int, int], _Resumable] = {}
        self._resumable_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, timeouts: Timeouts) -> SupabaseStore:
        url, key = settings.supabase_url, settings.supabase_key
        if not url or not key:
            raise PermanentStorageError(
                "storage is `supabase` but SUPABASE_URL or SUPABASE_KEY is not set:"
                " set both (environment or config.toml), or set VWAZA_STORAGE=local"
            )
        if not url.startswith(("http://", "https://")):
            raise PermanentStorageError(
                f"SUPABASE_URL {url!r} is not an http(s) address: use the project URL,"
                " e.g. https://PROJECT.supabase.co"
            )
        return cls(url, key, settings.bucket, timeouts=timeouts)

    # --- the ObjectStore protocol ------------------------------------------------

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str,
        size: int,
        sha256: str,
        on_progress: ProgressCallback | None = None,
    ) -> str | None:
        check_key(key)
        check_source(path, size)
        digest = SentDigest(path, size, sha256)
        if size > TUS_THRESHOLD:
            return self._put_resumable(key, content_type, on_progress, digest)
        return self._put_standard(key, content_type, on_progress, digest)

    def info(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with self._guard(f"read the info of {key!r}", key):
            try:
                data = self._files.info(key)
            except StorageApiError as exc:
                failure = _failure_of(exc)
                if failure.status == "404" and failure.code in _MISSING_OBJECT:
                    return None
                raise
        return ObjectInfo(key=key, size=int(data.get("size") or 0), md5=_md5_of(data))

    def fetch(self, key: str, target: Path) -> None:
        check_key(key)
        url = f"{self._base}object/authenticated/{self.bucket}/{quote(key)}"
        action = f"download {key!r}"
        with self._guard(action, key), self._http.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                failure = _failure_from_response(response)
                if failure.status == "404" or response.status_code == 404:
                    raise PermanentStorageError(f"{action}: no such object")
                raise self._refusal(action, failure)
            with target.open("wb") as out:
                for block in response.iter_bytes(1024 * 1024):
                    out.write(block)

    def remove(self, key: str) -> None:
        check_key(key)
        with self._guard(f"remove {key!r}", key):
            self._files.remove([key])  # missing keys are skipped by the server

    def url_for(self, key: str) -> str:
        check_key(key)
        with self._guard(f"build the URL of {key!r}", key):
            return self._files.get_public_url(key)

    def ensure_bucket(self) -> None:
        with self._guard(f"look up bucket '{self.bucket}'"):
            try:
                self._client.get_bucket(self.bucket)
                return
            except StorageApiError as exc:
                if _failure_of(exc).status != "404":
                    raise
        self._create_bucket()

    def probe(self) -> None:
        key = probe_key()
        try:
            self._probe_round_trip(key)
        except StorageError as exc:
            raise reworded(exc, f"storage probe failed ({self.url}): {exc.message}") from exc

    def sweep_temp(self, older_than: timedelta) -> int:
        """Drop the resumable uploads no attempt of this process came back to for
        ``older_than`` (their job was given up, or another daemon took it)."""
        idle = self._take_resumables(time.monotonic() - older_than.total_seconds())
        for upload in idle:
            self._abandon(upload)
        return len(idle)

    def close(self) -> None:
        """Drop the resumable uploads left (no later process can resume them), then close."""
        for upload in self._take_resumables(float("inf")):
            self._abandon(upload)
        self._http.close()

    def __enter__(self) -> SupabaseStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- standard uploads --------------------------------------------------------

    def _put_standard(
        self,
        key: str,
        content_type: str,
        on_progress: ProgressCallback | None,
        digest: SentDigest,
    ) -> str | None:
        """One POST; the object appears only once its last byte is in, and the digest
        withholds that byte from a changed copy."""
        if not self._upload(key, content_type, on_progress, digest, upsert=False):
            # 409 Duplicate: most often our own earlier attempt that landed before a fault.
            landed = self._stored_copy_md5(key, digest)
            if landed is not None:
                return landed
            digest = digest.again()
            self._upload(key, content_type, on_progress, digest, upsert=True)
        digest.check_complete()
        return digest.md5()

    def _upload(
        self,
        key: str,
        content_type: str,
        on_progress: ProgressCallback | None,
        digest: SentDigest,
        *,
        upsert: bool,
    ) -> bool:
        """Upload through storage3; False when the object exists and `upsert` is off."""
        options: FileOptions = {"content-type": content_type}
        if upsert:
            options["upsert"] = "true"  # storage3 wants the string, not a bool
        with self._guard(f"upload {key!r}", key, content_type):
            try:
                with _ProgressReader.open(digest.path, on_progress, digest) as stream:
                    self._files.upload(key, stream, options)
            except StorageApiError as exc:
                if _failure_of(exc).status == "409":
                    return False
                raise
        return True

    def _stored_copy_md5(self, key: str, digest: SentDigest) -> str | None:
        """The file's MD5 when ``key`` already holds it (same size and MD5 etag), else None.
        The file is read here, and checked against its recorded SHA-256 on the way."""
        found = self.info(key)
        if found is None or found.size != digest.size:
            return None
        md5 = read_checked(digest.path, digest.size, digest.expected)
        return md5 if found.md5 in {None, md5} else None

    # --- TUS resumable uploads ---------------------------------------------------

    def _put_resumable(
        self,
        key: str,
        content_type: str,
        on_progress: ProgressCallback | None,
        digest: SentDigest,
    ) -> str | None:
        token = (key, digest.size, digest.path.stat().st_mtime_ns)
        upload = self._resumed(token)
        if upload is None:
            location = self._tus_create(key, content_type, digest.size, upsert=False)
            if location is None:  # 409: most often our own earlier, landed attempt
                landed = self._stored_copy_md5(key, digest)
                if landed is not None:
                    return landed
                location = self._tus_overwrite(key, content_type, digest.size)
            upload = _Resumable(location, digest)
        self._send_resumable(token, upload, on_progress)
        return upload.digest.md5()

    def _send_resumable(
        self,
        token: tuple[str, int, int],
        upload: _Resumable,
        on_progress: ProgressCallback | None,
    ) -> None:
        """Send the rest; only a transient failure keeps the upload for the next attempt."""
        try:
            self._tus_send(upload, on_progress)
        except _UploadGone:
            raise TransientStorageError(
                f"upload {token[0]!r}: the server dropped the resumable upload; it will start over"
            ) from None
        except TransientStorageError:
            self._keep_resumable(token, upload)
            raise
        except BaseException:  # refused, a changed copy, the lease lost, shutting down
            self._abandon(upload)
            raise

    def _tus_overwrite(self, key: str, content_type: str, size: int) -> str:
        location = self._tus_create(key, content_type, size, upsert=True)
        if location is None:
            raise PermanentStorageError(f"upload {key!r}: the server refused to overwrite it")
        return location

    def _resumed(self, token: tuple[str, int, int]) -> _Resumable | None:
        """The upload an earlier attempt of this process left, at the server's offset; None
        when there is none, or the server no longer has it."""
        with self._resumable_lock:
            upload = self._resumable.pop(token, None)
        if upload is None:
            return None
        try:
            upload.offset = self._tus_head(upload.location)
        except _UploadGone:
            return None
        except TransientStorageError:
            self._keep_resumable(token, upload)
            raise
        if upload.offset > upload.digest.upto:  # bytes never hashed: start over instead
            self._abandon(upload)
            return None
        return upload

    def _keep_resumable(self, token: tuple[str, int, int], upload: _Resumable) -> None:
        upload.used = time.monotonic()
        with self._resumable_lock:
            self._resumable[token] = upload

    def _take_resumables(self, idle_since: float) -> list[_Resumable]:
        with self._resumable_lock:
            idle = [token for token, up in self._resumable.items() if up.used < idle_since]
            return [self._resumable.pop(token) for token in idle]

    def _abandon(self, upload: _Resumable) -> None:
        """Ask the server to drop an unfinished upload nobody will resume (TUS termination);
        should even that fail, the server expires it by itself."""
        headers = {"Tus-Resumable": "1.0.0"}
        with contextlib.suppress(StorageError), self._guard("drop an abandoned upload"):
            self._http.request("DELETE", upload.location, headers=headers, timeout=_ABANDON_TIMEOUT)

    def _tus_create(self, key: str, content_type: str, size: int, *, upsert: bool) -> str | None:
        headers = {
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": _tus_metadata(self.bucket, key, content_type),
            "x-upsert": "true" if upsert else "false",
        }
        action = f"start the resumable upload of {key!r}"
        response = self._tus_request("POST", f"{self._base}upload/resumable", headers, action)
        if response.status_code == 201 and response.headers.get("Location"):
            # The Location is absolute; join() keeps it so and copes with a relative one.
            return str(response.url.join(response.headers["Location"]))
        failure = _failure_from_response(response)
        if failure.status == "409":
            return None
        raise self._refusal(action, failure, key, content_type)

    def _tus_send(self, upload: _Resumable, on_progress: ProgressCallback | None) -> None:
        failures = 0
        with upload.digest.path.open("rb") as source:
            while upload.offset < upload.digest.size:
                try:
                    upload.offset = self._tus_patch(upload, source, on_progress)
                    failures = 0
                except TransientStorageError:
                    failures += 1
                    if failures >= TUS_ATTEMPTS:
                        raise
                    upload.offset = self._tus_head(upload.location)

    def _tus_patch(
        self, upload: _Resumable, source: BinaryIO, on_progress: ProgressCallback | None
    ) -> int:
        offset, size = upload.offset, upload.digest.size
        length = min(TUS_CHUNK, size - offset)
        headers = {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),
        }
        body = _read_span(source, offset, length, on_progress, upload.digest)
        action = f"send bytes {offset}-{offset + length} of {size}"
        response = self._tus_request("PATCH", upload.location, headers, action, content=body)
        if response.status_code == 204:
            return _upload_offset(response, action)
        failure = _failure_from_response(response)
        if response.status_code in {404, 410}:
            raise _UploadGone
        if failure.status in {"409", "423"}:  # offset conflict or lock: ask where it stands
            raise TransientStorageError(f"{action}: offset conflict ({failure.message})")
        raise self._refusal(action, failure)

    def _tus_head(self, location: str) -> int:
        action = "ask the server how much of the upload it holds"
        response = self._tus_request("HEAD", location, {"Tus-Resumable": "1.0.0"}, action)
        if response.status_code in {404, 410}:
            raise _UploadGone
        if response.is_success:
            return _upload_offset(response, action)
        raise self._refusal(action, _failure_from_response(response))

    def _tus_request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        action: str,
        content: Iterator[bytes] | None = None,
    ) -> httpx.Response:
        with self._guard(action):
            response = self._http.request(method, url, headers=headers, content=content)
        return response

    # --- buckets and probes ------------------------------------------------------

    def _create_bucket(self) -> None:
        with self._guard(f"create bucket '{self.bucket}'"):
            try:
                self._client.create_bucket(self.bucket, options={"public": True})
            except StorageApiError as exc:
                failure = _failure_of(exc)
                if failure.status == "409":
                    return  # another worker created it meanwhile
                if failure.status in {"401", "403"}:
                    raise PermanentStorageError(
                        f"bucket '{self.bucket}' not found and this key may not create it"
                        f" ({failure.message}): create it (public) in the Supabase dashboard"
                        " or set SUPABASE_KEY to the project's service_role key"
                    ) from exc
                raise

    def _probe_round_trip(self, key: str) -> None:
        """Write the probe object and remove it again; it is removed whatever goes wrong."""
        with tempfile.TemporaryDirectory() as scratch:
            source = probe_file(Path(scratch))
            try:
                self._write_probe(key, source)
            except BaseException:
                with contextlib.suppress(StorageError):
                    self.remove(key)
                raise
        self.remove(key)

    def _write_probe(self, key: str, source: ProbeFile) -> None:
        size = source.size
        self.put_file(key, source.path, content_type="text/plain", size=size, sha256=source.sha256)
        found = self.info(key)
        if found is None or found.size != size:
            raise PermanentStorageError(
                f"the probe object {key!r} was accepted but not found afterwards: check that"
                f" SUPABASE_URL points at the project's API ({self.url})"
            )

    # --- errors ------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(
        self, action: str, key: str | None = None, content_type: str | None = None
    ) -> Iterator[None]:
        """Turn storage3 and httpx failures into our two storage errors."""
        try:
            yield
        except StorageApiError as exc:
            raise self._refusal(action, _failure_of(exc), key, content_type) from exc
        except httpx.TransportError as exc:
            raise TransientStorageError(
                f"{action}: storage at {self.url} did not answer ({_describe(exc)})"
            ) from exc
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            httpx.StreamError,
            StorageException,
            ValueError,
            KeyError,
        ) as exc:
            raise PermanentStorageError(
                f"{action}: unexpected answer from {self.url} ({_describe(exc)}):"
                " check that SUPABASE_URL is the project URL"
            ) from exc

    def _refusal(
        self,
        action: str,
        failure: _Failure,
        key: str | None = None,
        content_type: str | None = None,
    ) -> StorageError:
        if failure.transient:
            return TransientStorageError(
                f"{action}: storage answered {failure.status} {failure.code} ({failure.message})"
            )
        return PermanentStorageError(self._permanent_message(action, failure, key, content_type))

    def _permanent_message(
        self, action: str, failure: _Failure, key: str | None, content_type: str | None
    ) -> str:
        status, detail = failure.status, failure.message
        if status in {"401", "403"}:
            return (
                f"{action}: storage refused the key ({detail}): set SUPABASE_KEY to the"
                " project's service_role key"
            )
        if status == "404":
            return self._not_found_message(action, failure, key)
        if status == "413":
            return (
                f"{action}: the file is larger than bucket '{self.bucket}' accepts ({detail}):"
                " raise the bucket's file size limit in Supabase"
            )
        if status == "415":
            return (
                f"{action}: content type {content_type!r} is not allowed in bucket"
                f" '{self.bucket}' ({detail}): add it to the bucket's allowed MIME types"
            )
        if failure.code == "InvalidKey":
            return f"{action}: invalid object key {key!r} ({detail}): use plain ASCII keys"
        return f"{action}: storage refused ({status} {failure.code}): {detail}"

    def _not_found_message(self, action: str, failure: _Failure, key: str | None) -> str:
        if failure.about_bucket:
            return (
                f"bucket '{self.bucket}' not found: create it or let the daemon create it"
                " with a service key"
            )
        if failure.code in {"InternalError", "Not Found"}:
            # Not a Storage answer: a gateway's page, or a route this server does not have.
            return (
                f"{action}: {self.url} has no such Storage endpoint ({failure.message}):"
                " check that SUPABASE_URL is the project URL"
            )
        return f"{action}: object {key!r} not found in bucket '{self.bucket}'"


class _ProgressReader(io.BufferedReader):
    """A file that reports how far it has been read: httpx streams it in 64 KiB reads.

    It stays a BufferedReader because storage3 streams only BufferedReader/FileIO objects
    (a path it would open itself, without progress).
    """

    def __init__(
        self, raw: io.FileIO, on_progress: ProgressCallback | None, digest: SentDigest
    ) -> None:
        super().__init__(raw)
        self._on_progress = on_progress
        self._digest = digest

    @classmethod
    def open(
        cls, path: Path, on_progress: ProgressCallback | None, digest: SentDigest
    ) -> _ProgressReader:
        return cls(io.FileIO(path, "rb"), on_progress, digest)

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if chunk:
            end = self.tell()
            self._digest.feed(end - len(chunk), chunk)
            if self._on_progress is not None:
                self._on_progress(end)
        return chunk


def _read_span(
    source: BinaryIO,
    offset: int,
    length: int,
    on_progress: ProgressCallback | None,
    digest: SentDigest,
) -> Iterator[bytes]:
    """Stream `length` bytes from `offset`, a piece at a time (memory stays flat)."""
    source.seek(offset)
    sent = 0
    while sent < length:
        piece = source.read(min(_PIECE, length - sent))
        if not piece:
            return
        digest.feed(offset + sent, piece)
        sent += len(piece)
        if on_progress is not None:
            on_progress(offset + sent)
        yield piece


def _tus_metadata(bucket: str, key: str, content_type: str) -> str:
    fields = {
        "bucketName": bucket,
        "objectName": key,
        "contentType": content_type,
        "cacheControl": "3600",
    }
    return ",".join(
        f"{name} {base64.b64encode(value.encode()).decode()}" for name, value in fields.items()
    )


def _upload_offset(response: httpx.Response, action: str) -> int:
    try:
        return int(response.headers["Upload-Offset"])
    except (KeyError, ValueError):
        raise PermanentStorageError(
            f"{action}: the server answered without a valid Upload-Offset"
        ) from None


def _failure_of(exc: StorageApiError) -> _Failure:
    return _Failure(
        status=str(exc.status),
        code=str(exc.code),
        message=str(exc.message),
        http_status=_http_status(exc),
    )


def _http_status(exc: BaseException) -> int | None:
    """The real HTTP status behind a storage3 error.

    storage3 chains the httpx.HTTPStatusError as __cause__, except when the body was not
    JSON: then __cause__ is the parsing error and the HTTP error is that one's __context__.
    """
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        seen = seen.__cause__ or seen.__context__
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
    return None


def _failure_from_response(response: httpx.Response) -> _Failure:
    """TUS answers plain text with real statuses, except auth failures (Storage JSON)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "statusCode" in body:
        return _Failure(
            status=str(body["statusCode"]),
            code=str(body.get("error") or body.get("code") or ""),
            message=str(body.get("message") or ""),
            http_status=response.status_code,
        )
    return _Failure(
        status=str(response.status_code),
        code=response.reason_phrase,
        message=response.text.strip()[:200],
        http_status=response.status_code,
    )


def _md5_of(data: dict[str, Any]) -> str | None:
    """The MD5 in an etag like '"9e10..."'; None for other etags (S3 multipart, mtime)."""
    etag = str(data.get("etag") or "").removeprefix("W/").strip('"').lower()
    return etag if _MD5.fullmatch(etag) else None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _timeout(timeouts: Timeouts) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
    )
