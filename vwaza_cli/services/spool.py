"""The spool: staged files waiting for upload, written durably, named by ID (never by the
user's file name).

A file is copied into ``spool/.incoming/`` while it is hashed, fsynced, then renamed into
``spool/`` and the folder fsynced, before any row refers to it. A crash leaves at worst a
``.part`` file or an unreferenced file, which the daemon's sweep removes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vwaza_cli.errors import InvalidMedia, SpoolFull, Unavailable
from vwaza_cli.media import display_name
from vwaza_cli.settings import Settings, ensure_private_dir
from vwaza_cli.storage.download import with_download

CHUNK = 1024 * 1024
INCOMING = ".incoming"
# A folder out of room: no space, no quota left, or a file the file system (or `ulimit -f`)
# will not let grow. Each says what to do about it.
FULL_HINTS = {
    errno.ENOSPC: "free space there, then try again",
    errno.EDQUOT: "free space there or raise your disk quota, then try again",
    errno.EFBIG: "free space there or raise the file size limit (ulimit -f), then try again",
}


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size: int


def incoming_dir(settings: Settings) -> Path:
    """The spool's temp folder; the spool and its folders are private to the user."""
    for folder in (settings.data_dir, settings.spool_dir):
        if not folder.exists():
            ensure_private_dir(folder)
    return ensure_private_dir(settings.spool_dir / INCOMING)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(
    settings: Settings,
    blocks: Iterable[bytes],
    limit: int,
    on_bytes: Callable[[int], None] | None,
    label: str,
) -> StagedFile:
    """Write ``blocks`` into a new private temp file in the spool, hashing as it goes, and
    fsync it. The temp file is removed if anything fails or the size passes ``limit``."""
    with spool_errors(settings):
        temp = incoming_dir(settings) / f"{uuid.uuid4()}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        digest, size = _fill(settings, fd, blocks, limit, on_bytes, label)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return StagedFile(temp, digest, size)


def _fill(
    settings: Settings,
    fd: int,
    blocks: Iterable[bytes],
    limit: int,
    on_bytes: Callable[[int], None] | None,
    label: str,
) -> tuple[str, int]:
    """Write and hash every block, then fsync: the SHA-256 and size of what was written."""
    digest = hashlib.sha256()
    size = 0
    for block in blocks:
        size += len(block)
        if size > limit:
            raise too_large(label, limit)
        with spool_errors(settings):
            _write_all(fd, block)
        digest.update(block)
        if on_bytes:
            on_bytes(len(block))
    with spool_errors(settings):
        os.fsync(fd)
    return digest.hexdigest(), size


def _write_all(fd: int, data: bytes) -> None:
    """Unbuffered, so a full disk is seen at the write that hits it, never at a close."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextmanager
def spool_errors(settings: Settings) -> Iterator[None]:
    """A failed write into the spool is said in one line that names the folder; a full
    one also says what to do."""
    try:
        yield
    except OSError as exc:
        raise spool_error(settings, exc) from None


def spool_error(settings: Settings, exc: OSError) -> Unavailable:
    folder = settings.spool_dir
    reason = exc.strerror or type(exc).__name__
    if exc.errno in FULL_HINTS:
        message = f"the spool folder {folder} is full ({reason}): {FULL_HINTS[exc.errno]}"
        return SpoolFull(message, folder=str(folder))
    return Unavailable(f"cannot write to the spool {folder}: {reason}")


def too_large(label: str, limit: int) -> InvalidMedia:
    return InvalidMedia(f"{label}: too big (more than {limit / 1e6:,.0f} MB)")


def copy_in(
    settings: Settings,
    source: Path,
    limit: int,
    on_bytes: Callable[[int], None] | None = None,
) -> StagedFile:
    """Stream ``source`` into a private temp file in the spool, hashing as it goes."""
    label = display_name(source)
    with open_source(source) as reader:
        if os.fstat(reader.fileno()).st_size > limit:
            raise too_large(label, limit)  # before a byte is copied
        return _write_temp(settings, _read_blocks(reader, label), limit, on_bytes, label)


def _read_blocks(reader: BinaryIO, label: str) -> Iterator[bytes]:
    """The user's file in blocks; a read that fails is their file's problem, not the spool's."""
    while True:
        try:
            block = reader.read(CHUNK)
        except OSError as exc:
            raise InvalidMedia(f"{label}: cannot read it ({exc.strerror})") from None
        if not block:
            return
        yield block


