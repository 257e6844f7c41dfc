"""Catalog import and export (shared/spec/catalog.md), on the same rules as `release` and
`track`: the same text, ISRC, media and completeness checks, the same staging.

Import reads the catalog twice, one release at a time (memory holds a release, not the
catalog):
1. Validation: every release's structure, text and ISRCs, and every file, checked where it
   lies (a decode-through of the user's file, in parallel; nothing is copied, so a dry run
   writes nothing). Each distinct file (by device and inode) is checked once however many
   tracks name it. Every problem is reported at once; any problem: nothing is written.
2. Writing: release by release, each distinct file is copied into the spool once (hashing
   as it goes; refused if it changed since it was checked) and given to each further track
   naming it as a hard link; then the release, its tracks and jobs in one transaction. An
   interrupted import keeps the releases committed and removes its partial files; run again,
   it skips those and does the rest.
While it stages, the import holds the sweep's staging lock, so a running daemon never
removes a file it has staged and not yet committed.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from vwaza_cli import media
from vwaza_cli.db import catalog as db
from vwaza_cli.db.models import (
    GENRE_LENGTH,
    TITLE_LENGTH,
    Release,
    Track,
    User,
    column_values,
    new_id,
)
from vwaza_cli.emails import email_key
from vwaza_cli.enums import ReleaseStatus, Role
from vwaza_cli.errors import InvalidInput, InvalidMedia, VwazaError
from vwaza_cli.services import catalog_rows as rows_of
from vwaza_cli.services import lifecycle, spool, sweep, uploads
from vwaza_cli.services.accounts import Actor, current_actor
from vwaza_cli.services.catalog_format import (
    CatalogReader,
    Collector,
    ReleaseEntry,
    TrackEntry,
    resolve_source,
)
from vwaza_cli.services.context import Context
from vwaza_cli.services.metadata import ReleaseChange, TrackChange, checked_release, checked_track
from vwaza_cli.services.releases import missing_for_submit, mover, new_release
from vwaza_cli.services.text import clean_text
from vwaza_cli.services.tracks import TrackFields, normalise_isrc
from vwaza_cli.services.views import day, release_view
from vwaza_cli.storage.download import is_url

CHECK_WORKERS = 4
_MUTAGEN_FORMATS = (
    "aac ac3 aiff apev2 asf dsdiff dsf easyid3 easymp4 flac id3 monkeysaudio mp3 mp4 musepack "
    "oggflac oggopus oggspeex oggtheora oggvorbis optimfrog smf tak trueaudio wave wavpack"
).split()
IN_FLIGHT = 2 * CHECK_WORKERS  # distinct files being checked at once


class ImportProgress(Protocol):
    def checking(self) -> None: ...
    def checked(self, size: int) -> None: ...  # a distinct file checked, of this many bytes
    def staging(self, files: int, total_bytes: int, releases: int) -> None: ...
    def copied(self, size: int) -> None: ...  # bytes copied into the spool
    def staged(self) -> None: ...  # a track's or cover's file is in the spool
    def release_done(self) -> None: ...
    # through a team server, before the import: the distinct files to send, then bytes sent
    def sending(self, files: int, total_bytes: int) -> None: ...
    def sent(self, size: int) -> None: ...


class _Silent:
    def checking(self) -> None:
        pass

    def checked(self, size: int) -> None:
        pass

    def staging(self, files: int, total_bytes: int, releases: int) -> None:
        pass

    def copied(self, size: int) -> None:
        pass

    def staged(self) -> None:
        pass

    def release_done(self) -> None:
        pass

    def sending(self, files: int, total_bytes: int) -> None:
        pass

    def sent(self, size: int) -> None:
        pass


@dataclass
class Plan:
    """One release of the catalog, resolved: who owns it, whether it exists already."""

    entry: ReleaseEntry
    artist_id: str | None = None
    existing: db.ExistingRelease | None = None
    submit: bool = False
    isrcs: dict[int, str | None] = field(default_factory=dict)

    @property
    def to_create(self) -> bool:
        return self.existing is None


@dataclass(slots=True)
class Summary:
    """What validation keeps of a release once it has moved on: enough for the report and
    to write it (its entry is read again then)."""

    index: int
    label: str
    external_id: str | None
    title: str | None
    tracks: int
    digest: bytes
    artist_id: str | None
    existing: db.ExistingRelease | None
    submit: bool
    # (place in the release: 0 the cover, then the tracks', warning): said in file order
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def to_create(self) -> bool:
        return self.existing is None

    def said(self) -> list[str]:
        return [warning for _, warning in sorted(self.warnings, key=lambda w: w[0])]


def _summary(plan: Plan) -> Summary:
    entry = plan.entry
    return Summary(
        entry.index,
        entry.label,
        entry.external_id,
        entry.title,
        len(entry.tracks),
        entry.digest,
        plan.artist_id,
        plan.existing,
        plan.submit,
    )


# --- validation ------------------------------------------------------------------------------


class _People:
    """Artists by email and their releases already in the store, each looked up once."""

    def __init__(self, ctx: Context, actor: Actor) -> None:
        self.ctx, self.actor = ctx, actor
        self.users: dict[str, User | None] = {}
        self.releases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def resolve(self, plan: Plan, problems: Collector) -> None:
        email, actor = plan.entry.artist_email, self.actor
        if not actor.is_admin:
            if email and email_key(email) != email_key(actor.email):
                problems.on_release(
                    plan.entry,
                    "artist_email",
                    "you may import only your own releases (leave artist_email out)",
                )
            plan.artist_id = actor.id
            return
        if not email:
            problems.on_release(
                plan.entry, "artist_email", "required when an admin imports: whose release is it?"
            )
            return
        user = self._user(email)
        if user is None or user.role != Role.ARTIST:
            problems.on_release(plan.entry, "artist_email", no_artist(email, user))
            return
        plan.artist_id = user.id

    def _user(self, email: str) -> User | None:
        key = email_key(email)
        if key not in self.users:
            with self.ctx.tx() as session:
                self.users[key] = db.users_by_email(session, [key]).get(key)
        return self.users[key]

    def existing(self, plan: Plan) -> db.ExistingRelease | None:
        if plan.artist_id is None:
            return None
        by_external, by_title = self._releases_of(plan.artist_id)
        entry = plan.entry
        if entry.external_id:
            return by_external.get(entry.external_id)
        return by_title.get(entry.title) if entry.title else None

    def _releases_of(self, artist_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if artist_id not in self.releases:
            with self.ctx.tx() as session:
                rows = db.existing_releases(session, [artist_id])
            self.releases[artist_id] = (
                {r.external_id: r for r in rows if r.external_id},
                {r.title: r for r in rows},
            )
        return self.releases[artist_id]


def no_artist(email: str, user: User | None) -> str:
    """Why an email names no artist, and how to make it name one."""
    create = (
        f'create the account with "vwaza admin user create --email {email} --role ARTIST '
        '--artist-name NAME", or have the artist sign up with "vwaza auth register"'
    )
    if user is None:
        return f"no artist with email {email}: {create}"
    return f"{email} is an {user.role} account, not an artist's: releases belong to artists"


def _check_duplicate(plan: Plan, seen: set[tuple[Any, ...]], problems: Collector) -> None:
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


def _check_metadata(plan: Plan, problems: Collector) -> None:
    """The store metadata by metadata.py's rules, each given field on its own (so that a
    problem names its field), then the release's fields together (the dates' order)."""
    entry = plan.entry
    bad = _field_problems(entry.change, _check_release_change)
    for name, message in bad:
        problems.on_release(entry, name, message)
    if not bad:
        try:
            _check_release_change(entry.change)
        except InvalidInput as exc:  # the one rule between fields: the original date's
            problems.on_release(entry, "original_release_date", exc.message)
    for track in entry.tracks:
        for name, message in _field_problems(track.change, _check_track_change):
            problems.on_track(entry, track, track.given_as.get(name, name), message)


def _check_release_change(change: ReleaseChange) -> None:
    checked_release(change, {})  # a new release: no dates of its own yet


def _check_track_change(change: TrackChange) -> None:
    checked_track(change, [])  # a new track: no credits of its own yet


def _field_problems(
    change: ReleaseChange | TrackChange, check: Callable[[Any], None]
) -> list[tuple[str, str]]:
    """(field, message) for each given field of ``change`` that ``check`` refuses alone."""
    found = []
    for item in fields(change):
        value = getattr(change, item.name)
        if value is None:
            continue
        try:
            check(type(change)(**{item.name: value}))
        except InvalidInput as exc:
            found.append((item.name, exc.message))
    return found


def _check_submit(plan: Plan, problems: Collector) -> None:
    if not plan.submit:
        return
    for need in missing_for_submit(len(plan.entry.tracks), bool(plan.entry.cover_art)):
        problems.on_release(plan.entry, "submit", f"cannot submit: it needs {need.split(' (')[0]}")


# --- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A file reference that names no file to check here, and why: the problem it gets."""

    message: str


