"""Releases: create, list, show, edit, cover, submit, delete; the moves of their lifecycle.

The lock order: a transaction that writes a release's tracks, jobs or processing rows locks
the release's row first (db.lock_release), then the rest. Rows referencing the release take
a key-share lock on it when inserted, so a transaction taking the release lock last could
wait for one that waits for it (PostgreSQL's deadlock detector would fail one of them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from vwaza_cli import clock
from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db_processing
from vwaza_cli.db import releases as db
from vwaza_cli.db.models import GENRE_LENGTH, TITLE_LENGTH, Release, new_id
from vwaza_cli.enums import ProcessingStatus, ReleaseStatus, parse
from vwaza_cli.errors import IncompleteRelease, InvalidInput, ReleaseNotFound, RoleForbidden
from vwaza_cli.media import ImageInfo
from vwaza_cli.services import lifecycle, spool, uploads
from vwaza_cli.services.accounts import Actor, current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.lifecycle import Mover
from vwaza_cli.services.measurements import warnings_for
from vwaza_cli.services.metadata import ReleaseChange, checked_release, release_type
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.views import release_view, track_view


def owner_filter(actor: Actor) -> str | None:
    """Artists see their own releases only; admins see everyone's."""
    return None if actor.is_admin else actor.id


def mover(actor: Actor) -> Mover:
    """Who an actor is to the lifecycle (an artist only ever reaches their own releases)."""
    return Mover.ADMIN if actor.is_admin else Mover.ARTIST


def new_release(
    artist_id: str,
    title: str,
    genre: str,
    external_id: str | None = None,
    change: ReleaseChange | None = None,
) -> Release:
    """The one way a Release row is built (`release create` and catalog import)."""
    release = Release(
        artist_id=artist_id,
        title=clean_text(title, "title", TITLE_LENGTH),
        genre=clean_text(genre, "genre", GENRE_LENGTH),
        external_id=external_id,
    )
    if change is not None:
        apply(release, checked_release(change, {}))
    return release


def apply(row: Release, values: dict[str, Any]) -> None:
    """Checked values onto the row (Any: each column's own type)."""
    for name, value in values.items():
        setattr(row, name, value)


def load_release(session: Session, actor: Actor, release_id: str, *, lock: bool = False) -> Release:
    release = db.find_release(session, release_id, owner_filter(actor))
    if release is None:
        raise ReleaseNotFound(f"no release {release_id}: see `vwaza release list`")
    if lock:
        release = db.lock_release(session, release.id) or release
    return release


def load_editable(session: Session, actor: Actor, release_id: str) -> Release:
    """A visible release, locked for the change, in a status that allows changes."""
    release = load_release(session, actor, release_id, lock=True)
    lifecycle.ensure_editable(release)
    return release


def touch(release: Release) -> None:
    release.updated_at = clock.now()


def create_release(
    ctx: Context,
    title: str,
    genre: str,
    cover: Path | None = None,
    change: ReleaseChange | None = None,
) -> dict[str, Any]:
    release = new_release(current_actor(ctx).id, title, genre, change=change)
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
    with ctx.tx() as session:
        db.delete_release(session, release_id)


