"""Waiting on the daemon (`release submit --wait`) with no store in sight: the loop that looks
at a submitted release until it leaves PROCESSING. One look is the store's answer on this
machine (`services.upload_watch.look`) or the server's (`GET .../uploads`); the loop, the
time-out and the progress are the same for both, so remote mode imports no SQLAlchemy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vwaza_cli.errors import Unavailable

POLL_SECONDS = 1.0  # between two looks at the store while waiting on the daemon


class UploadFailed(Unavailable):
    """While waiting: an upload of the release FAILED, or the release went back to DRAFT."""


class WaitTimedOut(Unavailable):
    """While waiting: the release is still PROCESSING when the time is up."""


@dataclass(frozen=True)
class UploadProgress:
    """Where a release's uploads stand: what a progress display shows."""

    title: str
    status: str
    uploaded: int
    total: int


@dataclass(frozen=True)
class Look:
    """One look at a submitted release: its view, its uploads, whether it reached review,
    and why not yet (no daemon, or still uploading). An upload that can never finish is
    raised as UploadFailed by whoever looked."""

    release: dict[str, Any]
    progress: UploadProgress
    in_review: bool
    why_waiting: str

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "uploaded": self.progress.uploaded,
            "total": self.progress.total,
            "in_review": self.in_review,
            "why_waiting": self.why_waiting,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Look:
        release = data["release"]
        progress = UploadProgress(
            release["title"], release["status"], data["uploaded"], data["total"]
        )
        return cls(release, progress, bool(data["in_review"]), data["why_waiting"])


def pause(seconds: float) -> None:
    """The wait between two looks (tests move it instead of sleeping)."""
    time.sleep(seconds)


def wait_for_review(
    look: Callable[[], Look],
    timeout: float,
    on_progress: Callable[[UploadProgress], None] | None = None,
) -> dict[str, Any]:
    """Look every POLL_SECONDS until the release leaves PROCESSING: the release once it
    reached review; UploadFailed (exit 7) from ``look`` when it never can; WaitTimedOut
    (exit 7) when it is still PROCESSING after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        now = look()
        if on_progress is not None:
            on_progress(now.progress)
        if now.in_review:
            return now.release
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out(now, timeout)
        pause(min(POLL_SECONDS, remaining))


def _timed_out(now: Look, timeout: float) -> WaitTimedOut:
    short = now.release["id"][:8]
    return WaitTimedOut(
        f"release {short} is still PROCESSING after {timeout:g}s "
        f"({now.progress.uploaded} of {now.progress.total} files uploaded): {now.why_waiting}; "
        f"`vwaza release show {short}` follows it"
    )
