"""`vwaza admin user` over HTTP (admins only: the services check)."""

from __future__ import annotations

from fastapi import APIRouter

from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json, JsonList
from vwaza_cli.server.schemas import UserCreate
from vwaza_cli.services import accounts

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERRORS)


@router.get("/check")
def check(ctx: Caller) -> Json:
    """Whether the caller is an admin (403 otherwise): asked before a password prompt."""
    accounts.require_admin(ctx)
    return {"admin": True}


@router.post("/users", status_code=201)
def user_create(body: UserCreate, ctx: Caller) -> Json:
    return accounts.create_user(ctx, body.email, body.role, body.artist_name, body.password)


@router.get("/users")
def user_list(ctx: Caller) -> JsonList:
    return accounts.list_users(ctx)


@router.delete("/users/{email:path}")
def user_delete(email: str, ctx: Caller) -> Json:
    """Deletes the user with their releases, tracks, tokens, jobs and staged files."""
    return accounts.delete_user(ctx, email)
