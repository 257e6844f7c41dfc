"""The release lifecycle: one table of the moves a release may make, and who may make them.

Every path that changes a release's status goes through :func:`move` (submit, resubmit,
advance when the uploads finish, back to DRAFT when a file can never be uploaded, approve,
reject, catalog import with submit). To add a status: the enum in ``vwaza_cli/enums.py``,
its rows here, and (since the column carries a CHECK constraint) a migration.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vwaza_cli import clock
from vwaza_cli.db.models import Release
from vwaza_cli.enums import ReleaseStatus
from vwaza_cli.errors import StatusForbids

DRAFT = ReleaseStatus.DRAFT
PROCESSING = ReleaseStatus.PROCESSING
PENDING_REVIEW = ReleaseStatus.PENDING_REVIEW
PUBLISHED = ReleaseStatus.PUBLISHED
REJECTED = ReleaseStatus.REJECTED


class Mover(enum.Enum):
    """Who makes a move: the artist who owns the release, an admin, or the system itself
    (the upload daemon finishing or giving up on a file)."""

    ARTIST = enum.auto()
    ADMIN = enum.auto()
    SYSTEM = enum.auto()


ARTIST, ADMIN, SYSTEM = Mover.ARTIST, Mover.ADMIN, Mover.SYSTEM

# (from, to) -> who may make that move. Anything not listed is forbidden.
TRANSITIONS: dict[tuple[ReleaseStatus, ReleaseStatus], frozenset[Mover]] = {
    (DRAFT, PROCESSING): frozenset({ARTIST, ADMIN}),  # submit
    (REJECTED, PROCESSING): frozenset({ARTIST, ADMIN}),  # resubmit
    (PROCESSING, PENDING_REVIEW): frozenset({SYSTEM}),  # every file uploaded
    (PROCESSING, DRAFT): frozenset({SYSTEM}),  # a file can never be uploaded
    (PENDING_REVIEW, PUBLISHED): frozenset({ADMIN}),  # approve
    (PENDING_REVIEW, REJECTED): frozenset({ADMIN}),  # reject
}

# What a move is called in the refusal ("only X releases can be <verb>").
VERBS = {
    PROCESSING: "submitted",
    PUBLISHED: "approved or rejected",
    REJECTED: "approved or rejected",
    PENDING_REVIEW: "sent to review",
    DRAFT: "reopened",
}

# Only these change (title, genre, tracks, cover), for admins too: what was reviewed, or is
# being reviewed or uploaded, is what gets published.
EDITABLE = frozenset({DRAFT, REJECTED})


@dataclass(frozen=True)
class Refusal:
    """Why a move is forbidden, in the words the user sees."""

    release_id: str
    status: ReleaseStatus
    target: ReleaseStatus

    def message(self) -> str:
        sources = sorted(s.value for s, t in TRANSITIONS if t == self.target)
        allowed = " or ".join(sources)
        return (
            f"release {self.release_id[:8]} is {self.status}: only {allowed} releases can be "
            f"{VERBS[self.target]}"
        )


def allowed(status: ReleaseStatus, target: ReleaseStatus, by: Mover) -> bool:
    return by in TRANSITIONS.get((status, target), frozenset())


def move(release: Release, target: ReleaseStatus, by: Mover, *, reason: str | None = None) -> None:
    """Move ``release`` to ``target`` or raise StatusForbids saying why not."""
    if not allowed(release.status, target, by):
        raise StatusForbids(Refusal(release.id, release.status, target).message())
    _enter(release, target, reason)


def move_if_allowed(release: Release, target: ReleaseStatus, by: Mover) -> bool:
    """The system's moves happen when they can and are skipped quietly when not."""
    if not allowed(release.status, target, by):
        return False
    _enter(release, target, None)
    return True


def _enter(release: Release, target: ReleaseStatus, reason: str | None) -> None:
    moment = clock.now()
    if target == PROCESSING:
        release.submitted_at = moment
    release.rejection_reason = reason if target == REJECTED else None
    release.status = target
    release.updated_at = moment


def ensure_editable(release: Release) -> None:
    if release.status not in EDITABLE:
        allowed_statuses = " or ".join(sorted(s.value for s in EDITABLE))
        raise StatusForbids(
            f"release {release.id[:8]} is {release.status}: only {allowed_statuses} releases "
            "can change"
        )


def ensure_deletable(release: Release, by: Mover) -> None:
    """A PUBLISHED release is live: only an admin takes it down."""
    if release.status == PUBLISHED and by != ADMIN:
        raise StatusForbids(f"release {release.id[:8]} is {PUBLISHED}: only an admin can delete it")
