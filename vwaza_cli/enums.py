"""The domain's named values: the only spelling of roles, release and job statuses, job types.

A light module (no third-party import), so that the command line can name these values for
help, colours and completion without loading the store.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from vwaza_cli.errors import InvalidInput


class Role(enum.StrEnum):
    ARTIST = "ARTIST"
    ADMIN = "ADMIN"


class ReleaseStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PROCESSING = "PROCESSING"
    PENDING_REVIEW = "PENDING_REVIEW"
    PUBLISHED = "PUBLISHED"
    REJECTED = "REJECTED"


class JobType(enum.StrEnum):
    AUDIO = "AUDIO"
    COVER_ART = "COVER_ART"
    # the renditions the daemon makes of a track's master (spec/processing.md)
    STREAM = "STREAM"
    PREVIEW = "PREVIEW"
    WAVEFORM = "WAVEFORM"


RENDITIONS = (JobType.STREAM, JobType.PREVIEW, JobType.WAVEFORM)


class ProcessingStatus(enum.StrEnum):
    """Where a track's processing (measurements and renditions) stands."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class JobStatus(enum.StrEnum):
    PENDING = "PENDING"
    UPLOADING = "UPLOADING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Explicit(enum.StrEnum):
    """A track's explicit-content flag (spec/distribution.md); null until answered."""

    EXPLICIT = "explicit"
    CLEAN = "clean"
    NOT_EXPLICIT = "not_explicit"


class ContributorRole(enum.StrEnum):
    COMPOSER = "composer"
    LYRICIST = "lyricist"
    PRODUCER = "producer"


class ReleaseType(enum.StrEnum):
    """Derived from the tracks by the stores' rule (spec/distribution.md), never stored."""

    SINGLE = "SINGLE"
    EP = "EP"
    ALBUM = "ALBUM"


class Severity(enum.StrEnum):
    """How much a `release check` finding matters: an error refuses the submit."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


E = TypeVar("E", bound=enum.StrEnum)


def parse(cls: type[E], value: str, what: str) -> E:
    """``value`` (any case) as a member of ``cls``; refused input names the valid choices."""
    value = value.upper()
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(member.value for member in cls)
        raise InvalidInput(f"unknown {what} {value!r}: use one of {choices}") from None