Source = str | Path | Refused
# Where a catalog's file reference is, given the catalog's path and the reference as written:
# on one machine `resolve_source`; through a team server, the upload the client sent for it.
Resolve = Callable[[Path, str], Source]


@dataclass(slots=True)
class _Use:
    """A track or cover naming a file: where a problem or warning about the file goes."""

    summary: Summary
    track: int | None  # the track's order; None for the cover
    position: int  # the track's place in the list; 0 for the cover
    field: str

    def where(self) -> str:
        return "cover_art" if self.track is None else f"track {self.track}"


@dataclass(slots=True)
class _File:
    """One distinct file of the catalog, checked once however many tracks name it."""

    source: Source
    rule: uploads.MediaRule[Any]
    stamp: spool.Stamp | None = None  # of the file as checked (None: downloaded)
    size: int = 0
    info: Any = None  # media.AudioInfo or media.ImageInfo, once accepted
    error: str | None = None
    uses: int = 0  # uses by the releases to create not staged yet
    master: spool.StagedFile | None = None  # a copy in spool/.incoming for the uses to come
    waiting: list[_Use] | None = None  # uses seen while its check runs


def _identity(source: Source, field_name: str) -> tuple[Any, ...]:
    """The same file, whichever way it is named (relative, absolute, via a link)."""
    if isinstance(source, Refused):
        return (field_name, "refused", source.message)
    if isinstance(source, str):
        return (field_name, "url", source)
    try:
        info = os.stat(source)
    except (OSError, ValueError):  # missing, or a name the OS cannot take: its check says so
        return (field_name, "path", str(source))
    return (field_name, info.st_dev, info.st_ino)


