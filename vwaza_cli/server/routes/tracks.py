"""`vwaza track` over HTTP; `track add` streams the file in the request body."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from vwaza_cli.server import uploads
from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList, upload_sessions
from vwaza_cli.server.schemas import TrackEdit, TrackFromUpload, TrackMove
from vwaza_cli.services import tracks
from vwaza_cli.services.metadata import TrackChange, track_change_from_json
from vwaza_cli.services.upload_watch import with_daemon_warning

router = APIRouter(tags=["tracks"], responses=ERRORS)


@router.post("/releases/{release_id}/tracks", status_code=201, openapi_extra=uploads.FILE_BODY)
async def add(
    release_id: str,
    request: Request,
    ctx: Caller,
    filename: Annotated[str, Query(description="The file's name (the default title).")],
    title: str | None = None,
    order: int | None = None,
    isrc: str | None = None,
    explicit: str | None = None,
    featured_artists: Annotated[list[str] | None, Query()] = None,
    composers: Annotated[list[str] | None, Query()] = None,
    lyricists: Annotated[list[str] | None, Query()] = None,
    producers: Annotated[list[str] | None, Query()] = None,
) -> Json:
    """`track add`: the audio file is the body, written to disk as it arrives; then the same
    checks as on one machine (decode-through), staged and queued before the answer."""
    change = TrackChange(explicit, featured_artists, composers, lyricists, producers)
    with uploads.received(ctx.settings, filename) as target:
        await uploads.write_body(target, request.stream())
        track = await run_in_threadpool(
            uploads.as_sent,
            lambda: tracks.add_track(ctx, release_id, target, title, order, isrc, change=change),
            target,
            filename,
        )
    return await run_in_threadpool(with_daemon_warning, ctx, track)


@router.post("/releases/{release_id}/tracks/from-upload", status_code=201)
def add_from_upload(release_id: str, body: TrackFromUpload, ctx: Caller) -> Json:
    """`track add` of a file sent as a resumable upload (POST /uploads): the same checks."""
    track = upload_sessions.take(
        ctx,
        body.upload,
        lambda path: tracks.add_track(
            ctx,
            release_id,
            path,
            body.title,
            body.order,
            body.isrc,
            change=track_change_from_json(body.model_dump()),
        ),
    )
    return with_daemon_warning(ctx, track)


@router.get("/releases/{release_id}/tracks")
def list_(release_id: str, ctx: Caller) -> JsonList:
    return tracks.list_tracks(ctx, release_id)


@router.get("/tracks/{track_id}")
def show(track_id: str, ctx: Caller) -> Json:
    return tracks.show_track(ctx, track_id)


@router.patch("/tracks/{track_id}")
def edit(track_id: str, body: TrackEdit, ctx: Caller) -> Json:
    change = track_change_from_json(body.model_dump())
    return tracks.edit_track(ctx, track_id, body.title, body.isrc, body.preview_start, change)


@router.post("/tracks/{track_id}/move")
def move(track_id: str, body: TrackMove, ctx: Caller) -> JsonList:
    """The release's tracks in their new order."""
    return tracks.move_track(ctx, track_id, body.to)


@router.delete("/tracks/{track_id}")
def remove(track_id: str, ctx: Caller) -> Json:
    return tracks.remove_track(ctx, track_id)
