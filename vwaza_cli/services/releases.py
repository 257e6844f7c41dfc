"""Releases: create, list, show, edit, cover, submit, delete; and the status lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vwaza_cli import clock
from vwaza_cli.errors import (
    IncompleteRelease,
    InvalidInput,
    ReleaseNotFound,
    StatusForbids,
)
from vwaza_cli.services import spool, uploads
from vwaza_cli.services.accounts import Actor, current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.views import release_view, track_view

EDITABLE = ("DRAFT", "REJECTED")
SUBMITTABLE = ("DRAFT", "REJECTED")
STATUSES = ("DRAFT", "PROCESSING", "PENDING_REVIEW", "PUBLISHED", "REJECTED")


def owner_filter(actor: Actor) -> str | None:
    """Artists see their own releases only; admins see everyone's."""
    return None if actor.is_admin else actor.id


def load_release(session: Any, actor: Actor, release_id: str, *, lock: bool = False) -> Any:
    from vwaza_cli.db import releases as db

    release = db.find_release(session, release_id, owner_filter(actor))
    if release is None:
        raise ReleaseNotFound(f"no release {release_id}: see `vwaza release list`")
    if lock:
        release = db.lock_release(session, release.id)
    return release


def ensure_editable(actor: Actor | None, release: Any) -> None:
    """Only DRAFT and REJECTED releases change, for admins too: what was reviewed (or is
    being reviewed, or uploaded) is what gets published."""
    status = str(release.status)
    if status not in EDITABLE:
        raise StatusForbids(
            f"release {release.id[:8]} is {status}: only DRAFT or REJECTED releases can change"
        )


def touch(release: Any) -> None:
    release.updated_at = clock.now()


def create_release(
    ctx: Context, title: str, genre: str, cover: Path | None = None
) -> dict[str, Any]:
    from vwaza_cli.db.models import Release

    actor = current_actor(ctx)
    release = Release(
        artist_id=actor.id,
        title=clean_text(title, "title", 300),
        genre=clean_text(genre, "genre", 100),
    )
    with ctx.tx() as session:
        session.add(release)
    if cover is None:
        return release_view(release)
    try:
        return set_cover(ctx, release.id, cover)
    except BaseException:
        _delete_quietly(ctx, release.id)  # a refused cover leaves no half-made release
        raise


def _delete_quietly(ctx: Context, release_id: str) -> None:
    from vwaza_cli.db import releases as db

    with ctx.tx() as session:
        db.delete_release(session, release_id)


def list_releases(
    ctx: Context, status: str | None, everyone: bool, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    from vwaza_cli.db import releases as db

    actor = current_actor(ctx)
    status = _check_status(status)
    if everyone and not actor.is_admin:
        from vwaza_cli.errors import RoleForbidden

        raise RoleForbidden("only an admin may list everyone's releases (--all)")
    owner = None if everyone else actor.id
    with ctx.tx() as session:
        rows = db.list_releases(session, owner, status, limit, offset)
        artists = db.releases_with_artists(session, rows)
        return [release_view(r, artists.get(r.artist_id)) for r in rows]


def _check_status(status: str | None) -> str | None:
    if status is None:
        return None
    status = status.upper()
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    return status


def show_release(ctx: Context, release_id: str) -> dict[str, Any]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id)
        return describe(session, release)


def describe(session: Any, release: Any) -> dict[str, Any]:
    """A release with its ordered tracks, each with its upload state."""
    from vwaza_cli.db import jobs
    from vwaza_cli.db import releases as db

    tracks = db.tracks_of(session, release.id)
    latest = jobs.jobs_by_target(session, [t.id for t in tracks] + [release.id])
    artist = db.releases_with_artists(session, [release]).get(release.artist_id)
    view = release_view(release, artist)
    view["cover_upload_status"] = (
        (str(latest[release.id].status) if release.id in latest else None)
        if release.cover_art
        else None
    )
    view["tracks"] = [track_view(t, latest.get(t.id)) for t in tracks]
    view["total_duration"] = round(sum(float(t.duration) for t in tracks), 3)
    return view


def edit_release(
    ctx: Context, release_id: str, title: str | None, genre: str | None
) -> dict[str, Any]:
    actor = current_actor(ctx)
    if title is None and genre is None:
        raise InvalidInput("nothing to change: give --title and/or --genre")
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        ensure_editable(actor, release)
        if title is not None:
            release.title = clean_text(title, "title", 300)
        if genre is not None:
            release.genre = clean_text(genre, "genre", 100)
        touch(release)
        return release_view(release)