def _check_in_place(path: Path, rule: uploads.MediaRule[Any]) -> tuple[Any, spool.Stamp]:
    """Decode the user's file through where it lies; its stamp says it is the same later."""
    path = spool.usable_path(path)
    try:
        before: os.stat_result | None = os.stat(path)
    except OSError:
        before = None  # the check names the reason
    if before is not None and stat.S_ISREG(before.st_mode) and before.st_size > rule.max_bytes:
        raise spool.too_large(media.display_name(path), rule.max_bytes)
    info = rule.inspect(path, None)
    after = os.stat(path)
    if before is None or spool.stamp_of(before) != spool.stamp_of(after):
        raise InvalidMedia(f"{media.display_name(path)}: changed while it was being checked")
    return info, spool.stamp_of(after)


# Every module the media checks import on first use (mutagen.File's format modules among
# them): loaded once in the main thread before the checking threads start, because threads
# importing them at the same moment can deadlock on the import locks, and Python then
# raises in one of them (the file would be refused for it).
_DECODER_MODULES = (
    *(f"mutagen.{name}" for name in _MUTAGEN_FORMATS),
    "soundfile",
    "numpy",
    "av",
    "PIL.Image",
)


def _load_decoders() -> None:
    import importlib

    for name in _DECODER_MODULES:
        with suppress(ImportError):  # a format an older mutagen lacks
            importlib.import_module(name)
    from PIL import Image

    Image.init()  # Pillow's format plugins, imported at the first open otherwise


