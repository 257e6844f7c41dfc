"""`vwaza track` over HTTP (the file upload of `track add` comes with the client)."""

from __future__ import annotations

from fastapi import APIRouter

from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList
from vwaza_cli.server.schemas import TrackEdit, TrackMove
from vwaza_cli.services import tracks

router = APIRouter(tags=["tracks"], responses=ERRORS)


@router.get("/releases/{release_id}/tracks")
def list_(release_id: str, ctx: Caller) -> JsonList:
    return tracks.list_tracks(ctx, release_id)


@router.patch("/tracks/{track_id}")
def edit(track_id: str, body: TrackEdit, ctx: Caller) -> Json:
    return tracks.edit_track(ctx, track_id, body.title, body.isrc)


@router.post("/tracks/{track_id}/move")
def move(track_id: str, body: TrackMove, ctx: Caller) -> JsonList:
    """The release's tracks in their new order."""
    return tracks.move_track(ctx, track_id, body.to)


@router.delete("/tracks/{track_id}")
def remove(track_id: str, ctx: Caller) -> Json:
    return tracks.remove_track(ctx, track_id)