def set_cover(ctx: Context, release_id: str, path: Path) -> dict[str, Any]:
    """Stage cover art durably, then record it and its upload job in one transaction."""
    from vwaza_cli.db import jobs
    from vwaza_cli.db.models import new_id

    actor = current_actor(ctx)
    with ctx.tx() as session:
        ensure_editable(actor, load_release(session, actor, release_id))
    job_id = new_id()
    accepted = uploads.accept_image(ctx.settings, Path(path), job_id)
    try:
        with ctx.tx() as session:
            release = load_release(session, actor, release_id, lock=True)
            ensure_editable(actor, release)
            replaced = jobs.drop_waiting_cover_jobs(session, release.id)
            jobs.schedule_object_removal(session, jobs.older_covers(release.id))
            jobs.drop_completed_cover_jobs(session, release.id)
            job = uploads.as_model(uploads.cover_job(ctx.settings, job_id, release.id, accepted))
            jobs.add_job(session, job)
            release.cover_art = str(accepted.staged.path)
            touch(release)
            view = release_view(release)
    except BaseException:
        spool.discard([accepted.staged.path])
        raise
    spool.discard(replaced)
    return {**view, "upload_job_id": job_id, "warnings": list(accepted.warnings)}


def submit(ctx: Context, release_id: str) -> dict[str, Any]:
    """DRAFT/REJECTED -> PROCESSING, and on to PENDING_REVIEW once every file is uploaded."""
    from vwaza_cli.db import releases as db

    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        status = str(release.status)
        if status not in SUBMITTABLE:
            raise StatusForbids(
                f"release {release.id[:8]} is {status}: only DRAFT or REJECTED releases can be "
                "submitted"
            )
        missing = missing_for_submit(db.count_tracks(session, release.id), bool(release.cover_art))
        if missing:
            raise IncompleteRelease(
                f"release {release.id[:8]} is incomplete: it needs {' and '.join(missing)}"
            )
        from vwaza_cli.db import jobs

        jobs.retry_failed_of_release(session, release.id, clock.now())
        _set_status(release, "PROCESSING")
        release.rejection_reason = None
        release.submitted_at = clock.now()
        advance_if_uploaded(session, release)
        return release_view(release)


def missing_for_submit(track_count: int, has_cover: bool) -> list[str]:
    """The completeness rule: what a release still needs before it can be submitted."""
    missing = []
    if track_count == 0:
        missing.append("at least one track (`vwaza track add`)")
    if not has_cover:
        missing.append("cover art (`vwaza release cover`)")
    return missing


def _set_status(release: Any, status: str) -> None:
    from vwaza_cli.db.models import ReleaseStatus

    release.status = ReleaseStatus(status)
    touch(release)


def advance_if_uploaded(session: Any, release: Any) -> bool:
    """PROCESSING -> PENDING_REVIEW once no upload of the release is unfinished.

    The one place that makes this move: `release submit` and the daemon both call it.
    """
    from vwaza_cli.db import jobs

    if str(release.status) != "PROCESSING" or jobs.unfinished_count(session, release.id):
        return False
    _set_status(release, "PENDING_REVIEW")
    return True


def reopen_after_failed_upload(session: Any, release_id: str) -> bool:
    """A file that can never be uploaded sends its PROCESSING release back to DRAFT, so the
    artist can replace it (and `submit` again, which retries what failed)."""
    from vwaza_cli.db import releases as db

    release = db.lock_release(session, release_id)
    if release is None or str(release.status) != "PROCESSING":
        return False
    _set_status(release, "DRAFT")
    return True


def advance_release(session: Any, release_id: str) -> bool:
    from vwaza_cli.db import releases as db

    release = db.lock_release(session, release_id)
    return release is not None and advance_if_uploaded(session, release)


def delete_release(ctx: Context, release_id: str) -> dict[str, Any]:
    from vwaza_cli.db import jobs
    from vwaza_cli.db import releases as db

    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        if str(release.status) == "PUBLISHED" and not actor.is_admin:
            raise StatusForbids(
                f"release {release.id[:8]} is PUBLISHED: only an admin can delete it"
            )
        staged = jobs.staged_paths_of_release(session, release.id)
        jobs.schedule_object_removal(session, jobs.of_release(release.id))
        view = release_view(release)
        db.delete_release(session, release.id)
    spool.discard(staged)
    return {**view, "deleted": True, "staged_files_removed": len(staged)}
