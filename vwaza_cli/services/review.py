"""Review: admins list what waits, look at it, approve or reject with a reason."""

from __future__ import annotations

from typing import Any

from vwaza_cli.db import jobs
from vwaza_cli.db import releases as db
from vwaza_cli.enums import ReleaseStatus
from vwaza_cli.errors import InvalidInput, StatusForbids
from vwaza_cli.services import lifecycle
from vwaza_cli.services.accounts import require_admin
from vwaza_cli.services.context import Context
from vwaza_cli.services.lifecycle import Mover
from vwaza_cli.services.releases import describe, load_release
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.views import release_view

REASON_LENGTH = 2000


def pending(ctx: Context, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    require_admin(ctx)
    with ctx.tx() as session:
        rows = db.list_releases(
            session, None, ReleaseStatus.PENDING_REVIEW, limit, offset, oldest_first=True
        )
        artists = db.releases_with_artists(session, rows)
        return [release_view(r, artists.get(r.artist_id)) for r in rows]


def show(ctx: Context, release_id: str) -> dict[str, Any]:
    actor = require_admin(ctx)
    with ctx.tx() as session:
        return describe(session, load_release(session, actor, release_id))


def _decide(
    ctx: Context, release_id: str, verdict: ReleaseStatus, reason: str | None
) -> dict[str, Any]:
    actor = require_admin(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        if jobs.unfinished_count(session, release.id):  # a file is still (re)uploading
            raise StatusForbids(lifecycle.Refusal(release.id, release.status, verdict).message())
        lifecycle.move(release, verdict, Mover.ADMIN, reason=reason)
        return release_view(release)


def approve(ctx: Context, release_id: str) -> dict[str, Any]:
    return _decide(ctx, release_id, ReleaseStatus.PUBLISHED, None)


def reject(ctx: Context, release_id: str, reason: str) -> dict[str, Any]:
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason the artist can act on: --reason TEXT")
    return _decide(
        ctx, release_id, ReleaseStatus.REJECTED, clean_text(reason, "reason", REASON_LENGTH)
    )
