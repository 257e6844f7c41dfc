"""`vwaza review` over HTTP (admins only: the services check, before any ID is looked up)."""

from __future__ import annotations

from fastapi import APIRouter

from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList, Page
from vwaza_cli.server.schemas import Reject
from vwaza_cli.services import review

router = APIRouter(prefix="/review", tags=["review"], responses=ERRORS)


@router.get("")
def list_(ctx: Caller, paging: Page) -> JsonList:
    """Releases in PENDING_REVIEW, oldest first; `limit` from `offset`."""
    return review.pending(ctx, paging.limit, paging.offset)


@router.get("/{release_id}")
def show(release_id: str, ctx: Caller) -> Json:
    return review.show(ctx, release_id)


@router.post("/{release_id}/approve")
def approve(release_id: str, ctx: Caller) -> Json:
    return review.approve(ctx, release_id)


@router.post("/{release_id}/reject")
def reject(release_id: str, body: Reject, ctx: Caller) -> Json:
    return review.reject(ctx, release_id, body.reason)
