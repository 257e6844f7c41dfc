"""The object-store protocol every backend follows, and the small rules they share.

No third-party import here: this module is loaded by `vwaza --help` and the daemon alike.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from vwaza_cli.errors import (
    PermanentStorageError,
    StagedCopyChanged,
    StorageError,
    TransientStorageError,
)

ProgressCallback = Callable[[int], None]

READ_CHUNK = 1024 * 1024
PROBE_PREFIX = ".vwaza-probe/"
PROBE_BYTES = b"vwaza probe\n"

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
        sha256: str,
        on_progress: ProgressCallback | None = None,
    ) -> str | None:
        """Store the file, checking its bytes as they are sent against the ``size`` and
        ``sha256`` recorded when it was staged: a copy that changed raises StagedCopyChanged
        before the object is finished, so nothing new is stored under ``key``. Returns the
        MD5 of the bytes sent (None when the backend could not tell: the caller hashes the
        file itself if it needs to)."""
        ...

    def info(self, key: str) -> ObjectInfo | None: ...

    def fetch(self, key: str, target: Path) -> None:
        """Write the object's bytes to ``target`` as they arrive (memory stays flat); a
        missing object is a PermanentStorageError."""
        ...

    def remove(self, key: str) -> None: ...

    def url_for(self, key: str) -> str: ...

    def ensure_bucket(self) -> None: ...

    def probe(self) -> None: ...

    def sweep_temp(self, older_than: timedelta) -> int:
        """Remove what abandoned uploads left in storage (temp files, unfinished resumable
        uploads): those no live writer holds, or left untouched for longer than
        ``older_than``. Returns how many were removed."""
        ...

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
        raise staged_copy_changed(path, f"{size} bytes expected, {actual} found")


def staged_copy_changed(path: Path, how: str) -> StagedCopyChanged:
    return StagedCopyChanged(
        f"the staged copy {path} changed after it was queued ({how}): nothing was stored;"
        " add the file again"
    )


def file_md5(path: Path) -> str:
    """Hex MD5 of a file, read in chunks (memory stays flat)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class SentDigest:
    """The MD5 and SHA-256 of a staged file, computed from the pieces as they are sent, so
    checking an upload does not read the file again. A piece counts only if it continues
    exactly where the last one ended: a re-sent piece is not counted twice.

    The piece that completes the file is checked against the recorded SHA-256 before it is
    passed on: a staged copy that changed raises StagedCopyChanged, and its last bytes never
    leave (so no backend can finish an object with them). The MD5 (for a backend whose
    objects carry one) is optional: it costs more than the SHA-256."""

    def __init__(self, path: Path, size: int, sha256: str, *, md5: bool = True) -> None:
        self.path = path
        self.size = size
        self.expected = sha256
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self._sha256 = hashlib.sha256()
        self.upto = 0

    def feed(self, offset: int, data: bytes) -> None:
        if offset != self.upto or not data:
            return
        if self.upto + len(data) > self.size:
            raise staged_copy_changed(self.path, f"more than the {self.size} bytes expected")
        if self._md5 is not None:
            self._md5.update(data)
        self._sha256.update(data)
        self.upto += len(data)
        if self.upto == self.size:
            self._check()

    def check_complete(self) -> None:
        """After reading to the end of the file: every byte was seen, and they match."""
        if self.upto != self.size:
            raise staged_copy_changed(self.path, f"{self.size} bytes expected, {self.upto} found")
        self._check()

    def md5(self) -> str | None:
        if self._md5 is None or self.upto != self.size:
            return None
        return self._md5.hexdigest()

    def again(self) -> SentDigest:
        """A fresh digest of the same file, for sending it from the start once more."""
        return SentDigest(self.path, self.size, self.expected, md5=self._md5 is not None)

    def _check(self) -> None:
        found = self._sha256.hexdigest()
        if found != self.expected:
            raise staged_copy_changed(self.path, f"SHA-256 {self.expected} expected, {found} found")


def read_checked(path: Path, size: int, sha256: str) -> str | None:
    """Read a staged file through a SentDigest (it must still be what was recorded);
    returns its MD5."""
    digest = SentDigest(path, size, sha256)
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.feed(digest.upto, chunk)
    digest.check_complete()
    return digest.md5()


@dataclass(frozen=True)
class ProbeFile:
    """The small file a storage probe writes, with what the store is told to expect."""

    path: Path
    size: int
    sha256: str


def probe_file(folder: Path) -> ProbeFile:
    path = folder / "probe.txt"
    path.write_bytes(PROBE_BYTES)
    return ProbeFile(path, len(PROBE_BYTES), hashlib.sha256(PROBE_BYTES).hexdigest())


def probe_key() -> str:
    return f"{PROBE_PREFIX}{uuid.uuid4().hex}.txt"


def reworded(exc: StorageError, message: str) -> StorageError:
    """The same kind of storage error (transient or permanent) with a new message."""
    kind = TransientStorageError if exc.transient else PermanentStorageError
    return kind(message)
