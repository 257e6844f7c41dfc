"""Resumable uploads: a large file goes to the server in an upload of its own, which survives a
dropped connection, and is then named by the request that uses it (`track add`, `release
cover`). The protocol is TUS's core, in JSON: create with the size, append at the offset the
server holds (`Upload-Offset`), ask the offset after a failure, use once.

On disk, each upload is a folder in the server's upload folder: `meta.json` (owner, name, size,
when) and the bytes under the client's file name (the service's default title and messages
come from it). What arrives is written as it arrives, so a connection cut halfway keeps what
reached the disk; an upload is used once, then removed; one left unused is removed after
``KEEP_FOR``. Only the user who created an upload sees it: anyone else gets "no such upload"."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from starlette.requests import ClientDisconnect

from vwaza_cli import clock
from vwaza_cli.errors import Conflict, InvalidInput, NotFound
from vwaza_cli.server.uploads import client_name, uploads_dir, write_all, write_errors
from vwaza_cli.settings import Settings, ensure_private_dir

KEEP_FOR = timedelta(hours=24)
MAKING = timedelta(minutes=10)  # a folder without its meta.json yet is left alone this long
FOLDER = "resumable"
DATA = "data"
TAKEN = ".taken"  # the suffix of an upload's folder once a request has claimed it
ID_CHARS = set("0123456789abcdef")


@dataclass(frozen=True)
class Meta:
    owner: str
    filename: str
    size: int
    created_at: str


@dataclass(frozen=True)
class Upload:
    id: str
    folder: Path
    meta: Meta

    @property
    def path(self) -> Path:
        return self.folder / DATA / self.meta.filename  # apart from meta.json, whatever its name

    @property
    def offset(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def complete(self) -> bool:
        return self.offset == self.meta.size

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "filename": self.meta.filename,
            "size": self.meta.size,
            "offset": self.offset,
        }


def root(settings: Settings) -> Path:
    return uploads_dir(settings) / FOLDER


def create(settings: Settings, owner: str, filename: str, size: int, max_bytes: int) -> Upload:
    name = client_name(filename)
    if size < 0:
        raise InvalidInput(f"an upload's size is a number of bytes, not {size}")
    if size > max_bytes:
        raise InvalidInput(f"{name}: too big (more than {max_bytes / 1e6:,.0f} MB)")
    _forget_expired_now_and_then(settings)
    upload_id = uuid.uuid4().hex
    folder = ensure_private_dir(root(settings) / upload_id)
    meta = Meta(owner, name, size, clock.now().isoformat())
    upload = Upload(upload_id, folder, meta)
    with write_errors(folder):
        ensure_private_dir(upload.path.parent)
        fd = os.open(upload.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        _write_meta(folder, meta)  # last: an upload with its meta.json is whole
    return upload


def _write_meta(folder: Path, meta: Meta) -> None:
    """meta.json whole or not at all: a reader never sees half of it."""
    temp = folder / "meta.json.part"
    temp.write_text(json.dumps(asdict(meta)))
    os.replace(temp, folder / "meta.json")


def find(settings: Settings, owner: str, upload_id: str) -> Upload:
    """The caller's upload; "no such upload" for anyone else's, or one that is gone."""
    missing = NotFound(f"no such upload: {upload_id[:40]!r} (it expires {_hours()} after it began)")
    if len(upload_id) != 32 or not set(upload_id) <= ID_CHARS:
        raise missing
    folder = root(settings) / upload_id
    try:
        meta = Meta(**json.loads((folder / "meta.json").read_text()))
    except (OSError, ValueError, TypeError):
        raise missing from None
    if meta.owner != owner:
        raise missing
    return Upload(upload_id, folder, meta)


def complete(settings: Settings, owner: str, upload_id: str) -> Upload:
    upload = find(settings, owner, upload_id)
    if not upload.complete:
        raise Conflict(
            f"the upload of {upload.meta.filename} has {upload.offset} of {upload.meta.size} "
            "bytes: send the rest first"
        )
    return upload


async def append(upload: Upload, offset: int, chunks: AsyncIterator[bytes]) -> int:
    """Write the body at ``offset`` (which must be where the upload is); the new offset. A
    body cut off keeps what reached the disk, fsynced, for the client to resume from."""
    now = upload.offset
    if offset != now:
        raise Conflict(f"the upload is at byte {now}, not {offset}: resume from there")
    with write_errors(upload.folder):
        fd = os.open(upload.path, os.O_WRONLY | os.O_APPEND)
    try:
        async for chunk in _until_cut(chunks):
            if now + len(chunk) > upload.meta.size:
                raise InvalidInput(
                    f"more bytes than the {upload.meta.size} the upload of "
                    f"{upload.meta.filename} was created for"
                )
            with write_errors(upload.folder):
                write_all(fd, chunk)
            now += len(chunk)
    finally:
        with write_errors(upload.folder):
            os.fsync(fd)
        os.close(fd)
    return now


async def _until_cut(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's chunks until it ends, or until the client's connection is gone."""
    try:
        async for chunk in chunks:
            yield chunk
    except ClientDisconnect:
        return


def claim(upload: Upload) -> Upload:
    """The upload, taken by one request for good: its folder renamed (atomic), so that a
    second request naming it at the same moment finds no such upload."""
    taken = upload.folder.with_name(upload.folder.name + TAKEN)
    try:
        os.rename(upload.folder, taken)
    except FileNotFoundError:
        raise NotFound(f"no such upload: {upload.id!r} (another request used it)") from None
    return Upload(upload.id, taken, upload.meta)


def remove(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)


def forget_leftovers(settings: Settings) -> None:
    """What a server that stopped mid-upload left behind (one server per store): bodies it
    was receiving, and resumable uploads past their time (the others may still resume)."""
    try:
        entries = list(uploads_dir(settings).iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name != FOLDER:
            shutil.rmtree(entry, ignore_errors=True)
    for taken in root(settings).glob(f"*{TAKEN}"):  # claimed by a request the stop cut short
        shutil.rmtree(taken, ignore_errors=True)
    forget_expired(settings)


_forgotten_at: dict[Path, float] = {}  # when each upload folder was last looked through
FORGET_EVERY = 60.0  # seconds: a catalog's hundreds of uploads do not each read every other


def _forget_expired_now_and_then(settings: Settings) -> None:
    folder, at = root(settings), time.monotonic()
    if at - _forgotten_at.get(folder, -FORGET_EVERY) >= FORGET_EVERY:
        _forgotten_at[folder] = at
        forget_expired(settings)


def forget_expired(settings: Settings, now: datetime | None = None) -> None:
    """Uploads begun more than KEEP_FOR ago, and folders that are not uploads, are removed."""
    now = now or clock.now()
    try:
        entries = list(root(settings).iterdir())
    except FileNotFoundError:
        return
    for folder in entries:
        try:
            meta = Meta(**json.loads((folder / "meta.json").read_text()))
            expired = datetime.fromisoformat(meta.created_at) < now - KEEP_FOR
        except (OSError, ValueError, TypeError):
            expired = _abandoned(folder, now)
        if expired:
            shutil.rmtree(folder, ignore_errors=True)


def _abandoned(folder: Path, now: datetime) -> bool:
    """A folder without a readable meta.json: an upload being created right now (its folder
    is made first), or what a crash left, once it is older than MAKING."""
    try:
        made = datetime.fromtimestamp(folder.stat().st_mtime, tz=now.tzinfo)
    except OSError:
        return False  # gone already
    return made < now - MAKING


def _hours() -> str:
    return f"{KEEP_FOR.total_seconds() / 3600:g} hours"