class _Files:
    """The catalog's distinct files: checked in parallel during validation, staged (copied
    once, linked for each further use) while writing."""

    def __init__(self, ctx: Context, progress: ImportProgress, dry_run: bool) -> None:
        self.settings, self.progress, self.dry_run = ctx.settings, progress, dry_run
        self.records: dict[tuple[Any, ...], _File] = {}
        self.pool = ThreadPoolExecutor(max_workers=CHECK_WORKERS)
        self.running: dict[Future[None], _File] = {}

    def use(self, use: _Use, source: Source, problems: Collector) -> None:
        rule = uploads.IMAGE if use.field == "cover_art" else uploads.AUDIO
        key = _identity(source, use.field)
        record = self.records.get(key)
        if record is None:
            if not self.records:
                _load_decoders()
            record = self.records[key] = _File(source, rule)
            self._start(record, problems)
        record.uses += 1
        if record.waiting is not None:
            record.waiting.append(use)
        else:
            self._settle(record, use, problems)

    def _start(self, record: _File, problems: Collector) -> None:
        while len(self.running) >= IN_FLIGHT:
            self._reap(problems)
        record.waiting = []
        self.running[self.pool.submit(self._check, record)] = record

    def _check(self, record: _File) -> None:
        """In a worker thread: this record only."""
        source, rule = record.source, record.rule
        try:
            if isinstance(source, Refused):
                raise InvalidMedia(source.message)
            if isinstance(source, str):  # an https file: only a copy can be checked
                checked = uploads.check_copy(self.settings, source, rule)
                record.info, record.size = checked.info, checked.temp.size
                if self.dry_run:
                    checked.discard()
                else:
                    record.master = checked.temp
            else:
                record.info, record.stamp = _check_in_place(source, rule)
                record.size = record.stamp[2]
        except VwazaError as exc:
            record.error = exc.message

    def _reap(self, problems: Collector) -> None:
        done, _ = wait(self.running, return_when=FIRST_COMPLETED)
        for future in done:
            record = self.running.pop(future)
            future.result()  # a bug in a check surfaces here
            self.progress.checked(record.size)
            waiting, record.waiting = record.waiting or [], None
            for use in waiting:
                self._settle(record, use, problems)

    def _settle(self, record: _File, use: _Use, problems: Collector) -> None:
        summary = use.summary
        if record.error is not None:
            at = (summary.index, use.position)
            problems.add(summary.label, use.track, use.field, record.error, at)
            return
        summary.warnings.extend((use.position, f"{use.where()}: {w}") for w in record.info.warnings)

    def finish(self, problems: Collector) -> None:
        while self.running:
            self._reap(problems)

    def to_stage(self) -> tuple[int, int]:
        """Uses to stage, and the bytes of the distinct files to copy for them."""
        used = [r for r in self.records.values() if r.uses and r.info is not None]
        return sum(r.uses for r in used), sum(r.size for r in used if r.master is None)

    def _master(self, record: _File) -> spool.StagedFile:
        """The record's copy in the incoming folder, made at its first use."""
        if record.master is None:
            assert isinstance(record.source, Path)  # a download has its master from the check
            assert record.stamp is not None
            record.master = spool.copy_checked_in(
                self.settings,
                spool.usable_path(record.source),
                record.rule.max_bytes,
                record.stamp,
                self.progress.copied,
            )
        return record.master

    def stage(self, source: Source, field_name: str, job_id: str) -> uploads.Accepted[Any]:
        """The file as one more spool file, named by ``job_id``: copied at its first use,
        a link to that copy at the next ones, the copy itself at the last."""
        record = self.records.get(_identity(source, field_name))
        if record is None or record.info is None or record.uses < 1:
            shown = _shown(source)
            raise InvalidMedia(f"{shown}: changed since it was checked: run the import again")
        master = self._master(record)
        name = f"{job_id}.{record.info.extension}"
        record.uses -= 1
        if record.uses:
            staged = spool.link_in(self.settings, master, name)
        else:
            staged = spool.commit(self.settings, master, name, sync_folder=False)
            record.master = None
        self.progress.staged()
        return uploads.Accepted(staged, record.info, tuple(record.info.warnings))

    def close(self) -> None:
        """Stop checking (an interrupt), and remove the copies no release took."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        masters = [r.master.path for r in self.records.values() if r.master is not None]
        spool.discard(masters)


def _shown(source: Source) -> str:
    if isinstance(source, Refused):
        return source.message
    return source if isinstance(source, str) else media.display_name(source)


def _validate(
    ctx: Context, actor: Actor, path: Path, submit_all: bool, files: _Files, resolve: Resolve
) -> tuple[list[Summary], Collector]:
    """Pass 1: every release and file checked; problems collected, nothing written."""
    reader = CatalogReader(path)
    problems = reader.problems
    summaries = []
    for plan in _planned(ctx, actor, reader, submit_all):
        summary = _summary(plan)
        if plan.to_create:
            _check_release(plan, problems)
            for use, source in _uses(path, summary, plan.entry, resolve):
                files.use(use, source, problems)
        summaries.append(summary)
    files.finish(problems)
    return summaries, problems


def _planned(ctx: Context, actor: Actor, reader: CatalogReader, submit_all: bool) -> Iterator[Plan]:
    """The catalog's releases one at a time: whose each is, whether it exists already, and
    whether the catalog names it twice."""
    people = _People(ctx, actor)
    seen: set[tuple[Any, ...]] = set()
    for entry in reader.entries():
        plan = Plan(entry, submit=entry.submit or submit_all)
        people.resolve(plan, reader.problems)
        plan.existing = people.existing(plan)
        _check_duplicate(plan, seen, reader.problems)
        yield plan


def files_to_send(ctx: Context, path: Path, *, submit_all: bool = False) -> list[str]:
    """What a client of a team server sends before it imports the catalog at ``path``: the
    file references (as written, each once) of the releases to create, but https URLs. A
    catalog that cannot be read at all is refused here; its other problems are the import's
    to report, with its files' (every problem at once, as on one machine)."""
    reader = CatalogReader(Path(path))
    wanted: dict[str, None] = {}  # in the catalog's order, each once
    for plan in _planned(ctx, current_actor(ctx), reader, submit_all):
        if plan.to_create:
            for reference in (plan.entry.cover_art, *(t.file for t in plan.entry.tracks)):
                if reference and not is_url(reference) and _is_text(reference):
                    wanted[reference] = None
    return list(wanted)


