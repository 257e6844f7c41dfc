"""Taking a user's file in: stage it durably, check it, and describe its upload job.

Shared by `track add`, `release cover` and catalog import, so every path into the spool
follows the same rules: copy first (hashing), then check the copy (the bytes checked are
the bytes uploaded), then rename it into the spool under its job's ID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vwaza_cli import media
from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db_processing
from vwaza_cli.db.models import JobType, UploadJob
from vwaza_cli.errors import InvalidMedia
from vwaza_cli.file_progress import OnBytes, Progress
from vwaza_cli.services import spool
from vwaza_cli.settings import Settings
from vwaza_cli.storage.download import is_url

Info = TypeVar("Info", media.AudioInfo, media.ImageInfo)


@dataclass(frozen=True)
class MediaRule(Generic[Info]):
    """How one kind of file is taken in: the check that decodes it, the size refused
    before a byte is copied."""

    inspect: Callable[[Path, OnBytes | None], Info]
    max_bytes: int


# Covers by the media rules; audio far above any real master.
AUDIO = MediaRule(media.inspect_audio, media.AUDIO_MAX_BYTES)
IMAGE = MediaRule(media.inspect_image, media.COVER_MAX_BYTES)


@dataclass(frozen=True)
class Checked(Generic[Info]):
    """A checked copy still in ``spool/.incoming``: nothing refers to it yet."""

    temp: spool.StagedFile
    info: Info

    def commit(
        self, settings: Settings, spool_name: str, *, sync_folder: bool = True
    ) -> Accepted[Info]:
        name = f"{spool_name}.{self.info.extension}"
        final = spool.commit(settings, self.temp, name, sync_folder=sync_folder)
        return Accepted(final, self.info, tuple(self.info.warnings))

    def discard(self) -> None:
        spool.discard([self.temp.path])


@dataclass(frozen=True)
class Accepted(Generic[Info]):
    staged: spool.StagedFile  # committed into the spool, named by ID
    info: Info
    warnings: tuple[str, ...]


def check_copy(
    settings: Settings,
    source: str | Path,
    rule: MediaRule[Info],
    on_bytes: OnBytes | None = None,
    on_checked: OnBytes | None = None,
) -> Checked[Info]:
    """Copy ``source`` (a path, or an https URL) into the spool's incoming folder and check
    it; a refused file leaves nothing behind and is named as the user gave it.
    ``on_bytes`` and ``on_checked`` are told the bytes copied, then checked."""
    remote = isinstance(source, str) and is_url(source)
    if remote:
        temp = spool.download_in(settings, str(source), rule.max_bytes, on_bytes)
    else:
        temp = spool.copy_in(settings, spool.usable_path(Path(source)), rule.max_bytes, on_bytes)
    try:
        info = rule.inspect(temp.path, on_checked)
    except InvalidMedia as exc:
        temp.path.unlink(missing_ok=True)
        reason = exc.message.split(": ", 1)[-1]
        shown = str(source) if remote else media.display_name(Path(source))
        raise InvalidMedia(f"{shown}: {reason}") from None
    except BaseException:
        temp.path.unlink(missing_ok=True)
        raise
    return Checked(temp, info)


def accept_audio(
    settings: Settings, source: Path, spool_name: str, progress: Progress | None = None
) -> Accepted[media.AudioInfo]:
    """``spool_name`` is the ID the staged copy is named after (no extension)."""
    told = progress or Progress()
    checked = check_copy(settings, source, AUDIO, told.copied, told.checked)
    return checked.commit(settings, spool_name)


def accept_image(
    settings: Settings, source: Path, spool_name: str, progress: Progress | None = None
) -> Accepted[media.ImageInfo]:
    told = progress or Progress()
    return check_copy(settings, source, IMAGE, told.copied, told.checked).commit(
        settings, spool_name
    )


def audio_job(
    settings: Settings,
    job_id: str,
    release_id: str,
    track_id: str,
    accepted: Accepted[media.AudioInfo],
) -> UploadJob:
    """The upload job of a track's audio; its key is deterministic, so a retry can never
    store a second copy."""
    return UploadJob(**audio_job_values(settings, job_id, release_id, track_id, accepted))


def audio_job_values(
    settings: Settings,
    job_id: str,
    release_id: str,
    track_id: str,
    accepted: Accepted[media.AudioInfo],
) -> dict[str, Any]:
    """What ``audio_job`` sets, as attribute values (the model's defaults fill the rest):
    catalog import writes them as a plain row."""
    key = f"audio/{release_id}/{track_id}/{accepted.staged.sha256}.{accepted.info.extension}"
    return _job(settings, job_id, JobType.AUDIO, release_id, track_id, accepted, key)


def cover_job(
    settings: Settings, job_id: str, release_id: str, accepted: Accepted[media.ImageInfo]
) -> UploadJob:
    """The upload job of a release's cover art."""
    return UploadJob(**cover_job_values(settings, job_id, release_id, accepted))


def cover_job_values(
    settings: Settings, job_id: str, release_id: str, accepted: Accepted[media.ImageInfo]
) -> dict[str, Any]:
    """What ``cover_job`` sets, as attribute values (see ``audio_job_values``)."""
    key = f"cover/{release_id}/{accepted.staged.sha256}.{accepted.info.extension}"
    return _job(settings, job_id, JobType.COVER_ART, release_id, None, accepted, key)


def _job(
    settings: Settings,
    job_id: str,
    job_type: JobType,
    release_id: str,
    track_id: str | None,
    accepted: Accepted[media.AudioInfo] | Accepted[media.ImageInfo],
    key: str,
) -> dict[str, Any]:
    content_type = accepted.info.content_type
    return job_values(
        settings, job_id, job_type, release_id, track_id, accepted.staged, content_type, key
    )


def new_job(
    settings: Settings,
    job_id: str,
    job_type: JobType,
    release_id: str,
    track_id: str | None,
    staged: spool.StagedFile,
    content_type: str,
    key: str,
) -> UploadJob:
    """The one way an UploadJob row is built (single commands, catalog import and the
    renditions alike); the model's defaults fill in the rest (PENDING, due now, no attempts
    yet)."""
    return UploadJob(
        **job_values(settings, job_id, job_type, release_id, track_id, staged, content_type, key)
    )


def job_values(
    settings: Settings,
    job_id: str,
    job_type: JobType,
    release_id: str,
    track_id: str | None,
    staged: spool.StagedFile,
    content_type: str,
    key: str,
) -> dict[str, Any]:
    """``new_job``'s values: the ones an UploadJob is built from, or a plain row of."""
    return {
        "id": job_id,
        "target_id": track_id or release_id,
        "release_id": release_id,
        "track_id": track_id,
        "type": job_type,
        "local_path": str(staged.path),
        "sha256": staged.sha256,
        "size": staged.size,
        "content_type": content_type,
        "object_key": key,
        "machine_id": settings.machine_id,
    }


def forget_files_of(
    session: Session,
    owner: sa.ColumnElement[bool],
    processing_owner: sa.ColumnElement[bool],
) -> list[str]:
    """Before an owner (a user, release or track) is deleted: its uploaded objects are
    scheduled for removal from storage, and its staged files (those its processing still
    kept, too) are returned, for the caller to discard once the deletion is committed.
    ``owner`` picks its upload jobs, ``processing_owner`` its processing rows."""
    staged = jobs.staged_paths(session, owner)
    jobs.schedule_object_removal(session, owner)
    masters = db_processing.masters_of(session, processing_owner)
    return list(dict.fromkeys(staged + masters))  # a master not uploaded yet is in both