def list_releases(
    ctx: Context, status: str | None, everyone: bool, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    actor = current_actor(ctx)
    wanted = parse_status(status)
    if everyone and not actor.is_admin:
        raise RoleForbidden("only an admin may list everyone's releases (--all)")
    with ctx.tx() as session:
        rows = db.list_releases(session, None if everyone else actor.id, wanted, limit, offset)
        artists = db.releases_with_artists(session, rows)
        return [release_view(r, artists.get(r.artist_id)) for r in rows]


def may_list_all(ctx: Context) -> bool:
    """Whether the caller may list everyone's releases (`release list --all`): admins."""
    return current_actor(ctx).is_admin


def parse_status(status: str | None) -> ReleaseStatus | None:
    return None if status is None else parse(ReleaseStatus, status, "status")


def show_release(ctx: Context, release_id: str) -> dict[str, Any]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        return describe(session, load_release(session, actor, release_id))


def describe(session: Session, release: Release) -> dict[str, Any]:
    """A release with its ordered tracks, each with its upload state."""
    tracks = db.tracks_of(session, release.id)
    latest = jobs.jobs_by_target(session, [t.id for t in tracks] + [release.id])
    work = db_processing.of_tracks(session, [t.id for t in tracks])
    artist = db.releases_with_artists(session, [release]).get(release.artist_id)
    cover_job = latest.get(release.id) if release.cover_art else None
    view = release_view(release, artist)
    view["cover_upload_status"] = str(cover_job.status) if cover_job else None
    view["tracks"] = [track_view(t, latest.get(t.id), work.get(t.id)) for t in tracks]
    view["warnings"] = [w for track in view["tracks"] for w in track["warnings"]]
    view["problems"] = _processing_problems(view["tracks"])
    view["total_duration"] = round(sum(float(t.duration) for t in tracks), 3)
    view["release_type"] = str(release_type([float(t.duration) for t in tracks]))
    return view


def _processing_problems(tracks: list[dict[str, Any]]) -> list[str]:
    """Why tracks could not be processed (a master that cannot be decoded after all): the
    reason the release went back to DRAFT."""
    return [
        f'track {t["order"]} "{t["title"]}": processing failed: {t["processing"]["error"]}'
        for t in tracks
        if t["processing"] and t["processing"]["status"] == ProcessingStatus.FAILED
    ]


def edit_release(
    ctx: Context,
    release_id: str,
    title: str | None,
    genre: str | None,
    change: ReleaseChange | None = None,
) -> dict[str, Any]:
    actor = current_actor(ctx)
    change = change or ReleaseChange()
    if title is None and genre is None and not change.given():
        raise InvalidInput(
            "nothing to change: give --title, --genre or a store field "
            "(--upc, --release-date, --label, --p-line, --c-line, --language, ...)"
        )
    with ctx.tx() as session:
        release = load_editable(session, actor, release_id)
        dates = {
            "release_date": release.release_date,
            "original_release_date": release.original_release_date,
        }
        values = checked_release(change, dates)
        if title is not None:
            values["title"] = clean_text(title, "title", TITLE_LENGTH)
        if genre is not None:
            values["genre"] = clean_text(genre, "genre", GENRE_LENGTH)
        apply(release, values)
        touch(release)
        return release_view(release)


def set_cover(ctx: Context, release_id: str, path: Path) -> dict[str, Any]:
    """Stage cover art durably, then record it and its upload job in one transaction."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        lifecycle.ensure_editable(load_release(session, actor, release_id))
    job_id = new_id()
    accepted = uploads.accept_image(ctx.settings, Path(path), job_id)
    try:
        with ctx.tx() as session:
            release = load_editable(session, actor, release_id)
            replaced = _replace_cover(session, ctx, release, job_id, accepted)
            view = release_view(release)
    except BaseException:
        spool.discard([accepted.staged.path])
        raise
    spool.discard(replaced)
    return {**view, "upload_job_id": job_id, "warnings": list(accepted.warnings)}


def _replace_cover(
    session: Session,
    ctx: Context,
    release: Release,
    job_id: str,
    accepted: uploads.Accepted[ImageInfo],
) -> list[str]:
    """The new cover and its job in; the old cover's waiting jobs and stored objects out.
    Returns the staged files that the replaced jobs leave behind."""
    replaced = jobs.drop_waiting_cover_jobs(session, release.id)
    jobs.schedule_object_removal(session, jobs.older_covers(release.id))
    jobs.drop_completed_cover_jobs(session, release.id)
    jobs.add_job(session, uploads.cover_job(ctx.settings, job_id, release.id, accepted))
    release.cover_art = str(accepted.staged.path)
    release.cover_width, release.cover_height = accepted.info.width, accepted.info.height
    release.cover_sha256 = accepted.staged.sha256
    touch(release)
    return replaced


def submit(ctx: Context, release_id: str) -> dict[str, Any]:
    """DRAFT/REJECTED -> PROCESSING, and on to PENDING_REVIEW once every file is uploaded."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        if lifecycle.allowed(release.status, ReleaseStatus.PROCESSING, mover(actor)):
            ensure_complete(release, db.count_tracks(session, release.id))
        lifecycle.move(release, ReleaseStatus.PROCESSING, mover(actor))
        jobs.retry_failed_of_release(session, release.id, clock.now())
        db_processing.requeue_failed_of_release(session, release.id, clock.now())
        advance_if_uploaded(session, release)
        return {**release_view(release), "warnings": measured_warnings(session, release.id)}


def measured_warnings(session: Session, release_id: str) -> list[str]:
    """What the measurements made so far say about the release's tracks."""
    return [
        warning
        for track in db.tracks_of(session, release_id)
        for warning in warnings_for(track.order, track.title, track.analysis)
    ]


def ensure_complete(release: Release, track_count: int) -> None:
    missing = missing_for_submit(track_count, bool(release.cover_art))
    if missing:
        raise IncompleteRelease(
            f"release {release.id[:8]} is incomplete: it needs {' and '.join(missing)}"
        )


def missing_for_submit(track_count: int, has_cover: bool) -> list[str]:
    """The completeness rule: what a release still needs before it can be submitted."""
    missing = []
    if track_count == 0:
        missing.append("at least one track (`vwaza track add`)")
    if not has_cover:
        missing.append("cover art (`vwaza release cover`)")
    return missing


def advance_if_uploaded(session: Session, release: Release) -> bool:
    """PROCESSING -> PENDING_REVIEW once every track is processed (measured, renditions
    made) and no upload of the release is unfinished (`release submit`, the daemon's
    uploads and its processing all come here)."""
    if db_processing.unfinished_in_release(session, release.id):
        return False
    if jobs.unfinished_count(session, release.id):
        return False
    return lifecycle.move_if_allowed(release, ReleaseStatus.PENDING_REVIEW, Mover.SYSTEM)


def advance_release(session: Session, release_id: str) -> bool:
    release = db.lock_release(session, release_id)
    return release is not None and advance_if_uploaded(session, release)


def reopen_after_failed_upload(session: Session, release_id: str) -> bool:
    """A file that can never be uploaded sends its PROCESSING release back to DRAFT, so the
    artist can replace it (and `submit` again, which retries what failed)."""
    release = db.lock_release(session, release_id)
    if release is None:
        return False
    return lifecycle.move_if_allowed(release, ReleaseStatus.DRAFT, Mover.SYSTEM)


def delete_release(ctx: Context, release_id: str) -> dict[str, Any]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id, lock=True)
        lifecycle.ensure_deletable(release, mover(actor))
        view = release_view(release)
        staged = uploads.forget_files_of(
            session, jobs.of_release(release.id), db_processing.of_release(release.id)
        )
        db.delete_release(session, release.id)
    spool.discard(staged)
    return {**view, "deleted": True, "staged_files_removed": len(staged)}
