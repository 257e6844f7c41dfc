"""Review: admins list what waits, look at it, approve or reject with a reason."""

from __future__ import annotations

from typing import Any

from vwaza_cli.errors import InvalidInput, StatusForbids
from vwaza_cli.services.accounts import require_admin
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import describe, load_release, release_view, touch
from vwaza_cli.services.text import clean_text


def pending(ctx: Context, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    from vwaza_cli.db import releases as db

    require_admin(ctx)
    with ctx.tx() as session:
        rows = db.list_releases(session, None, "PENDING_REVIEW", limit, offset, oldest_first=True)
        artists = db.releases_with_artists(session, rows)
        return [release_view(r, artists.get(r.artist_id)) for r in rows]


def show(ctx: Context, release_id: str) -> dict[str, Any]:
    actor = require_admin(ctx)
    with ctx.tx() as session:
        return describe(session, load_release(session, actor, release_id))


def _decide(ctx: Context, release_id: str, status: str, reason: str | None) -> dict[str, Any]:
    from vwaza_cli.db.models import ReleaseStatus

    actor = require_admin(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        from vwaza_cli.db import jobs

        if str(release.status) != "PENDING_REVIEW" or jobs.unfinished_count(session, release.id):
            raise StatusForbids(
                f"release {release.id[:8]} is {release.status}: only PENDING_REVIEW releases "
                "can be approved or rejected"
            )
        release.status = ReleaseStatus(status)
        release.rejection_reason = reason
        touch(release)
        return release_view(release)


def approve(ctx: Context, release_id: str) -> dict[str, Any]:
    return _decide(ctx, release_id, "PUBLISHED", None)


def reject(ctx: Context, release_id: str, reason: str) -> dict[str, Any]:
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason the artist can act on: --reason TEXT")
    return _decide(ctx, release_id, "REJECTED", clean_text(reason, "reason", 2000))
