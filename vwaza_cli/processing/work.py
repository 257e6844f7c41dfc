"""What the daemon asks a worker process for, and what it gets back: plain values that
cross the process boundary (no third-party import, so the daemon itself loads no FFmpeg)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vwaza_cli.enums import JobType


class UndecodableMaster(Exception):
    """The master cannot be decoded (it passed the checks at staging, so it is damaged),
    or it is not the file that was accepted any more: nothing is made from it."""


@dataclass(frozen=True)
class Rendition:
    """A finished rendition in a temp file: fsynced, hashed, not yet in the spool."""

    kind: JobType
    path: str
    sha256: str
    size: int
    content_type: str
    extension: str


@dataclass(frozen=True)
class Outcome:
    analysis: dict[str, Any] | None  # None when only renditions were asked for
    renditions: tuple[Rendition, ...]


@dataclass(frozen=True)
class Request:
    """What to make from ``master``: the measurements, and which renditions."""

    master: str
    temp_dir: str
    token: str  # names the temp files (the task's ID): a crash leaves files the sweep knows
    measure: bool
    make: tuple[JobType, ...]
    preview_start: float | None = None
    # What the master must be (its hash and size when staged); None: not checked.
    sha256: str | None = None
    size: int | None = None