def usable_path(path: Path) -> Path:
    """A path the operating system can be asked about: no NUL (it would cut the name short)
    and nothing the file system's encoding cannot say (a lone surrogate from a catalog)."""
    try:
        encoded = os.fsencode(path)
    except UnicodeEncodeError:
        raise InvalidMedia(f"{display_name(path)}: not a valid file name") from None
    if b"\0" in encoded:
        raise InvalidMedia(f"{display_name(path)}: a file name cannot contain NUL")
    return path


def open_source(source: Path) -> BinaryIO:
    """Open a user's file for reading: a regular file only (a FIFO would block, a device
    would never end), opened without blocking and checked again once open."""
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InvalidMedia(f"{display_name(source)}: no such file") from None
    except IsADirectoryError:
        raise InvalidMedia(f"{display_name(source)}: is a folder, not a file") from None
    except OSError as exc:
        raise InvalidMedia(f"{display_name(source)}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidMedia(f"{display_name(source)}: not a regular file")
    return os.fdopen(fd, "rb")


def commit(
    settings: Settings, staged: StagedFile, name: str, *, sync_folder: bool = True
) -> StagedFile:
    """Rename a fully written temp file into the spool under ``name`` and make it durable.
    With ``sync_folder=False`` the caller fsyncs the spool folder once for several renames,
    before any row refers to them."""
    if "/" in name or name.startswith("."):
        raise ValueError(f"spool names are IDs, got {name!r}")
    target = settings.spool_dir / name
    try:
        with spool_errors(settings):
            os.replace(staged.path, target)
            if sync_folder:
                fsync_dir(settings.spool_dir)
    except Unavailable:
        discard([staged.path, target])  # renamed or not, no row will ever refer to it
        raise
    return StagedFile(target, staged.sha256, staged.size)


def discard(paths: Iterable[str | Path]) -> int:
    """Remove staged files that no row needs any more; missing ones are fine."""
    removed = 0
    for path in paths:
        try:
            Path(path).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def download_in(
    settings: Settings, url: str, limit: int, on_bytes: Callable[[int], None] | None = None
) -> StagedFile:
    """Stream an https file (an exported storage URL) into the spool, hashing as it goes."""
    return with_download(
        url,
        CHUNK,
        lambda blocks: _write_temp(settings, blocks, limit, on_bytes, url),
        allow_private=settings.allow_private_urls,
    )


# --- files checked where they lie (catalog import) --------------------------------------------

Stamp = tuple[int, int, int, int]  # device, inode, size, modification time (ns)


def stamp_of(info: os.stat_result) -> Stamp:
    """What tells a file checked where it lies from the same name holding other bytes."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def copy_checked_in(
    settings: Settings,
    source: Path,
    limit: int,
    checked: Stamp,
    on_bytes: Callable[[int], None] | None = None,
) -> StagedFile:
    """Copy a file that was checked where it lies into the spool's incoming folder, hashing
    as it goes; refused (nothing left behind) if it is no longer the file that was checked."""
    label = display_name(source)
    changed = InvalidMedia(f"{label}: changed since it was checked: run the import again")
    with open_source(source) as reader:
        if stamp_of(os.fstat(reader.fileno())) != checked:
            raise changed
        staged = _write_temp(settings, _read_blocks(reader, label), limit, on_bytes, label)
        if stamp_of(os.fstat(reader.fileno())) != checked or staged.size != checked[2]:
            discard([staged.path])
            raise changed
    return staged


def link_in(settings: Settings, staged: StagedFile, name: str) -> StagedFile:
    """One more spool file of a staged file's bytes, under ``name``: a hard link (no copy),
    or a copy where the file system has none. The caller fsyncs the spool folder."""
    if "/" in name or name.startswith("."):
        raise ValueError(f"spool names are IDs, got {name!r}")
    target = settings.spool_dir / name
    try:
        os.link(staged.path, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP):
            raise spool_error(settings, exc) from None
        with open_source(staged.path) as reader:
            label = display_name(staged.path)
            copy = _write_temp(settings, _read_blocks(reader, label), staged.size, None, label)
        return commit(settings, copy, name, sync_folder=False)
    return StagedFile(target, staged.sha256, staged.size)
