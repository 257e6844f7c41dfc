"""`vwaza daemon status` shows an artist their own jobs only (cli.md, "Integrity and abuse"):
the queue counts and what each daemon is uploading; an admin sees the whole store."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import Cli, Media
from vwaza_cli.enums import JobStatus

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

DAEMON = "daemon-on-studio-1"


def _stage(artist: Cli, media: Media, tracks: int) -> list[str]:
    release = artist.ok("release", "create", "Night Drive", "--genre", "Electronic")
    wav = media.wav()
    return [
        artist.ok("track", "add", release["id"], str(wav))["upload_job_id"] for _ in range(tracks)
    ]


def _set(job_id: str, status: JobStatus, lease_owner: str | None = None) -> None:
    from sqlmodel import col

    from vwaza_cli.db.models import UploadJob
    from vwaza_cli.services.context import Context

    with Context.from_environment().tx() as session:
        session.execute(
            sa.update(UploadJob)
            .where(col(UploadJob.id) == job_id)
            .values(status=status, lease_owner=lease_owner)
        )


def _busy_daemon(in_flight: int) -> None:
    from vwaza_cli.services import daemon_status
    from vwaza_cli.services.context import Context

    daemon_status.beat(Context.from_environment(), DAEMON, 4242, in_flight)


def test_an_artist_sees_only_their_own_queue_and_uploads(
    ada: Cli, admin: Cli, initialised: Cli, people: dict[str, str], media: Media
) -> None:
    bo = initialised.as_user(people["bo"])
    ada_jobs = _stage(ada, media, 1)
    bo_jobs = _stage(bo, media, 3)
    _set(ada_jobs[0], JobStatus.UPLOADING, DAEMON)
    _set(bo_jobs[0], JobStatus.UPLOADING, DAEMON)
    _set(bo_jobs[1], JobStatus.UPLOADING, DAEMON)
    _set(bo_jobs[2], JobStatus.FAILED)
    _busy_daemon(in_flight=3)

    def seen(user: Cli) -> tuple[dict[str, int], int]:
        status = user.ok("daemon", "status")
        (daemon,) = status["daemons"]
        return status["queue"], daemon["in_flight"]

    ada_queue, ada_uploading = seen(ada)
    assert ada_queue == {"PENDING": 0, "UPLOADING": 1, "COMPLETED": 0, "FAILED": 0}
    assert ada_uploading == 1
    bo_queue, bo_uploading = seen(bo)
    assert bo_queue == {"PENDING": 0, "UPLOADING": 2, "COMPLETED": 0, "FAILED": 1}
    assert bo_uploading == 2
    admin_queue, admin_uploading = seen(admin)
    assert admin_queue == {"PENDING": 0, "UPLOADING": 3, "COMPLETED": 0, "FAILED": 1}
    assert admin_uploading == 3


def test_an_artist_without_jobs_sees_an_empty_queue(
    ada: Cli, initialised: Cli, people: dict[str, str], media: Media
) -> None:
    _stage(ada, media, 2)
    _busy_daemon(in_flight=2)
    bo = initialised.as_user(people["bo"])
    status = bo.ok("daemon", "status")
    assert set(status["queue"].values()) == {0}
    assert [d["in_flight"] for d in status["daemons"]] == [0]
    assert status["last_errors"] == []
    human = bo("daemon", "status")
    assert human.exit_code == 0
    assert "0 PENDING" in human.stdout
    assert "2 PENDING" not in human.stdout
