"""Plain dictionaries for output: what may be shown, in the contract's field names.

Table models are never dumped directly (a password hash must never be printed).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from vwaza_cli.clock import iso
from vwaza_cli.enums import JobStatus, JobType
from vwaza_cli.services.measurements import warnings_for

if TYPE_CHECKING:  # views need the rows' fields, not the ORM: `release list` loads none of it
    from vwaza_cli.db.job_targets import TargetTitles
    from vwaza_cli.db.models import Release, Track, TrackProcessing, UploadJob, User
    from vwaza_cli.db.reads import ReleaseRow, UserRow


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": str(user.role),
        "artist_name": user.artist_name,
        "created_at": iso(user.created_at),
    }


def release_view(
    release: Release | ReleaseRow, artist: User | UserRow | None = None
) -> dict[str, Any]:
    view = {
        "id": release.id,
        "artist_id": release.artist_id,
        "title": release.title,
        "genre": release.genre,
        "cover_art": release.cover_art,
        "status": str(release.status),
        "external_id": release.external_id,
        "rejection_reason": release.rejection_reason,
        "created_at": iso(release.created_at),
        "updated_at": iso(release.updated_at),
        "submitted_at": iso(release.submitted_at),
        **store_fields(release),
    }
    if artist is not None:
        view["artist_name"] = artist.artist_name
        view["artist_email"] = artist.email
    return view


def store_fields(release: Release | ReleaseRow) -> dict[str, Any]:
    """What the stores require of a release (spec/distribution.md), and what its cover is."""
    return {
        "upc": release.upc,
        "release_date": day(release.release_date),
        "original_release_date": day(release.original_release_date),
        "label": release.label,
        "p_line": release.p_line,
        "c_line": release.c_line,
        "language": release.language,
        "cover_width": release.cover_width,
        "cover_height": release.cover_height,
        "cover_sha256": release.cover_sha256,
    }


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def track_view(
    track: Track, job: UploadJob | None = None, work: TrackProcessing | None = None
) -> dict[str, Any]:
    """A track with its upload state and, from its processing, the measurements, the
    warnings they give, the renditions' URLs and where processing stands."""
    return {
        "id": track.id,
        "release_id": track.release_id,
        "title": track.title,
        "audio_file": track.audio_file,
        "duration": round(float(track.duration), 3),
        "order": track.order,
        "isrc": track.isrc,
        "format": track.audio_format,
        "upload_status": upload_status(job),
        "analysis": track.analysis,
        "warnings": warnings_for(track.order, track.title, track.analysis),
        "renditions": {
            "stream": track.stream_url,
            "preview": track.preview_url,
            "waveform": track.waveform_url,
        },
        "preview_start": track.preview_start,
        "processing": processing_view(work),
        "explicit": None if track.explicit is None else str(track.explicit),
        "featured_artists": list(track.featured_artists or []),
        "contributors": list(track.contributors or []),
        "sample_rate": track.sample_rate,
        "lossy": track.lossy,
        "audio_sha256": track.audio_sha256,
    }


def processing_view(work: TrackProcessing | None) -> dict[str, Any] | None:
    """Where the track's processing stands (None for a track staged before processing)."""
    if work is None:
        return None
    return {"status": str(work.status), "attempts": work.attempts, "error": work.error_log}


def upload_status(job: UploadJob | None) -> str:
    return str(job.status) if job is not None else JobStatus.COMPLETED.value


def job_view(job: UploadJob, titles: TargetTitles | None = None) -> dict[str, Any]:
    """A job; with ``titles``, also what it uploads: ``target_title`` (the track's title, or
    for a cover the release's, as a cover's target is its release) and ``release_title``."""
    return {
        "id": job.id,
        "target_id": job.target_id,
        "target_title": target_title(job, titles),
        "release_id": job.release_id,
        "release_title": titles.release if titles else None,
        "type": str(job.type),
        "local_path": job.local_path,
        "status": str(job.status),
        "retry_count": job.retry_count,
        "failures_since_queued": job.failures_since_queued,
        "error_log": job.error_log,
        "size": job.size,
        "bytes_sent": job.bytes_sent,
        "sha256": job.sha256,
        "machine_id": job.machine_id,
        "next_attempt_at": iso(job.next_attempt_at),
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "completed_at": iso(job.completed_at),
    }


def target_title(job: UploadJob, titles: TargetTitles | None) -> str | None:
    if titles is None:
        return None
    return titles.release if job.type == JobType.COVER_ART else titles.track
