"""`release list` and `review list` answered by db.reads, without loading the ORM; whatever
that cannot answer (no session, an old or missing store, a refusal) goes to the services in
releases.py and review.py, which hold the rules and say what is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vwaza_cli import clock
from vwaza_cli.db import reads
from vwaza_cli.enums import ReleaseStatus
from vwaza_cli.services.tokens import hash_token
from vwaza_cli.services.views import release_view

if TYPE_CHECKING:
    from vwaza_cli.services.context import Context


def list_releases(
    ctx: Context, status: str | None, everyone: bool, limit: int, offset: int
) -> list[dict[str, Any]]:
    try:
        return _page(ctx, status, everyone, limit, offset)
    except reads.Unanswered:
        from vwaza_cli.services import releases

        return releases.list_releases(ctx, status, everyone, limit, offset)


def pending(ctx: Context, limit: int, offset: int) -> list[dict[str, Any]]:
    try:
        return _page(ctx, ReleaseStatus.PENDING_REVIEW, True, limit, offset, oldest_first=True)
    except reads.Unanswered:
        from vwaza_cli.services import review

        return review.pending(ctx, limit, offset)


def may_list_all(ctx: Context) -> bool:
    try:
        with reads.reading(ctx.settings.database_url) as reader:
            return _caller(ctx, reader).is_admin
    except reads.Unanswered:
        from vwaza_cli.services import releases

        return releases.may_list_all(ctx)


def _page(
    ctx: Context,
    status: str | None,
    everyone: bool,
    limit: int,
    offset: int,
    oldest_first: bool = False,
) -> list[dict[str, Any]]:
    wanted = _status(status)
    with reads.reading(ctx.settings.database_url) as reader:
        actor = _caller(ctx, reader)
        if everyone and not actor.is_admin:
            raise reads.Unanswered("a refusal")  # the service refuses, in its words
        rows = reader.releases(None if everyone else actor.id, wanted, limit, offset, oldest_first)
        artists = reader.artists(rows)
    return [release_view(row, artists.get(row.artist_id)) for row in rows]


def _caller(ctx: Context, reader: reads.Reader) -> reads.UserRow:
    if not ctx.token or not reader.schema_is_current():
        raise reads.Unanswered("no session, or a store to upgrade")
    user = reader.session_user(hash_token(ctx.token), clock.now())
    if user is None:
        raise reads.Unanswered("a session that does not hold")
    return user


def _status(status: str | None) -> ReleaseStatus | None:
    if status is None:
        return None
    try:
        return ReleaseStatus(status.upper())
    except ValueError:
        raise reads.Unanswered(f"status {status!r}") from None
