"""The object-store protocol every backend follows, and the small rules they share.

No third-party import here: this module is loaded by `vwaza --help` and the daemon alike.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vwaza_cli.errors import PermanentStorageError, StorageError, TransientStorageError

ProgressCallback = Callable[[int], None]

READ_CHUNK = 1024 * 1024
PROBE_PREFIX = ".vwaza-probe/"

# Supabase Storage's own key rule (S3-safe characters only); applied to every backend so
# that a key accepted by the local folder is accepted by Supabase too.
_KEY_PATTERN = re.compile(r"[\w/!\-.*'() &$@=;:+,?]+", re.ASCII)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    md5: str | None  # hex MD5 when the backend reports one (etag on Supabase file backend)


@dataclass(frozen=True)
class Timeouts:
    """Per-phase network timeouts in seconds, fit for large uploads by default."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 10.0


class ObjectStore(Protocol):
    name: str

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str,
        size: int,
        on_progress: ProgressCallback | None = None,
    ) -> str | None:
        """Store the file; returns the MD5 of the bytes sent when every byte was sent in
        order (None otherwise: the caller hashes the file itself if it needs to)."""
        ...

    def info(self, key: str) -> ObjectInfo | None: ...

    def remove(self, key: str) -> None: ...

    def url_for(self, key: str) -> str: ...

    def ensure_bucket(self) -> None: ...

    def probe(self) -> None: ...

    def close(self) -> None: ...


def check_key(key: str) -> str:
    """Refuse keys Supabase would refuse (or that would escape a folder); return the key."""
    segments = key.split("/")
    if (
        not _KEY_PATTERN.fullmatch(key)
        or key.startswith("/")
        or any(segment in {"", ".", ".."} for segment in segments)
    ):
        raise PermanentStorageError(
            f"invalid object key {key!r}: use plain ASCII letters, digits and - _ . / only,"
            " without empty, '.' or '..' segments"
        )
    return key


def check_source(path: Path, size: int) -> None:
    """The file to upload must exist and still have the size the caller recorded."""
    try:
        actual = path.stat().st_size
    except OSError as exc:
        raise PermanentStorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if actual != size:
        raise PermanentStorageError(
            f"{path} is {actual} bytes but {size} were expected: the file changed after it"
            " was queued; queue it again"
        )


def file_md5(path: Path) -> str:
    """Hex MD5 of a file, read in chunks (memory stays flat)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class SentDigest:
    """The MD5 of a file computed from the pieces as they are sent, so verifying an upload
    does not read the file again. A piece counts only if it continues exactly where the last
    one ended: a re-sent piece is not counted twice, and a resumed upload gives no digest."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.upto = 0

    def feed(self, offset: int, data: bytes) -> None:
        if offset == self.upto and data:
            self._md5.update(data)
            self.upto += len(data)

    def hexdigest(self, size: int) -> str | None:
        return self._md5.hexdigest() if self.upto == size else None


def probe_key() -> str:
    return f"{PROBE_PREFIX}{uuid.uuid4().hex}.txt"


def reworded(exc: StorageError, message: str) -> StorageError:
    """The same kind of storage error (transient or permanent) with a new message."""
    kind = TransientStorageError if exc.transient else PermanentStorageError
    return kind(message)