def _is_text(reference: str) -> bool:
    """A reference a client can be asked for: no lone surrogate (no file is named so; the
    import refuses it as not sent)."""
    try:
        reference.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_release(plan: Plan, problems: Collector) -> None:
    _check_text(plan, problems)
    _check_tracks(plan, problems)
    _check_metadata(plan, problems)
    _check_submit(plan, problems)


def _uses(
    path: Path, summary: Summary, entry: ReleaseEntry, resolve: Resolve
) -> Iterator[tuple[_Use, Source]]:
    if entry.cover_art:
        yield _Use(summary, None, 0, "cover_art"), resolve(path, entry.cover_art)
    for track in entry.tracks:
        if track.file:
            use = _Use(summary, track.where, track.position, "file")
            yield use, resolve(path, track.file)


# --- import ----------------------------------------------------------------------------------


def import_catalog(
    ctx: Context,
    path: Path,
    *,
    dry_run: bool = False,
    submit_all: bool = False,
    progress: ImportProgress | None = None,
    resolve: Resolve = resolve_source,
) -> dict[str, Any]:
    """Import the catalog at ``path``; ``resolve`` says where each file it names is."""
    progress = progress or _Silent()
    actor = current_actor(ctx)
    path = Path(path)
    with ExitStack() as stack:
        if not dry_run:  # a dry run writes nothing, not even the lock
            stack.enter_context(sweep.staging(ctx.settings))
        files = _Files(ctx, progress, dry_run)
        stack.callback(files.close)
        progress.checking()
        try:
            summaries, problems = _validate(ctx, actor, path, submit_all, files, resolve)
        except KeyboardInterrupt:
            raise KeyboardInterrupt("nothing was imported") from None
        problems.raise_if_any()
        if dry_run:
            return _dry_run_report(summaries)
        return _write_all(ctx, actor, path, summaries, files, progress, resolve)
    raise AssertionError("unreachable")  # mypy: ExitStack may swallow exceptions


def _dry_run_report(summaries: list[Summary]) -> dict[str, Any]:
    rows = [_report_row(s, "would_create" if s.to_create else "would_skip") for s in summaries]
    return {
        "would_create": sum(s.to_create for s in summaries),
        "would_skip": sum(not s.to_create for s in summaries),
        "releases": rows,
    }


def _report_row(
    summary: Summary, result: str, created: dict[str, Any] | None = None
) -> dict[str, Any]:
    existing = summary.existing
    release_id, status, tracks = None, None, summary.tracks
    if created is not None:
        release_id, status = created["id"], created["status"]
    elif existing is not None:
        release_id, status, tracks = existing.id, str(existing.status), existing.tracks
    return {
        "external_id": summary.external_id,
        "id": release_id,
        "title": summary.title,
        "status": status,
        "tracks": tracks,
        "result": result,
        "warnings": summary.said(),
    }


def _changed(path: Path) -> InvalidInput:
    return InvalidInput(
        f"{media.display_name(path)} changed during the import: run it again (the releases "
        "imported so far are kept, and skipped then)"
    )


