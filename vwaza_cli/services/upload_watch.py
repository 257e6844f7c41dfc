"""The daemon's work seen from the command line: is anyone uploading what was queued, and
waiting (`release submit --wait`) until a submitted release leaves PROCESSING."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vwaza_cli.db import job_targets
from vwaza_cli.db.models import Release, UploadJob
from vwaza_cli.enums import JobStatus, JobType, ReleaseStatus
from vwaza_cli.errors import Unavailable
from vwaza_cli.services import daemon_status
from vwaza_cli.services.accounts import current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import load_release
from vwaza_cli.services.views import release_view

NO_DAEMON = "no upload daemon is running: start vwaza-daemon (or run vwaza-daemon --once)"
POLL_SECONDS = 1.0  # between two looks at the store while waiting on the daemon
WAITING = (JobStatus.PENDING, JobStatus.UPLOADING)


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


def uploads_unattended(ctx: Context) -> bool:
    """Uploads the caller can see are waiting, and no daemon has a fresh heartbeat (the rule
    of `vwaza daemon status`): nothing will move them until someone starts one."""
    status = daemon_status.status(ctx)
    waiting = sum(status["queue"].get(state.value, 0) for state in WAITING)
    return waiting > 0 and not status["alive"]


def pause(seconds: float) -> None:
    """The wait between two looks (tests move it instead of sleeping)."""
    time.sleep(seconds)


def wait_for_release(
    ctx: Context,
    release_id: str,
    timeout: float,
    on_progress: Callable[[UploadProgress], None] | None = None,
) -> dict[str, Any]:
    """Look at the release every POLL_SECONDS until it leaves PROCESSING: the release once it
    reached review; UploadFailed (exit 7) when an upload FAILED or it went back to DRAFT;
    WaitTimedOut (exit 7) when it is still PROCESSING after ``timeout`` seconds."""
    actor = current_actor(ctx)
    deadline = time.monotonic() + timeout
    while True:
        with ctx.tx() as session:
            release = load_release(session, actor, release_id)
            uploads = job_targets.of_release(session, release.id)
            view = release_view(release)
        if on_progress is not None:
            on_progress(progress_of(release, uploads))
        if reached_review(release, uploads):
            return view
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out(ctx, release, uploads, timeout)
        pause(min(POLL_SECONDS, remaining))


def progress_of(release: Release, uploads: Sequence[UploadJob]) -> UploadProgress:
    uploaded = sum(1 for job in uploads if job.status == JobStatus.COMPLETED)
    return UploadProgress(release.title, str(release.status), uploaded, len(uploads))


def reached_review(release: Release, uploads: Sequence[UploadJob]) -> bool:
    """True once the release reached review; False while it is PROCESSING with nothing
    FAILED; UploadFailed when it can no longer get there by itself."""
    failed = [job for job in uploads if job.status == JobStatus.FAILED]
    if failed:
        raise UploadFailed(_failure(release, failed[0]))
    if release.status == ReleaseStatus.DRAFT:
        raise UploadFailed(
            f"release {release.id[:8]} went back to DRAFT: an upload can never finish; "
            "see `vwaza jobs list --status FAILED`"
        )
    return release.status != ReleaseStatus.PROCESSING


def _failure(release: Release, job: UploadJob) -> str:
    what = "the cover" if job.type == JobType.COVER_ART else "a track"
    return (
        f"the upload of {what} of release {release.id[:8]} FAILED ({job.error_log or 'no cause'}); "
        f"the release is {release.status}: see `vwaza jobs list --status FAILED`, fix the file "
        f"and `vwaza release submit {release.id[:8]}` again"
    )


def _timed_out(
    ctx: Context, release: Release, uploads: Sequence[UploadJob], timeout: float
) -> WaitTimedOut:
    done = progress_of(release, uploads)
    why = NO_DAEMON if uploads_unattended(ctx) else "it is still uploading"
    return WaitTimedOut(
        f"release {release.id[:8]} is still PROCESSING after {timeout:g}s "
        f"({done.uploaded} of {done.total} files uploaded): {why}; "
        f"`vwaza release show {release.id[:8]}` follows it"
    )
