"""Taking a user's file in: stage it durably, check it, and describe its upload job.

Shared by `track add`, `release cover` and catalog import, so every path into the spool
follows the same rules: copy first (hashing), then check the copy (the bytes checked are
the bytes uploaded), then rename it into the spool under its job's ID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vwaza_cli.errors import InvalidMedia
from vwaza_cli.services import spool
from vwaza_cli.settings import Settings

AUDIO = "audio"
IMAGE = "image"
# Refused before a byte is copied: covers by the media rules, audio far above any real master.
MAX_BYTES = {IMAGE: 20_000_000, AUDIO: 8 * 1024**3}


@dataclass(frozen=True)
class Checked:
    """A checked copy still in ``spool/.incoming``: nothing refers to it yet."""

    temp: spool.StagedFile
    info: Any  # media.AudioInfo | media.ImageInfo

    def commit(self, settings: Settings, spool_name: str, *, sync_folder: bool = True) -> Accepted:
        name = f"{spool_name}.{self.info.extension}"
        final = spool.commit(settings, self.temp, name, sync_folder=sync_folder)
        return Accepted(final, self.info, tuple(self.info.warnings))

    def discard(self) -> None:
        spool.discard([self.temp.path])


@dataclass(frozen=True)
class Accepted:
    staged: spool.StagedFile  # committed into the spool, named by ID
    info: Any
    warnings: tuple[str, ...]


def _inspector(kind: str) -> Callable[[Path], Any]:
    from vwaza_cli.media import inspect_audio, inspect_image

    return inspect_audio if kind == AUDIO else inspect_image


def check_copy(
    settings: Settings,
    source: str | Path,
    kind: str,
    on_bytes: Callable[[int], None] | None = None,
) -> Checked:
    """Copy ``source`` (a path, or an http(s) URL) into the spool's incoming folder and check
    it; a refused file leaves nothing behind and is named as the user gave it."""
    from vwaza_cli.media import display_name

    remote = isinstance(source, str) and source.startswith(("https://", "http://"))
    limit = MAX_BYTES[kind]
    if remote:
        temp = spool.download_in(settings, str(source), limit, on_bytes)
    else:
        temp = spool.copy_in(settings, Path(source), limit, on_bytes)
    try:
        info = _inspector(kind)(temp.path)
    except InvalidMedia as exc:
        temp.path.unlink(missing_ok=True)
        reason = exc.message.split(": ", 1)[-1]
        shown = str(source) if remote else display_name(Path(source))
        raise InvalidMedia(f"{shown}: {reason}") from None
    except BaseException:
        temp.path.unlink(missing_ok=True)
        raise
    return Checked(temp, info)


def accept_audio(
    settings: Settings, source: Path, spool_name: str, on_bytes: Callable[[int], None] | None = None
) -> Accepted:
    """``spool_name`` is the ID the staged copy is named after (no extension)."""
    return check_copy(settings, source, AUDIO, on_bytes).commit(settings, spool_name)


def accept_image(
    settings: Settings, source: Path, spool_name: str, on_bytes: Callable[[int], None] | None = None
) -> Accepted:
    return check_copy(settings, source, IMAGE, on_bytes).commit(settings, spool_name)


def audio_job(
    settings: Settings, job_id: str, release_id: str, track_id: str, accepted: Accepted
) -> dict[str, Any]:
    """The upload job of a track's audio, as a plain row; its key is deterministic, so a
    retry can never store a second copy."""
    key = f"audio/{release_id}/{track_id}/{accepted.staged.sha256}.{accepted.info.extension}"
    return job_row(
        settings,
        job_id=job_id,
        job_type="AUDIO",
        release_id=release_id,
        target_id=track_id,
        track_id=track_id,
        accepted=accepted,
        key=key,
    )


def cover_job(
    settings: Settings, job_id: str, release_id: str, accepted: Accepted
) -> dict[str, Any]:
    """The upload job of a release's cover art, as a plain row."""
    key = f"cover/{release_id}/{accepted.staged.sha256}.{accepted.info.extension}"
    return job_row(
        settings,
        job_id=job_id,
        job_type="COVER_ART",
        release_id=release_id,
        target_id=release_id,
        track_id=None,
        accepted=accepted,
        key=key,
    )


def job_row(
    settings: Settings,
    *,
    job_id: str,
    job_type: str,
    release_id: str,
    target_id: str,
    track_id: str | None,
    accepted: Accepted,
    key: str,
) -> dict[str, Any]:
    """An upload job as a plain row (the model and bulk inserts both take it)."""
    from vwaza_cli import clock

    moment = clock.now()
    return {
        "id": job_id,
        "target_id": target_id,
        "release_id": release_id,
        "track_id": track_id,
        "type": job_type,
        "local_path": str(accepted.staged.path),
        "sha256": accepted.staged.sha256,
        "size": accepted.staged.size,
        "content_type": accepted.info.content_type,
        "object_key": key,
        "machine_id": settings.machine_id,
        "status": "PENDING",
        "retry_count": 0,
        "attempts": 0,
        "error_log": None,
        "next_attempt_at": moment,
        "lease_owner": None,
        "lease_expires_at": None,
        "created_at": moment,
        "updated_at": moment,
        "completed_at": None,
    }


def as_model(row: dict[str, Any]) -> Any:
    """A job row as the ORM object (single-file commands add it to their session)."""
    from vwaza_cli.db.models import JobStatus, JobType, UploadJob

    return UploadJob(**{**row, "type": JobType(row["type"]), "status": JobStatus(row["status"])})
