"""Creating and upgrading the store."""

from __future__ import annotations

from typing import Any

from vwaza_cli.db import schema
from vwaza_cli.db.engine import describe_url
from vwaza_cli.services import accounts, spool
from vwaza_cli.services.context import Context


def _where(ctx: Context) -> str:
    return describe_url(ctx.settings.database_url)


def upgrade(ctx: Context) -> dict[str, Any]:
    schema.prepare_store(ctx.settings.database_url)
    before = schema.current_revision(ctx.settings.database_url)
    after = schema.upgrade(ctx.settings.database_url)
    spool.incoming_dir(ctx.settings)  # the spool, private
    return {"database": _where(ctx), "from_revision": before, "revision": after}


def current(ctx: Context) -> dict[str, Any]:
    revision = schema.current_revision(ctx.settings.database_url)
    return {
        "database": _where(ctx),
        "revision": revision,
        "head": schema.HEAD_REVISION,
        "up_to_date": revision == schema.HEAD_REVISION,
    }


def init(ctx: Context, admin_email: str | None, admin_password: str | None) -> dict[str, Any]:
    """Create or upgrade the store; optionally create the first admin (idempotent). The
    admin's email and password are checked first: a bad one creates nothing."""
    if admin_email:
        assert admin_password is not None
        accounts.check_first_admin(admin_email, admin_password)
    result = upgrade(ctx)
    result["admin"] = None
    if admin_email:
        assert admin_password is not None
        result["admin"] = accounts.create_first_admin(ctx, admin_email, admin_password)
        result["warnings"] = result["admin"].pop("warnings", [])
    return result