def _write_all(
    ctx: Context,
    actor: Actor,
    path: Path,
    summaries: list[Summary],
    files: _Files,
    progress: ImportProgress,
    resolve: Resolve,
) -> dict[str, Any]:
    """Pass 2: the catalog read again, each release written as soon as its files are in."""
    to_stage, total_bytes = files.to_stage()
    progress.staging(to_stage, total_bytes, sum(s.to_create for s in summaries))
    reader = CatalogReader(path)
    entries = reader.entries()
    rows: list[dict[str, Any]] = []
    last = max((s.index for s in summaries if s.to_create), default=None)
    try:
        for summary in summaries:
            entry = next(entries, None)
            if entry is None or entry.digest != summary.digest:
                raise _changed(path)
            if not summary.to_create:
                rows.append(_report_row(summary, "skipped"))
                continue
            plan = Plan(entry, summary.artist_id, None, summary.submit)
            _check_release(plan, reader.problems)  # cleans the text, reads the ISRCs again
            if reader.problems.problems:
                raise _changed(path)
            created = _write_release(ctx, actor, path, plan, files, resolve, summary.index == last)
            rows.append(_report_row(summary, "created" if created else "skipped", created))
            progress.release_done()
    except KeyboardInterrupt:
        done = sum(r["result"] == "created" for r in rows)
        raise KeyboardInterrupt(
            f"{done} release(s) imported, kept; run the same import again for the rest"
        ) from None
    return {
        "created": sum(r["result"] == "created" for r in rows),
        "skipped": sum(r["result"] == "skipped" for r in rows),
        "releases": rows,
    }


def _write_release(
    ctx: Context,
    actor: Actor,
    path: Path,
    plan: Plan,
    files: _Files,
    resolve: Resolve,
    last: bool,
) -> dict[str, Any] | None:
    """Stage the release's files into the spool, then one transaction for the release, its
    tracks and its jobs. Returns None when someone created it meanwhile."""
    committed: list[Path] = []

    def accept(field_name: str, source: str) -> tuple[str, Any]:
        job_id = new_id()
        accepted = files.stage(resolve(path, source), field_name, job_id)
        committed.append(accepted.staged.path)
        return job_id, accepted

    try:
        release, rows = _rows(ctx, actor, plan, accept)
        spool.fsync_dir(ctx.settings.spool_dir)  # the release's renames, durable at once
        with ctx.tx() as session:
            inserted = db.insert_release(session, rows, last=last)
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
    accept: Callable[[str, str], tuple[str, Any]],  # Any: an Accepted of either kind
) -> tuple[Release, db.ReleaseRows]:
    """The release (built by `release create`'s constructor: the lifecycle moves it) and
    its rows, the others as plain values with the columns `release cover` and `track add`
    give theirs (``catalog_rows``); a release to submit makes the lifecycle's submit move."""
    entry, settings = plan.entry, ctx.settings
    release = new_release(
        plan.artist_id or "", entry.title or "", entry.genre or "", entry.external_id, entry.change
    )
    jobs, tracks, work = [], [], []
    if entry.cover_art:
        job_id, accepted = accept("cover_art", entry.cover_art)
        release.cover_art = str(accepted.staged.path)
        release.cover_width, release.cover_height = accepted.info.width, accepted.info.height
        release.cover_sha256 = accepted.staged.sha256
        jobs.append(rows_of.cover_job_row(settings, job_id, release.id, accepted))
    for entry_track in entry.tracks:
        job_id, accepted = accept("file", entry_track.file or "")
        track_id = new_id()
        fields = _track_fields(plan, entry_track)
        tracks.append(rows_of.track_row(release.id, fields, accepted, track_id))
        jobs.append(rows_of.audio_job_row(settings, job_id, release.id, track_id, accepted))
        work.append(rows_of.processing_row(settings, track_id, release.id, accepted.staged))
    if plan.submit:
        lifecycle.move(release, ReleaseStatus.PROCESSING, mover(actor))
    return release, db.ReleaseRows(column_values(release), tracks, jobs, work)


def _track_fields(plan: Plan, track: TrackEntry) -> TrackFields:
    # validation has made sure of a title; a track without an order takes its place
    return TrackFields(track.title or "", track.where, plan.isrcs.get(id(track)), track.change)


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
        **_export_metadata(release),
        "tracks": [_export_track(t) for t in sorted(tracks, key=lambda t: t.order)],
    }


def _export_metadata(release: Release) -> dict[str, Any]:
    """The release's store metadata under its catalog keys: dates ISO, the UPC's 13 digits."""
    return {
        "upc": release.upc,
        "release_date": day(release.release_date),
        "original_release_date": day(release.original_release_date),
        "label": release.label,
        "p_line": release.p_line,
        "c_line": release.c_line,
        "language": release.language,
    }


def _export_track(track: Track) -> dict[str, Any]:
    return {
        "order": track.order,
        "title": track.title,
        "file": track.audio_file,
        "isrc": track.isrc,
        "explicit": None if track.explicit is None else str(track.explicit),
        "featured_artists": list(track.featured_artists or []),
        "contributors": [dict(c) for c in track.contributors or []],
    }
