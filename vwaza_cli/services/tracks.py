"""Tracks: add (staged durably, duration from the file), list, edit, move, remove."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from stdnum import isrc as stdnum_isrc
from stdnum.exceptions import ValidationError

from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db_processing
from vwaza_cli.db import releases as db
from vwaza_cli.db.models import TITLE_LENGTH, Release, Track, new_id
from vwaza_cli.enums import JobType, ProcessingStatus
from vwaza_cli.errors import InvalidInput, InvalidIsrc, TrackNotFound, TrackOrderTaken
from vwaza_cli.file_progress import Progress
from vwaza_cli.media import AudioInfo, display_name
from vwaza_cli.services import spool, uploads
from vwaza_cli.services.accounts import Actor, current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.lifecycle import ensure_editable
from vwaza_cli.services.metadata import TrackChange, checked_track
from vwaza_cli.services.processing import new_processing
from vwaza_cli.services.releases import describe, load_editable, load_release, owner_filter, touch
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.views import track_view
from vwaza_cli.textsafe import printable


def normalise_isrc(isrc: str | None) -> str | None:
    """Validate an ISRC and return it upper-case without separators (None stays None)."""
    if isrc is None or not isrc.strip():
        return None
    try:
        return str(stdnum_isrc.validate(isrc))
    except ValidationError:
        shown = printable(isrc)
        raise InvalidIsrc(
            f"invalid ISRC '{shown}': expected 12 characters CC-XXX-YY-NNNNN, e.g. USRC17607839"
        ) from None


def _check_order(session: Session, release_id: str, order: int | None) -> int:
    nxt = db.next_order(session, release_id)
    if order is None:
        return nxt
    if order < 1:
        raise InvalidInput(f"track order must be 1 or more, not {order}")
    if order > nxt:
        raise InvalidInput(f"track order {order} would leave a gap: the next free order is {nxt}")
    if db.order_taken(session, release_id, order):
        raise TrackOrderTaken(
            f"track {order} is already taken on this release: choose another --order, "
            "or `vwaza track move` the other one"
        )
    return order


def _default_title(path: Path) -> str:
    stem = display_name(Path(path.stem)).strip() or "Untitled"
    return stem[:TITLE_LENGTH]


@dataclass(frozen=True)
class TrackFields:
    """What a person says about a track (checked); the file says the rest."""

    title: str
    order: int
    isrc: str | None = None
    change: TrackChange = field(default_factory=TrackChange)  # the store metadata, as given


def new_track(
    release_id: str,
    fields: TrackFields,
    accepted: uploads.Accepted[AudioInfo],
    track_id: str | None = None,
) -> Track:
    """The one way a Track row is built (`track add`; catalog import writes its values)."""
    return Track(**track_values(release_id, fields, accepted, track_id or new_id()))


def track_values(
    release_id: str, fields: TrackFields, accepted: uploads.Accepted[AudioInfo], track_id: str
) -> dict[str, Any]:
    """A new track's columns (Any: each column's own type): what the person said, what the
    file is, the store metadata checked."""
    return {
        "id": track_id,
        "release_id": release_id,
        "title": fields.title,
        "audio_file": str(accepted.staged.path),
        "duration": accepted.info.duration,
        "order": fields.order,
        "isrc": fields.isrc,
        "audio_format": accepted.info.format,
        "featured_artists": [],
        "contributors": [],
        "sample_rate": accepted.info.sample_rate,
        "lossy": accepted.info.lossy,
        "audio_sha256": accepted.staged.sha256,
        **checked_track(fields.change, []),
    }


def _apply(track: Track, values: dict[str, Any]) -> None:
    """Checked values onto the row (Any: each column's own type)."""
    for name, value in values.items():
        setattr(track, name, value)


@dataclass(frozen=True)
class _Wanted:
    """What `track add` was asked, before the order is settled."""

    title: str
    order: int | None
    isrc: str | None
    change: TrackChange


def add_track(
    ctx: Context,
    release_id: str,
    path: Path,
    title: str | None = None,
    order: int | None = None,
    isrc: str | None = None,
    progress: Progress | None = None,
    change: TrackChange | None = None,
) -> dict[str, Any]:
    """Check what can be checked, stage the file, then record track and job together;
    ``progress`` is told how the copying and checking of the file go."""
    actor = current_actor(ctx)
    path = Path(path)
    title = clean_text(title, "title", TITLE_LENGTH) if title is not None else _default_title(path)
    isrc = normalise_isrc(isrc)
    change = change or TrackChange()
    checked_track(change, [])  # refused before the file is copied
    with ctx.tx() as session:
        release = load_release(session, actor, release_id)
        ensure_editable(release)
        _check_order(session, release.id, order)
    job_id = new_id()
    accepted = uploads.accept_audio(ctx.settings, path, job_id, progress)
    try:
        wanted = _Wanted(title, order, isrc, change)
        view = _record_track(ctx, actor, release_id, job_id, wanted, accepted)
    except BaseException:
        spool.discard([accepted.staged.path])
        raise
    return {**view, "upload_job_id": job_id, "warnings": list(accepted.warnings)}


def _record_track(
    ctx: Context,
    actor: Actor,
    release_id: str,
    job_id: str,
    wanted: _Wanted,
    accepted: uploads.Accepted[AudioInfo],
) -> dict[str, Any]:
    with ctx.tx() as session:
        release = load_editable(session, actor, release_id)
        order = _check_order(session, release.id, wanted.order)
        fields = TrackFields(wanted.title, order, wanted.isrc, wanted.change)
        track = new_track(release.id, fields, accepted)
        db.add_track(session, track)
        job = uploads.audio_job(ctx.settings, job_id, release.id, track.id, accepted)
        jobs.add_job(session, job)
        work = new_processing(ctx.settings, track.id, release.id, accepted.staged)
        db_processing.put(session, work)
        touch(release)
        return track_view(track, job, work)


def list_tracks(ctx: Context, release_id: str) -> list[dict[str, Any]]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        return describe(session, load_release(session, actor, release_id))["tracks"]


def _load_track(session: Session, actor: Actor, track_id: str) -> tuple[Track, Release]:
    """A visible track and its release, the release locked for the change."""
    found = db.find_track(session, track_id, owner_filter(actor))
    if found is None:
        raise TrackNotFound(f"no track {track_id}: see `vwaza track list RELEASE_ID`")
    release = db.lock_release(session, found.release_id)
    if release is None:  # deleted between the two reads
        raise TrackNotFound(f"no track {track_id}: see `vwaza track list RELEASE_ID`")
    ensure_editable(release)
    return session.get(Track, found.id) or found, release


def show_track(ctx: Context, track_id: str) -> dict[str, Any]:
    """A visible track with its measurements, warnings and renditions (any status)."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        found = db.find_track(session, track_id, owner_filter(actor))
        if found is None:
            raise TrackNotFound(f"no track {track_id}: see `vwaza track list RELEASE_ID`")
        return _view(session, found)


def _view(session: Session, track: Track) -> dict[str, Any]:
    job = jobs.jobs_by_target(session, [track.id]).get(track.id)
    return track_view(track, job, db_processing.find(session, track.id))


def edit_track(
    ctx: Context,
    track_id: str,
    title: str | None,
    isrc: str | None,
    preview_start: float | None = None,
    change: TrackChange | None = None,
) -> dict[str, Any]:
    """Change a track's title, ISRC, store metadata or where its preview starts (which
    remakes the preview: the daemon makes it again from the master)."""
    actor = current_actor(ctx)
    change = change or TrackChange()
    if title is None and isrc is None and preview_start is None and not change.given():
        raise InvalidInput(
            "nothing to change: give --title, --isrc, --preview-start or a store field "
            "(--explicit/--clean/--not-explicit, --featuring, --composer, --lyricist, --producer)"
        )
    with ctx.tx() as session:
        track, release = _load_track(session, actor, track_id)
        _apply(track, checked_track(change, list(track.contributors or [])))
        if preview_start is not None:
            _check_preview_start(track, preview_start)
        if title is not None:
            track.title = clean_text(title, "title", TITLE_LENGTH)
        if isrc is not None:
            track.isrc = normalise_isrc(isrc)  # an empty --isrc "" clears it
        if preview_start is not None and preview_start != track.preview_start:
            track.preview_start = preview_start
            _queue_preview(ctx, session, track)
        touch(release)
        session.flush()
        return _view(session, track)


def _check_preview_start(track: Track, start: float) -> None:
    if not math.isfinite(start) or start < 0 or start >= float(track.duration):
        raise InvalidInput(
            f"--preview-start must be between 0 and the track's length "
            f"({float(track.duration):.1f} s), not {start}"
        )


def _queue_preview(ctx: Context, session: Session, track: Track) -> None:
    """The preview made again from the master: where its processing left it (still staged,
    or in storage once uploaded: the daemon fetches it)."""
    current = db_processing.find(session, track.id)
    if current is not None and current.status != ProcessingStatus.DONE:
        return  # not processed yet: its processing reads preview_start when it runs
    master = jobs.master_of(session, track.id)
    if master is None:
        return  # staged before processing existed and gone: nothing to make it from
    staged = spool.StagedFile(Path(master.local_path), master.sha256, master.size)
    work = new_processing(
        ctx.settings, track.id, track.release_id, staged, measure=False, make=(JobType.PREVIEW,)
    )
    work.machine_id = master.machine_id
    db_processing.put(session, work)


def move_track(ctx: Context, track_id: str, to: int) -> list[dict[str, Any]]:
    """Move a track to position ``to``; the others shift so orders stay 1..n."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        track, release = _load_track(session, actor, track_id)
        ordered = [t.id for t in db.tracks_of(session, release.id)]
        if not 1 <= to <= len(ordered):
            raise InvalidInput(f"--to must be between 1 and {len(ordered)}")
        ordered.remove(track.id)
        ordered.insert(to - 1, track.id)
        db.renumber(session, release.id, ordered)
        touch(release)
        return describe(session, release)["tracks"]


def remove_track(ctx: Context, track_id: str) -> dict[str, Any]:
    actor = current_actor(ctx)
    with ctx.tx() as session:
        track, release = _load_track(session, actor, track_id)
        view = _view(session, track)
        staged = uploads.forget_files_of(
            session, jobs.of_track(track.id), db_processing.of_track(track.id)
        )
        db.delete_track(session, track.id)
        remaining = [t.id for t in db.tracks_of(session, release.id)]
        db.renumber(session, release.id, remaining)
        touch(release)
    spool.discard(staged)
    return {**view, "removed": True}
