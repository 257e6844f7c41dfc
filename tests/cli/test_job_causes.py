"""`jobs list` says what each job uploads, and shows the whole cause of a failure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import Cli, Media

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

CAUSE = (
    "upload to storage at https://project.supabase.test failed: the bucket vwaza-uploads "
    "refused the object audio/2f/2f3a.wav with 403 Forbidden (new row violates row-level "
    "security policy): give the service key write access to the bucket"
)


def _release_with_files(cli: Cli, media: Media) -> dict:
    release = cli.ok("release", "create", "Night Drive", "--genre", "Electronic")
    cli.ok("track", "add", release["id"], str(media.wav()), "--title", "Intro")
    cli.ok("release", "cover", release["id"], str(media.cover()))
    return release


def _fail_every_upload(error: str) -> None:
    from vwaza_cli.services import queue
    from vwaza_cli.services.context import Context

    ctx = Context.from_environment()
    while ticket := queue.claim(ctx, "test-worker", timedelta(minutes=5)):
        assert queue.fail(ctx, ticket, "test-worker", error, None)


def test_jobs_list_names_the_track_and_the_release(ada: Cli, media: Media) -> None:
    release = _release_with_files(ada, media)
    jobs = {job["type"]: job for job in ada.ok("jobs", "list")}
    assert jobs["AUDIO"]["target_title"] == "Intro"
    assert jobs["AUDIO"]["release_title"] == "Night Drive"
    # a cover's target is its release
    assert jobs["COVER_ART"]["target_id"] == release["id"]
    assert jobs["COVER_ART"]["target_title"] == "Night Drive"
    assert jobs["COVER_ART"]["release_title"] == "Night Drive"
    # the fields that were there stay
    assert {"id", "target_id", "release_id", "type", "status", "retry_count", "error_log"} <= set(
        jobs["AUDIO"]
    )


def test_the_jobs_table_shows_titles_and_cover(ada: Cli, media: Media) -> None:
    _release_with_files(ada, media)
    table = ada("jobs", "list").stdout
    assert "Intro" in table
    assert "cover" in table
    assert "Night Drive" in table


def test_jobs_retry_prints_the_job_with_its_titles(ada: Cli, media: Media) -> None:
    _release_with_files(ada, media)
    _fail_every_upload("gone")
    failed = next(j for j in ada.ok("jobs", "list", "--status", "FAILED") if j["type"] == "AUDIO")
    retried = ada.ok("jobs", "retry", failed["id"])
    assert (retried["target_title"], retried["release_title"]) == ("Intro", "Night Drive")


@pytest.mark.parametrize("columns", ["80", "200"])
def test_a_failed_jobs_cause_is_shown_whole_and_its_id_uncut(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    _release_with_files(ada, media)
    _fail_every_upload(CAUSE)
    failed = ada.ok("jobs", "list", "--status", "FAILED")
    table = ada("jobs", "list", "--status", "FAILED").stdout
    cells = " ".join(
        part.strip() for line in table.splitlines() for part in line.split("│")[2:3]
    )  # the column after the id: the cause, wrapped over the lines of each row
    assert "".join(cells.split()).count("".join(CAUSE.split())) == 2  # every character of it
    for job in failed:
        assert f"│ {job['id'][:8]} │" in table
    assert max(len(line) for line in table.splitlines()) <= int(columns)
