"""Catalog import and export (shared/spec/catalog.md), on the same rules as `release` and
`track`: the same text, ISRC, media and completeness checks, the same staging.

Import validates everything first and reports every problem at once; only a clean catalog
writes anything. Files are copied into the spool's incoming folder and checked during
validation (each file is read once for the copy, once more from the page cache to decode);
then each release is written in its own transaction, with plain-row bulk inserts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from vwaza_cli.db import catalog as db
from vwaza_cli.db.models import (
    GENRE_LENGTH,
    TITLE_LENGTH,
    Release,
    Track,
    UploadJob,
    User,
    new_id,
)
from vwaza_cli.enums import ReleaseStatus, Role
from vwaza_cli.errors import InvalidInput, VwazaError
from vwaza_cli.services import lifecycle, spool, uploads
from vwaza_cli.services.accounts import Actor, current_actor
from vwaza_cli.services.catalog_format import (
    Collector,
    ReleaseEntry,
    TrackEntry,
    read_catalog,
)
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import missing_for_submit, mover, new_release
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.tracks import TrackFields, new_track, normalise_isrc
from vwaza_cli.services.views import release_view
from vwaza_cli.storage.download import is_url

CHECK_WORKERS = 4


class ImportProgress(Protocol):
    def begin(self, files: int, total_bytes: int, releases: int) -> None: ...
    def file_done(self, size: int) -> None: ...
    def release_done(self) -> None: ...


class _Silent:
    def begin(self, files: int, total_bytes: int, releases: int) -> None:
        pass

    def file_done(self, size: int) -> None:
        pass

    def release_done(self) -> None:
        pass


@dataclass
class Plan:
    """One release of the catalog, resolved: who owns it, whether it exists already."""

    entry: ReleaseEntry
    artist_id: str | None = None
    existing: db.ExistingRelease | None = None
    submit: bool = False
    isrcs: dict[int, str | None] = field(default_factory=dict)
    # field, place and source -> the checked copy (audio or image, as the field says)
    checked: dict[str, uploads.Checked[Any]] = field(default_factory=dict)
    # (place in the release: 0 the cover, then the tracks', warning): said in file order
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def to_create(self) -> bool:
        return self.existing is None


# --- validation ------------------------------------------------------------------------------


def _resolve_artists(ctx: Context, actor: Actor, plans: list[Plan], problems: Collector) -> None:
    wanted = [p.entry.artist_email for p in plans if p.entry.artist_email]
    with ctx.tx() as session:
        users = db.users_by_email(session, wanted)
    for plan in plans:
        email = plan.entry.artist_email
        if not actor.is_admin:
            if email and email.lower() != actor.email.lower():
                problems.on_release(
                    plan.entry,
                    "artist_email",
                    "you may import only your own releases (leave artist_email out)",
                )
            plan.artist_id = actor.id
            continue
        if not email:
            problems.on_release(
                plan.entry, "artist_email", "required when an admin imports: whose release is it?"
            )
            continue
        user = users.get(email.lower())
        if user is None or user.role != Role.ARTIST:
            problems.on_release(plan.entry, "artist_email", no_artist(email, user))
            continue
        plan.artist_id = user.id


def no_artist(email: str, user: User | None) -> str:
    """Why an email names no artist, and how to make it name one."""
    create = (
        f'create the account with "vwaza admin user create --email {email} --role ARTIST '
        '--artist-name NAME", or have the artist sign up with "vwaza auth register"'
    )
    if user is None:
        return f"no artist with email {email}: {create}"
    return f"{email} is an {user.role} account, not an artist's: releases belong to artists"


def _find_existing(ctx: Context, plans: list[Plan]) -> None:
    with ctx.tx() as session:
        rows = db.existing_releases(session, [p.artist_id for p in plans if p.artist_id])
    by_external = {(r.artist_id, r.external_id): r for r in rows if r.external_id}
    by_title = {(r.artist_id, r.title): r for r in rows}
    for plan in plans:
        if plan.artist_id is None:
            continue
        entry = plan.entry
        if entry.external_id:
            plan.existing = by_external.get((plan.artist_id, entry.external_id))
        elif entry.title:
            plan.existing = by_title.get((plan.artist_id, entry.title))


def _check_duplicates(plans: list[Plan], problems: Collector) -> None:
    seen: set[tuple[Any, ...]] = set()
    for plan in plans:
        entry = plan.entry
        key = (
            (plan.artist_id, "id", entry.external_id)
            if entry.external_id
            else (plan.artist_id, "title", entry.title)
        )
        if key in seen:
            field_name = "external_id" if entry.external_id else "title"
            problems.on_release(entry, field_name, "appears twice in this catalog")
        seen.add(key)


def _check_text(plan: Plan, problems: Collector) -> None:
    entry = plan.entry
    for name, limit in (("title", TITLE_LENGTH), ("genre", GENRE_LENGTH)):
        value = getattr(entry, name)
        if value is None:
            if name not in entry.bad:  # a malformed value was reported already
                problems.on_release(entry, name, "required")
            continue
        try:
            setattr(entry, name, clean_text(value, name, limit))
        except InvalidInput as exc:
            problems.on_release(entry, name, exc.message)


def _check_tracks(plan: Plan, problems: Collector) -> None:
    entry = plan.entry
    orders = [t.order for t in entry.tracks if t.order is not None]
    places = Counter(t.where for t in entry.tracks)
    for track in entry.tracks:
        if places[track.where] > 1:  # "track 1" names two tracks: say which one
            problems.tell_apart(entry, track)
        if track.title is None:
            if "title" not in track.bad:
                problems.on_track(entry, track, "title", "required")
        else:
            try:
                track.title = clean_text(track.title, "title", TITLE_LENGTH)
            except InvalidInput as exc:
                problems.on_track(entry, track, "title", exc.message)
        if track.file is None and "file" not in track.bad:
            problems.on_track(entry, track, "file", "required")
        if track.order is not None and (track.order < 1 or orders.count(track.order) > 1):
            reason = "is used by another track" if track.order >= 1 else "must be 1 or more"
            problems.on_track(entry, track, "order", f"{track.order} {reason}")
        try:
            plan.isrcs[id(track)] = normalise_isrc(track.isrc)
        except InvalidInput as exc:
            problems.on_track(entry, track, "isrc", exc.message)
    if (
        orders
        and len(set(orders)) == len(orders)
        and sorted(orders) != list(range(1, len(orders) + 1))
    ):
        problems.on_release(entry, "order", f"track orders must run 1..{len(orders)} without gaps")


def _check_submit(plan: Plan, problems: Collector) -> None:
    if not plan.submit:
        return
    for need in missing_for_submit(len(plan.entry.tracks), bool(plan.entry.cover_art)):
        problems.on_release(plan.entry, "submit", f"cannot submit: it needs {need.split(' (')[0]}")


# --- files -----------------------------------------------------------------------------------


def resolve_source(catalog: Path, value: str) -> str | Path:
    """A catalog's file reference: an absolute path, a path relative to the catalog's folder,
    a file:// URL, or an https URL (streamed down; an http one is refused when fetched)."""
    if is_url(value):
        return value
    if value.startswith("file://"):
        return Path(unquote(urlparse(value).path))
    path = Path(value).expanduser()
    return path if path.is_absolute() else catalog.parent / path


