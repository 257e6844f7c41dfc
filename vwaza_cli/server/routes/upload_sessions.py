"""Resumable uploads over HTTP (`server/resumable.py`): begin, send from the offset the
server holds, ask that offset after a dropped connection, cancel. `track add` and `release
cover` then name the upload instead of sending the file in their own request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from vwaza_cli.server import resumable, uploads
from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json
from vwaza_cli.server.schemas import UploadBegin
from vwaza_cli.services import accounts
from vwaza_cli.services.context import Context
from vwaza_cli.services.uploads import AUDIO, IMAGE

router = APIRouter(prefix="/uploads", tags=["uploads"], responses=ERRORS)
MAX_BYTES = max(AUDIO.max_bytes, IMAGE.max_bytes)
Result = TypeVar("Result")


def owner_of(ctx: Context) -> str:
    return accounts.current_actor(ctx).id


@router.post("", status_code=201)
def begin(body: UploadBegin, ctx: Caller) -> Json:
    """An empty upload of ``size`` bytes named ``filename``; `{"id", "offset": 0, ...}`."""
    upload = resumable.create(ctx.settings, owner_of(ctx), body.filename, body.size, MAX_BYTES)
    return upload.view()


@router.get("/{upload_id}")
def status(upload_id: str, ctx: Caller) -> Json:
    """How many bytes the server holds (`offset`): where to resume."""
    return resumable.find(ctx.settings, owner_of(ctx), upload_id).view()


@router.patch("/{upload_id}", openapi_extra=uploads.FILE_BODY)
async def send(
    upload_id: str,
    request: Request,
    ctx: Caller,
    upload_offset: Annotated[int, Header(ge=0, description="Where this body starts.")],
) -> Json:
    """Bytes from ``Upload-Offset``, which must be the server's offset (409 otherwise)."""
    upload = await run_in_threadpool(resumable.find, ctx.settings, owner_of(ctx), upload_id)
    offset = await resumable.append(upload, upload_offset, request.stream())
    return {**upload.view(), "offset": offset}


@router.delete("/{upload_id}")
def cancel(upload_id: str, ctx: Caller) -> Json:
    resumable.remove(resumable.find(ctx.settings, owner_of(ctx), upload_id))
    return {"id": upload_id, "deleted": True}


@contextmanager
def used(ctx: Context, upload_id: str) -> Iterator[resumable.Upload]:
    """A complete upload of the caller's, claimed by this request alone and removed once it
    is done (taken or refused: a refused file would be refused again)."""
    upload = resumable.claim(resumable.complete(ctx.settings, owner_of(ctx), upload_id))
    try:
        yield upload
    finally:
        resumable.remove(upload)


def take(ctx: Context, upload_id: str, call: Callable[[Path], Result]) -> Result:
    """Run ``call`` on the upload's file, as a file sent in the request would be."""
    with used(ctx, upload_id) as upload:
        return uploads.as_sent(lambda: call(upload.path), upload.path, upload.meta.filename)
