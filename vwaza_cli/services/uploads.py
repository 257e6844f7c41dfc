"""Taking a user's file in: stage it durably, check it, and describe its upload job.

Shared by `track add`, `release cover` and catalog import, so every path into the spool
follows the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vwaza_cli.errors import InvalidMedia
from vwaza_cli.services import spool
from vwaza_cli.settings import Settings


@dataclass(frozen=True)
class Accepted:
    staged: spool.StagedFile  # committed into the spool, named by ID
    info: Any  # media.AudioInfo | media.ImageInfo
    warnings: tuple[str, ...]


def _checked_copy(
    settings: Settings,
    source: Path,
    inspect: Callable[[Path], Any],
    on_bytes: Callable[[int], None] | None,
) -> tuple[spool.StagedFile, Any]:
    """Copy first, then check the copy: the bytes checked are the bytes uploaded."""
    from vwaza_cli.media import display_name

    staged = spool.copy_in(settings, source, on_bytes)
    try:
        info = inspect(staged.path)
    except InvalidMedia as exc:
        staged.path.unlink(missing_ok=True)
        reason = exc.message.split(": ", 1)[-1]
        raise InvalidMedia(f"{display_name(source)}: {reason}") from None
    except BaseException:
        staged.path.unlink(missing_ok=True)
        raise
    return staged, info


def accept_audio(
    settings: Settings, source: Path, spool_name: str, on_bytes: Callable[[int], None] | None = None
) -> Accepted:
    """``spool_name`` is the ID the staged copy is named after (no extension)."""
    from vwaza_cli.media import inspect_audio

    staged, info = _checked_copy(settings, source, inspect_audio, on_bytes)
    final = spool.commit(settings, staged, f"{spool_name}.{info.extension}")
    return Accepted(final, info, tuple(info.warnings))


def accept_image(
    settings: Settings, source: Path, spool_name: str, on_bytes: Callable[[int], None] | None = None
) -> Accepted:
    from vwaza_cli.media import inspect_image

    staged, info = _checked_copy(settings, source, inspect_image, on_bytes)
    final = spool.commit(settings, staged, f"{spool_name}.{info.extension}")
    return Accepted(final, info, tuple(info.warnings))


def audio_key(release_id: str, track_id: str, accepted: Accepted) -> str:
    return f"audio/{release_id}/{track_id}/{accepted.staged.sha256}.{accepted.info.extension}"


def cover_key(release_id: str, accepted: Accepted) -> str:
    return f"cover/{release_id}/{accepted.staged.sha256}.{accepted.info.extension}"


def new_job(
    settings: Settings,
    *,
    job_id: str,
    job_type: str,
    release_id: str,
    target_id: str,
    track_id: str | None,
    accepted: Accepted,
    key: str,
) -> Any:
    from vwaza_cli.db.models import JobType, UploadJob

    return UploadJob(
        id=job_id,
        target_id=target_id,
        release_id=release_id,
        track_id=track_id,
        type=JobType(job_type),
        local_path=str(accepted.staged.path),
        sha256=accepted.staged.sha256,
        size=accepted.staged.size,
        content_type=accepted.info.content_type,
        object_key=key,
        machine_id=settings.machine_id,
    )