@dataclass(frozen=True)
class _FileCheck:
    plan: Plan
    track: int | None  # order, None for the cover
    position: int  # the track's place in the list, 0 for the cover
    field: str
    source: str | Path
    kind: uploads.MediaRule[Any]  # audio or image, as the field says


def _file_checks(catalog: Path, plans: Iterable[Plan]) -> list[_FileCheck]:
    checks = []
    for plan in plans:
        entry = plan.entry
        if entry.cover_art:
            checks.append(
                _FileCheck(
                    plan,
                    None,
                    0,
                    "cover_art",
                    resolve_source(catalog, entry.cover_art),
                    uploads.IMAGE,
                )
            )
        for track in entry.tracks:
            if track.file:
                checks.append(
                    _FileCheck(
                        plan,
                        track.where,
                        track.position,
                        "file",
                        resolve_source(catalog, track.file),
                        uploads.AUDIO,
                    )
                )
    return checks


def _source_size(source: str | Path) -> int:
    try:
        return Path(source).stat().st_size if isinstance(source, Path) else 0
    except (OSError, ValueError):  # ValueError: a name with a NUL, reported by its check
        return 0


def _run_file_checks(
    ctx: Context,
    checks: list[_FileCheck],
    problems: Collector,
    progress: ImportProgress,
    dry_run: bool,
) -> None:
    """Copy and check every file (in parallel); a dry run checks and throws the copy away."""

    def one(check: _FileCheck) -> tuple[_FileCheck, uploads.Checked[Any] | None, str | None]:
        try:
            checked = uploads.check_copy(ctx.settings, check.source, check.kind)
        except VwazaError as exc:
            return check, None, exc.message
        finally:
            progress.file_done(_source_size(check.source))
        check.plan.warnings.extend(_warnings(check, checked.info.warnings))
        if dry_run:
            checked.discard()
            return check, None, None
        return check, checked, None

    with ThreadPoolExecutor(max_workers=CHECK_WORKERS) as pool:
        for check, checked, error in pool.map(one, checks):
            if error is not None:
                at = (check.plan.entry.index, check.position)
                problems.add(check.plan.entry.label, check.track, check.field, error, at)
            elif checked is not None:
                check.plan.checked[_key(check)] = checked


