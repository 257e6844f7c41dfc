"""The daemon's work seen from the command line: is anyone uploading what was queued, and
waiting (`release submit --wait`) until a submitted release leaves PROCESSING."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from vwaza_cli import watching
from vwaza_cli.db import job_targets
from vwaza_cli.db.models import Release, UploadJob
from vwaza_cli.enums import JobStatus, JobType, ReleaseStatus
from vwaza_cli.services import daemon_status
from vwaza_cli.services.accounts import current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import load_release
from vwaza_cli.services.views import release_view
from vwaza_cli.watching import Look, UploadFailed, UploadProgress

NO_DAEMON = "no upload daemon is running: start vwaza-daemon (or run vwaza-daemon --once)"
WAITING = (JobStatus.PENDING, JobStatus.UPLOADING)


def uploads_unattended(ctx: Context) -> bool:
    """Uploads the caller can see are waiting, and no daemon has a fresh heartbeat (the rule
    of `vwaza daemon status`): nothing will move them until someone starts one."""
    status = daemon_status.status(ctx)
    waiting = sum(status["queue"].get(state.value, 0) for state in WAITING)
    return waiting > 0 and not status["alive"]


def wait_for_release(
    ctx: Context,
    release_id: str,
    timeout: float,
    on_progress: Callable[[UploadProgress], None] | None = None,
) -> dict[str, Any]:
    """`release submit --wait` on this machine: ``watching.wait_for_review`` over the store."""
    return watching.wait_for_review(lambda: look(ctx, release_id), timeout, on_progress)


def look(ctx: Context, release_id: str) -> Look:
    """The release and its uploads now; UploadFailed when an upload FAILED or the release
    went back to DRAFT (it can no longer reach review by itself)."""
    actor = current_actor(ctx)
    with ctx.tx() as session:
        release = load_release(session, actor, release_id)
        uploads = job_targets.of_release(session, release.id)
        view = release_view(release)
    in_review = reached_review(release, uploads)
    why = "" if in_review else _why_waiting(ctx)
    return Look(view, progress_of(release, uploads), in_review, why)


def _why_waiting(ctx: Context) -> str:
    return NO_DAEMON if uploads_unattended(ctx) else "it is still uploading"


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


def with_daemon_warning(ctx: Context, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its ``warnings`` (a list, perhaps empty), and among them that no
    daemon is running when uploads it queued would otherwise wait in silence (the command
    line's and the server's answer alike)."""
    warnings = list(result.get("warnings", []))
    if uploads_unattended(ctx):
        warnings.append(NO_DAEMON)
    return {**result, "warnings": warnings}
