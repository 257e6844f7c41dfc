"""Who may do what: every mutating command as owner, other artist, admin and nobody.

Someone else's release is simply not found for an artist (3); nobody logged in is refused (4);
only admins review and manage users (4). A refused command changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Cli, Media, store_snapshot

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server


@dataclass
class World:
    release: str
    track: str
    second_track: str
    job: str


def _build(cli: Cli, owner: str, media: Media, pending_review: bool) -> World:
    ada = cli.as_user(owner)
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")["id"]
    track = ada.ok("track", "add", release, str(media.wav("a.wav")))
    second = ada.ok("track", "add", release, str(media.wav("b.wav")))
    ada.ok("release", "cover", release, str(media.cover()))
    _fail_job(track["upload_job_id"])
    if pending_review:
        _complete_uploads()
        ada.ok("release", "submit", release)
    return World(release, track["id"], second["id"], track["upload_job_id"])


def _fail_job(job_id: str) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.models import JobStatus, UploadJob
    from vwaza_cli.services.context import Context

    with Context.from_environment().tx() as session:
        session.execute(
            sa.update(UploadJob).where(UploadJob.id == job_id).values(status=JobStatus.FAILED)
        )


def _complete_uploads() -> None:

    from tests.support.daemon_work import upload_everything
    from vwaza_cli import clock
    from vwaza_cli.db import jobs
    from vwaza_cli.services.context import Context

    ctx = Context.from_environment()
    with ctx.tx() as session:
        jobs.retry_failed(session, None, None, clock.now())
    upload_everything()


# command, its arguments (from the world), whether the release must be PENDING_REVIEW,
# and the exit codes for (owner, other artist, admin, nobody)
CASES = [
    (
        "release edit",
        lambda w, m: ["release", "edit", w.release, "--title", "T2"],
        False,
        (0, 3, 0, 4),
    ),
    (
        "release cover",
        lambda w, m: ["release", "cover", w.release, str(m.cover("c2.jpg"))],
        False,
        (0, 3, 0, 4),
    ),
    ("release submit", lambda w, m: ["release", "submit", w.release], False, (0, 3, 0, 4)),
    ("release delete", lambda w, m: ["release", "delete", w.release, "--yes"], False, (0, 3, 0, 4)),
    (
        "track add",
        lambda w, m: ["track", "add", w.release, str(m.wav("c.wav"))],
        False,
        (0, 3, 0, 4),
    ),
    ("track edit", lambda w, m: ["track", "edit", w.track, "--title", "X"], False, (0, 3, 0, 4)),
    ("track move", lambda w, m: ["track", "move", w.track, "--to", "2"], False, (0, 3, 0, 4)),
    ("track remove", lambda w, m: ["track", "remove", w.second_track], False, (0, 3, 0, 4)),
    ("jobs retry", lambda w, m: ["jobs", "retry", w.job], False, (0, 3, 0, 4)),
    ("jobs retry --failed", lambda w, m: ["jobs", "retry", "--failed"], False, (0, 0, 0, 4)),
    ("review approve", lambda w, m: ["review", "approve", w.release], True, (4, 4, 0, 4)),
    (
        "review reject",
        lambda w, m: ["review", "reject", w.release, "--reason", "r"],
        True,
        (4, 4, 0, 4),
    ),
    (
        "admin user create",
        lambda w, m: [
            "admin",
            "user",
            "create",
            "--email",
            "new@example.com",
            "--role",
            "ARTIST",
            "--artist-name",
            "New",
            "--password-stdin",
        ],
        False,
        (4, 4, 0, 4),
    ),
    (
        "admin user delete",
        lambda w, m: ["admin", "user", "delete", "bo@example.com", "--yes"],
        False,
        (4, 4, 0, 4),
    ),
]


@pytest.mark.parametrize(
    ("args_of", "pending_review", "expected"),
    [pytest.param(c[1], c[2], c[3], id=c[0]) for c in CASES],
)
def test_mutating_command_permissions(
    initialised: Cli,
    people: dict[str, str],
    media: Media,
    store_url: str,
    args_of,
    pending_review: bool,
    expected: tuple[int, int, int, int],
) -> None:
    owner_code, other_code, admin_code, nobody_code = expected
    world = _build(initialised, people["ada"], media, pending_review)
    refused = [("", nobody_code), (people["bo"], other_code)]
    if owner_code:
        refused.append((people["ada"], owner_code))
    for token, code in refused:
        before = store_snapshot(store_url)
        outcome = initialised(*args_of(world, media), input="new password\n", token=token)
        assert outcome.exit_code == code, (token[:6], outcome.stderr)
        if code:
            assert store_snapshot(store_url) == before
            assert outcome.stderr.startswith("error: ")
    if owner_code == 0:
        outcome = initialised(*args_of(world, media), input="new password\n", token=people["ada"])
        assert outcome.exit_code == 0, outcome.stderr
        world = _build(initialised, people["ada"], media, pending_review)
    outcome = initialised(*args_of(world, media), input="new password\n", token=people["admin"])
    assert outcome.exit_code == admin_code, outcome.stderr


def test_an_artist_cannot_see_another_artists_release(
    initialised: Cli, people: dict[str, str], media: Media
) -> None:
    world = _build(initialised, people["ada"], media, pending_review=False)
    bo = initialised.as_user(people["bo"])
    assert bo("release", "show", world.release).exit_code == 3
    assert bo("track", "list", world.release).exit_code == 3
    assert bo.ok("release", "list") == []
    assert bo.ok("jobs", "list") == []
    assert len(initialised.as_user(people["admin"]).ok("jobs", "list")) == 3
