"""Objects as files under a local folder: for development and single-machine setups."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat as stat_module
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from vwaza_cli.errors import PermanentStorageError, StorageError, TransientStorageError
from vwaza_cli.storage.base import (
    READ_CHUNK,
    ObjectInfo,
    ProgressCallback,
    SentDigest,
    check_key,
    check_source,
    probe_file,
    probe_key,
    reworded,
)

# Errors that may clear up by themselves (space freed, device back): worth a retry.
_TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EINTR}
# A copy in progress: ".{object name}.{random}.part" beside its object, locked by its writer.
TEMP_SUFFIX = ".part"


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
        sha256: str,
        on_progress: ProgressCallback | None = None,
    ) -> str | None:
        # content_type is not kept: a folder has nowhere to store it.
        target = self._path(key)
        check_source(path, size)
        digest = SentDigest(path, size, sha256, md5=False)  # a folder keeps no MD5 to compare
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_atomically(path, target, on_progress, digest)
        except OSError as exc:
            raise _os_error(f"cannot store {key!r} in {self.root}", exc) from exc
        return digest.md5()

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

    def fetch(self, key: str, target: Path) -> None:
        source = self._path(key)
        try:
            shutil.copyfile(source, target)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise PermanentStorageError(f"no object {key!r} in {self.root}") from None
        except OSError as exc:
            raise _os_error(f"cannot read {key!r} in {self.root}", exc) from exc

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
            source = probe_file(Path(scratch))
            try:
                self.put_file(
                    key,
                    source.path,
                    content_type="text/plain",
                    size=source.size,
                    sha256=source.sha256,
                )
            except StorageError as exc:
                raise reworded(
                    exc, f"{exc.message}; check the permissions and free space of {self.root}"
                ) from exc
            finally:
                self.remove(key)

    def sweep_temp(self, older_than: timedelta) -> int:
        """Remove the temp files of copies whose writer is gone (a daemon killed mid-upload):
        a live writer holds a lock on its temp file; where the folder has no locks, a temp
        file untouched for longer than ``older_than`` is taken for abandoned."""
        removed = 0
        for temp in _temp_files(self.root):
            if _remove_if_abandoned(temp, older_than.total_seconds()):
                removed += 1
                self._prune_empty_parents(temp.parent)
        return removed

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


def _copy_atomically(
    source: Path, target: Path, on_progress: ProgressCallback | None, digest: SentDigest
) -> None:
    """Copy through a temp file in the target's folder so readers never see half an object,
    nor a copy whose bytes are not the recorded ones: the check comes before the rename."""
    fd, temp = _locked_temp(target)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            _copy(src, out, on_progress, digest)
            digest.check_complete()
            out.flush()
            os.fsync(out.fileno())
            os.replace(temp, target)  # still locked: the sweep never takes a finished copy
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _locked_temp(target: Path) -> tuple[int, Path]:
    """A new temp file beside ``target``, locked for as long as it is open."""
    while True:
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX
        )
        if _lock(fd, blocking=True) is not False and os.fstat(fd).st_nlink:
            return fd, Path(name)
        os.close(fd)  # swept in the instant before it was locked: take another


def _lock(fd: int, *, blocking: bool) -> bool | None:
    """Take the lock on ``fd``: True, False when another holds it, None where the file
    system has no locks."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _copy(
    src: BinaryIO, out: BinaryIO, on_progress: ProgressCallback | None, digest: SentDigest
) -> None:
    sent = 0
    while chunk := src.read(READ_CHUNK):
        digest.feed(sent, chunk)  # first: the last piece of a changed copy is never written
        out.write(chunk)
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent)


def _temp_files(root: Path) -> Iterator[Path]:
    for folder, _subfolders, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                yield Path(folder) / name


def _remove_if_abandoned(temp: Path, idle_seconds: float) -> bool:
    """Remove ``temp`` if no live writer holds it (its lock is free, or without locks: it
    was idle that long), and it is still the file we looked at."""
    try:
        fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # renamed into its object meanwhile, or not a file of ours
    try:
        if not _writer_gone(fd, idle_seconds) or os.stat(temp).st_ino != os.fstat(fd).st_ino:
            return False
        temp.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # and with it the lock


def _writer_gone(fd: int, idle_seconds: float) -> bool:
    locked = _lock(fd, blocking=False)
    if locked is None:
        return time.time() - os.fstat(fd).st_mtime > idle_seconds
    return locked


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
