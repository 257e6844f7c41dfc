"""A file sent to the server: streamed to a private folder of the server (memory flat), then
handed to the same service as a local path would be, which checks, stages and queues it."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TypeVar

from vwaza_cli.errors import InvalidInput, SpoolFull, Unavailable, VwazaError
from vwaza_cli.media import display_name
from vwaza_cli.settings import Settings, ensure_private_dir

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
MAX_NAME_BYTES = 255
FILE_BODY = {  # the OpenAPI request body of an operation whose body is a file
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
Result = TypeVar("Result")


def uploads_dir(settings: Settings) -> Path:
    """Where bodies land before the service copies them into the spool (never the spool
    itself: its sweep owns what is there)."""
    return settings.data_dir / "server-uploads"


def client_name(filename: str) -> str:
    """The client's file name without its folders: the service's default title comes from it."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    if name in ("", ".", "..") or "\0" in name or len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise InvalidInput(f"not a usable file name: {display_name(Path(filename[:80]))!r}")
    return name


@contextmanager
def received(settings: Settings, filename: str) -> Iterator[Path]:
    """A new path named ``filename`` in a folder of its own, removed afterwards."""
    name = client_name(filename)
    folder = ensure_private_dir(uploads_dir(settings) / uuid.uuid4().hex)
    try:
        yield folder / name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def write_body(target: Path, chunks: AsyncIterator[bytes]) -> int:
    """Write the body as it arrives, one chunk in memory at a time; fsync it."""
    size = 0
    with write_errors(target.parent):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        async for chunk in chunks:
            with write_errors(target.parent):
                write_all(fd, chunk)
            size += len(chunk)
        with write_errors(target.parent):
            os.fsync(fd)
    finally:
        os.close(fd)
    return size


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextmanager
def write_errors(folder: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if exc.errno in FULL:
            raise SpoolFull(
                f"the server's upload folder {folder.parent} is full ({reason}): "
                "ask the server's admin to free space there",
                folder=str(folder.parent),
            ) from None
        raise Unavailable(f"the server cannot write the upload ({reason})") from None


def as_sent(call: Callable[[], Result], target: Path, filename: str) -> Result:
    """Run the service on the received copy; its errors name the file as the client sent
    it, never the server's folder."""
    return as_named(call, {display_name(target): display_name(Path(filename))})


def as_named(call: Callable[[], Result], names: dict[str, str]) -> Result:
    """Run the service on received copies; in what it answers and in its errors, each
    copy's name on the server (a key of ``names``) becomes the client's name for it."""
    try:
        return renamed(call(), names)
    except VwazaError as exc:
        exc.message = renamed(exc.message, names)
        exc.args = (exc.message,)
        exc.details = renamed(exc.details, names)
        raise


Named = TypeVar("Named")


def renamed(value: Named, names: dict[str, str]) -> Named:
    """``value`` (text, or lists and dicts of it) with each key of ``names`` replaced."""
    if isinstance(value, str):
        for server_name, client_name_ in names.items():
            value = value.replace(server_name, client_name_)  # type: ignore[assignment]
        return value
    if isinstance(value, list):
        return [renamed(item, names) for item in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {key: renamed(item, names) for key, item in value.items()}  # type: ignore[return-value]
    return value