def _warnings(check: _FileCheck, found: Iterable[str]) -> list[tuple[int, str]]:
    """A file's warnings, said with its place in the release (and kept in file order)."""
    where = "cover_art" if check.track is None else f"track {check.track}"
    return [(check.position, f"{where}: {warning}") for warning in found]


def _key(check: _FileCheck) -> str:
    return f"{check.field}:{check.track}:{check.source}"


def _discard_all(plans: Iterable[Plan]) -> None:
    for plan in plans:
        for checked in plan.checked.values():
            checked.discard()
        plan.checked.clear()


# --- import ----------------------------------------------------------------------------------


def import_catalog(
    ctx: Context,
    path: Path,
    *,
    dry_run: bool = False,
    submit_all: bool = False,
    progress: ImportProgress | None = None,
) -> dict[str, Any]:
    progress = progress or _Silent()
    actor = current_actor(ctx)
    path = Path(path)
    entries, problems = read_catalog(path)
    plans = [Plan(entry, submit=entry.submit or submit_all) for entry in entries]
    _resolve_artists(ctx, actor, plans, problems)
    _find_existing(ctx, plans)
    _check_duplicates(plans, problems)
    creating = [p for p in plans if p.to_create]
    for plan in creating:
        _check_text(plan, problems)
        _check_tracks(plan, problems)
        _check_submit(plan, problems)
    # Files are checked even when the structure has problems, so that every problem is
    # reported at once; nothing is kept then (as in a dry run).
    checks = _file_checks(path, creating)
    progress.begin(len(checks), sum(_source_size(c.source) for c in checks), len(creating))
    try:
        _run_file_checks(ctx, checks, problems, progress, dry_run or bool(problems.problems))
        problems.raise_if_any()
        if dry_run:
            return _dry_run_report(plans)
        return _write_all(ctx, actor, path, plans, progress)
    finally:
        _discard_all(plans)


def _dry_run_report(plans: list[Plan]) -> dict[str, Any]:
    rows = [_report_row(p, "would_create" if p.to_create else "would_skip") for p in plans]
    return {
        "would_create": sum(p.to_create for p in plans),
        "would_skip": sum(not p.to_create for p in plans),
        "releases": rows,
    }


def _report_row(plan: Plan, result: str, created: dict[str, Any] | None = None) -> dict[str, Any]:
    existing = plan.existing
    release_id, status, tracks = None, None, len(plan.entry.tracks)
    if created is not None:
        release_id, status = created["id"], created["status"]
    elif existing is not None:
        release_id, status, tracks = existing.id, str(existing.status), existing.tracks
    return {
        "external_id": plan.entry.external_id,
        "id": release_id,
        "title": plan.entry.title,
        "status": status,
        "tracks": tracks,
        "result": result,
        "warnings": [warning for _, warning in sorted(plan.warnings, key=lambda w: w[0])],
    }


def _write_all(
    ctx: Context, actor: Actor, path: Path, plans: list[Plan], progress: ImportProgress
) -> dict[str, Any]:
    rows = []
    for plan in plans:
        if not plan.to_create:
            rows.append(_report_row(plan, "skipped"))
            continue
        created = _write_release(ctx, actor, path, plan)
        rows.append(_report_row(plan, "created" if created else "skipped", created))
        progress.release_done()
    return {
        "created": sum(r["result"] == "created" for r in rows),
        "skipped": sum(r["result"] == "skipped" for r in rows),
        "releases": rows,
    }


