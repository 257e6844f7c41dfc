"""The rows a catalog import writes, as plain values (``db.bulk``) rather than ORM objects:
building a table object costs a hundred times more than its values, and an import builds
some thirty a release.

Each builder gives the columns its single command's constructor gives, from the same
inputs: upload jobs share their values with ``uploads.new_job``; a track's and a processing
row's mirror ``tracks.new_track`` and ``processing.new_processing``, and
``tests/unit/test_catalog_rows.py`` holds each equal to its constructor (a field added
there and not here fails it).
"""

from __future__ import annotations

from vwaza_cli import media
from vwaza_cli.db.bulk import Row, plain_row
from vwaza_cli.db.models import Track, TrackProcessing, UploadJob
from vwaza_cli.enums import RENDITIONS
from vwaza_cli.services import spool, uploads
from vwaza_cli.services.tracks import TrackFields, track_values
from vwaza_cli.settings import Settings


def track_row(
    release_id: str, fields: TrackFields, accepted: uploads.Accepted[media.AudioInfo], track_id: str
) -> Row:
    """``tracks.new_track``'s row."""
    return plain_row(Track, **track_values(release_id, fields, accepted, track_id))


def processing_row(
    settings: Settings, track_id: str, release_id: str, staged: spool.StagedFile
) -> Row:
    """``processing.new_processing``'s row for a new track (measured, every rendition)."""
    return plain_row(
        TrackProcessing,
        track_id=track_id,
        release_id=release_id,
        machine_id=settings.machine_id,
        master_path=str(staged.path),
        master_sha256=staged.sha256,
        measure=True,
        renditions=",".join(kind.value for kind in RENDITIONS),
    )


def audio_job_row(
    settings: Settings,
    job_id: str,
    release_id: str,
    track_id: str,
    accepted: uploads.Accepted[media.AudioInfo],
) -> Row:
    values = uploads.audio_job_values(settings, job_id, release_id, track_id, accepted)
    return plain_row(UploadJob, **values)


def cover_job_row(
    settings: Settings, job_id: str, release_id: str, accepted: uploads.Accepted[media.ImageInfo]
) -> Row:
    return plain_row(UploadJob, **uploads.cover_job_values(settings, job_id, release_id, accepted))
