"""`vwaza release` over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from vwaza_cli.server import uploads
from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList, Page, upload_sessions
from vwaza_cli.server.schemas import CoverFromUpload, ReleaseCreate, ReleaseEdit
from vwaza_cli.services import releases, upload_watch
from vwaza_cli.services.metadata import release_change_from_json
from vwaza_cli.services.upload_watch import with_daemon_warning

router = APIRouter(prefix="/releases", tags=["releases"], responses=ERRORS)


@router.post("", status_code=201)
def create(body: ReleaseCreate, ctx: Caller) -> Json:
    change = release_change_from_json(body.model_dump())
    return releases.create_release(ctx, body.title, body.genre, change=change)


@router.get("")
def list_(
    ctx: Caller,
    paging: Page,
    status: str | None = None,
    all_: Annotated[bool, Query(alias="all")] = False,
) -> JsonList:
    """Your releases, newest first; `all=true` everyone's (admins); `limit` from `offset`."""
    return releases.list_releases(ctx, status, all_, paging.limit, paging.offset)


@router.get("/{release_id}")
def show(release_id: str, ctx: Caller) -> Json:
    return releases.show_release(ctx, release_id)


@router.patch("/{release_id}")
def edit(release_id: str, body: ReleaseEdit, ctx: Caller) -> Json:
    change = release_change_from_json(body.model_dump())
    return releases.edit_release(ctx, release_id, body.title, body.genre, change)


@router.delete("/{release_id}")
def delete(release_id: str, ctx: Caller) -> Json:
    return releases.delete_release(ctx, release_id)


@router.post("/{release_id}/submit")
def submit(release_id: str, ctx: Caller) -> Json:
    """DRAFT/REJECTED -> PROCESSING, on to PENDING_REVIEW once every file is uploaded."""
    return with_daemon_warning(ctx, releases.submit(ctx, release_id))


@router.get("/{release_id}/uploads")
def uploads_now(release_id: str, ctx: Caller) -> Json:
    """One look for `release submit --wait`: the release, its uploads done of all, whether it
    reached review and why not yet; an upload that FAILED (or a release back in DRAFT) is
    the `unavailable` error (503), as the wait's exit 7."""
    return upload_watch.look(ctx, release_id).as_json()


@router.put("/{release_id}/cover/from-upload")
def cover_from_upload(release_id: str, body: CoverFromUpload, ctx: Caller) -> Json:
    """`release cover` of an image sent as a resumable upload (POST /uploads)."""
    release = upload_sessions.take(
        ctx, body.upload, lambda path: releases.set_cover(ctx, release_id, path)
    )
    return with_daemon_warning(ctx, release)


@router.put("/{release_id}/cover", openapi_extra=uploads.FILE_BODY)
async def cover(
    release_id: str,
    request: Request,
    ctx: Caller,
    filename: Annotated[str, Query(description="The image file's name.")],
) -> Json:
    """`release cover`: the image is the body; checked, staged and queued before the answer."""
    with uploads.received(ctx.settings, filename) as target:
        await uploads.write_body(target, request.stream())
        release = await run_in_threadpool(
            uploads.as_sent, lambda: releases.set_cover(ctx, release_id, target), target, filename
        )
    return await run_in_threadpool(with_daemon_warning, ctx, release)