def _write_release(ctx: Context, actor: Actor, path: Path, plan: Plan) -> dict[str, Any] | None:
    """Rename the release's checked copies into the spool, then one transaction for the
    release, its tracks and its jobs. Returns None when someone created it meanwhile."""
    committed: list[Path] = []

    def accept(field_name: str, order: int | None, source: str) -> tuple[str, Any]:
        job_id = new_id()
        checked = plan.checked.pop(
            _key(
                _FileCheck(plan, order, 0, field_name, resolve_source(path, source), uploads.AUDIO)
            )
        )
        accepted = checked.commit(ctx.settings, job_id, sync_folder=False)
        committed.append(accepted.staged.path)
        return job_id, accepted

    try:
        release, tracks, upload_jobs = _rows(ctx, actor, plan, accept)
        spool.fsync_dir(ctx.settings.spool_dir)  # the release's renames, durable at once
        with ctx.tx() as session:
            inserted = db.insert_release(session, release, tracks, upload_jobs)
    except BaseException:
        spool.discard(committed)
        raise
    if not inserted:  # another import created the same external_id meanwhile
        spool.discard(committed)
        return None
    return release_view(release)


def _rows(
    ctx: Context,
    actor: Actor,
    plan: Plan,
    accept: Callable[[str, int | None, str], tuple[str, Any]],  # Any: an Accepted of either kind
) -> tuple[Release, list[Track], list[UploadJob]]:
    """The release's rows, built by the same constructors as `release create`, `release
    cover` and `track add`; a release to submit makes the lifecycle's submit move."""
    entry = plan.entry
    release = new_release(
        plan.artist_id or "", entry.title or "", entry.genre or "", entry.external_id
    )
    upload_jobs, tracks = [], []
    if entry.cover_art:
        job_id, accepted = accept("cover_art", None, entry.cover_art)
        release.cover_art = str(accepted.staged.path)
        upload_jobs.append(uploads.cover_job(ctx.settings, job_id, release.id, accepted))
    for entry_track in entry.tracks:
        job_id, accepted = accept("file", entry_track.where, entry_track.file or "")
        track = new_track(release.id, _track_fields(plan, entry_track), accepted)
        tracks.append(track)
        upload_jobs.append(uploads.audio_job(ctx.settings, job_id, release.id, track.id, accepted))
    if plan.submit:
        lifecycle.move(release, ReleaseStatus.PROCESSING, mover(actor))
    return release, tracks, upload_jobs


def _track_fields(plan: Plan, track: TrackEntry) -> TrackFields:
    # validation has made sure of a title; a track without an order takes its place
    return TrackFields(track.title or "", track.where, plan.isrcs.get(id(track)))


# --- export ----------------------------------------------------------------------------------


def export_catalog(ctx: Context) -> dict[str, Any]:
    """The caller's releases (an admin's: everyone's) in the import format, plus statuses."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        releases, tracks, emails = db.export_rows(session, None if actor.is_admin else actor.id)
    by_release: dict[str, list[Track]] = {}
    for track in tracks:
        by_release.setdefault(track.release_id, []).append(track)
    return {
        "releases": [_export_release(r, emails[r.id], by_release.get(r.id, [])) for r in releases]
    }


# REJECTED is not resubmitted by a round trip: the reviewer's verdict stands
SUBMITTED = frozenset(
    {ReleaseStatus.PROCESSING, ReleaseStatus.PENDING_REVIEW, ReleaseStatus.PUBLISHED}
)


def _export_release(release: Release, email: str, tracks: list[Track]) -> dict[str, Any]:
    return {
        "external_id": release.external_id,
        "artist_email": email,
        "title": release.title,
        "genre": release.genre,
        "cover_art": release.cover_art,
        "submit": release.status in SUBMITTED,
        "status": str(release.status),
        "tracks": [
            {"order": t.order, "title": t.title, "file": t.audio_file, "isrc": t.isrc}
            for t in sorted(tracks, key=lambda t: t.order)
        ],
    }
