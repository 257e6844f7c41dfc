"""Objects as files under a local folder: for development and single-machine setups."""

from __future__ import annotations

import errno
import os
import stat as stat_module
import tempfile
from pathlib import Path
from typing import BinaryIO

from vwaza_cli.errors import PermanentStorageError, StorageError, TransientStorageError
from vwaza_cli.storage.base import (
    READ_CHUNK,
    ObjectInfo,
    ProgressCallback,
    check_key,
    check_source,
    probe_key,
    reworded,
)

# Errors that may clear up by themselves (space freed, device back): worth a retry.
_TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EINTR}


class LocalStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str,
        size: int,
        on_progress: ProgressCallback | None = None,
    ) -> str | None:
        # content_type is not kept: a folder has nowhere to store it.
        target = self._path(key)
        check_source(path, size)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_atomically(path, target, on_progress)
        except OSError as exc:
            raise _os_error(f"cannot store {key!r} in {self.root}", exc) from exc
        return None  # info() reports no MD5 here: verification is by size

    def info(self, key: str) -> ObjectInfo | None:
        try:
            stat = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _os_error(f"cannot read {key!r} in {self.root}", exc) from exc
        if not stat_module.S_ISREG(stat.st_mode):
            return None  # a folder: Supabase has no object there either
        return ObjectInfo(key=key, size=stat.st_size, md5=None)

    def remove(self, key: str) -> None:
        target = self._path(key)
        try:
            target.unlink(missing_ok=True)
        except (NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise _os_error(f"cannot remove {key!r} from {self.root}", exc) from exc
        self._prune_empty_parents(target.parent)

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def ensure_bucket(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PermanentStorageError(
                f"cannot create the local storage folder {self.root}: {exc.strerror or exc};"
                " make its parent writable or set VWAZA_HOME to a writable folder"
            ) from exc

    def probe(self) -> None:
        self.ensure_bucket()
        key = probe_key()
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "probe.txt"
            source.write_bytes(b"vwaza probe\n")
            try:
                self.put_file(key, source, content_type="text/plain", size=source.stat().st_size)
            except StorageError as exc:
                raise reworded(
                    exc, f"{exc.message}; check the permissions and free space of {self.root}"
                ) from exc
            finally:
                self.remove(key)

    def close(self) -> None:
        """Nothing to release; here for the ObjectStore protocol."""

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _prune_empty_parents(self, folder: Path) -> None:
        # Keeps the tree tidy like Supabase, where folders exist only through their objects.
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _copy_atomically(source: Path, target: Path, on_progress: ProgressCallback | None) -> None:
    """Copy through a temp file in the target's folder so readers never see half an object."""
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            _copy(src, out, on_progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _copy(src: BinaryIO, out: BinaryIO, on_progress: ProgressCallback | None) -> None:
    sent = 0
    while chunk := src.read(READ_CHUNK):
        out.write(chunk)
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry itself reaches the disk.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(what: str, exc: OSError) -> StorageError:
    message = f"{what}: {exc.strerror or exc}"
    if exc.errno in _TRANSIENT_ERRNOS:
        return TransientStorageError(message)
    return PermanentStorageError(message)
