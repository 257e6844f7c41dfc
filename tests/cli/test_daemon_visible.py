"""Uploads need a running daemon: the commands that queue them say so when none is, and
`release submit --wait` waits for the release to leave PROCESSING (on both engines)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli, Media

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

NO_DAEMON = "warning: no upload daemon is running: start vwaza-daemon (or run vwaza-daemon --once)"


def _release_with_files(cli: Cli, media: Media) -> dict:
    release = cli.ok("release", "create", "Night Drive", "--genre", "Electronic")
    cli.ok("track", "add", release["id"], str(media.wav()), "--title", "Intro")
    cli.ok("release", "cover", release["id"], str(media.cover()))
    return release


def _context():  # what the daemon uses: the same services, without a network
    from vwaza_cli.services.context import Context

    return Context.from_environment()


def _upload_everything() -> None:
    from tests.support.daemon_work import upload_everything

    upload_everything()


def _fail_next_upload(error: str) -> None:
    """The daemon gives up on one job: FAILED, its release back to DRAFT."""
    from vwaza_cli.services import queue

    ctx = _context()
    ticket = queue.claim(ctx, "test-worker", timedelta(minutes=5))
    assert ticket is not None
    assert queue.fail(ctx, ticket, "test-worker", error, None)


def _daemon_alive() -> None:
    from vwaza_cli.services import daemon_status

    daemon_status.beat(_context(), "daemon-1", 4242, 0)


def _when_waiting(monkeypatch: pytest.MonkeyPatch, action) -> list[float]:
    """Instead of sleeping between two looks, do what the daemon would meanwhile."""
    from vwaza_cli import watching

    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        action()

    monkeypatch.setattr(watching, "pause", pause)
    return pauses


# ------------------------------------------------------------------- the warning


def test_track_add_without_a_daemon_warns_that_uploads_need_one(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    outcome = ada("track", "add", release["id"], str(media.wav()))
    assert outcome.exit_code == 0
    assert NO_DAEMON in outcome.stderr.splitlines()


def test_cover_and_submit_warn_too_and_json_carries_the_warning(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    ada.ok("track", "add", release["id"], str(media.wav()))
    cover = ada("release", "cover", release["id"], str(media.cover()), "--json")
    assert cover.exit_code == 0
    assert NO_DAEMON.removeprefix("warning: ") in cover.json()["warnings"]
    assert "warning:" not in cover.stderr  # with --json, warnings are data
    submitted = ada("release", "submit", release["id"])
    assert submitted.exit_code == 0
    assert NO_DAEMON in submitted.stderr.splitlines()


def test_no_warning_while_a_daemon_has_a_fresh_heartbeat(ada: Cli, media: Media) -> None:
    _daemon_alive()
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    outcome = ada("track", "add", release["id"], str(media.wav()))
    assert outcome.exit_code == 0
    assert "warning:" not in outcome.stderr


def test_a_stale_heartbeat_does_not_count_as_a_running_daemon(
    ada: Cli, media: Media, mocker
) -> None:
    from vwaza_cli import clock
    from vwaza_cli.services.daemon_status import ALIVE_WITHIN

    _daemon_alive()
    later = clock.now() + ALIVE_WITHIN + timedelta(seconds=1)
    mocker.patch("vwaza_cli.clock.now", return_value=later)
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    assert NO_DAEMON in ada("track", "add", release["id"], str(media.wav())).stderr


def test_submit_with_nothing_left_to_upload_does_not_warn(ada: Cli, media: Media) -> None:
    release = _release_with_files(ada, media)
    _upload_everything()
    submitted = ada("release", "submit", release["id"], "--json")
    assert submitted.json()["status"] == "PENDING_REVIEW"
    assert submitted.json()["warnings"] == []


# ---------------------------------------------------------------------- --wait


def test_submit_wait_returns_once_the_release_is_in_review(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release_with_files(ada, media)
    pauses = _when_waiting(monkeypatch, _upload_everything)
    outcome = ada("release", "submit", release["id"], "--wait", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    shown = json.loads(outcome.stdout)  # one JSON document: no progress on stdout
    assert shown["id"] == release["id"]
    assert shown["status"] == "PENDING_REVIEW"
    assert pauses == [1.0]  # one look, a pause at the polling interval, one more look
    assert outcome.stderr == ""  # no progress display without a terminal


def test_submit_wait_for_people_says_where_the_release_is(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release_with_files(ada, media)
    _when_waiting(monkeypatch, _upload_everything)
    outcome = ada("release", "submit", release["id"], "--wait")
    assert outcome.exit_code == 0
    assert outcome.stderr.splitlines() == [
        NO_DAEMON,
        f"release {release['id'][:8]} is PENDING_REVIEW",
    ]


def test_submit_wait_gives_up_after_the_timeout_with_exit_7(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release_with_files(ada, media)
    pauses = _when_waiting(monkeypatch, lambda: None)
    outcome = ada("release", "submit", release["id"], "--wait", "--timeout", "0")
    assert outcome.exit_code == 7
    short = release["id"][:8]
    assert outcome.stderr.splitlines()[-1] == (
        f"error: release {short} is still PROCESSING after 0s (0 of 2 files uploaded): "
        "no upload daemon is running: start vwaza-daemon (or run vwaza-daemon --once); "
        f"`vwaza release show {short}` follows it"
    )
    assert pauses == []
    assert ada.ok("release", "show", release["id"])["status"] == "PROCESSING"  # still submitted


def test_submit_wait_exits_7_when_an_upload_fails(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release_with_files(ada, media)
    _when_waiting(monkeypatch, lambda: _fail_next_upload("storage refused the object (403)"))
    outcome = ada("release", "submit", release["id"], "--wait", "--json")
    assert outcome.exit_code == 7
    assert outcome.stdout == ""
    error = outcome.error()
    assert error["type"] == "unavailable"
    assert "FAILED (storage refused the object (403))" in error["message"]
    assert "the release is DRAFT" in error["message"]
    assert ada.ok("release", "show", release["id"])["status"] == "DRAFT"


def test_ctrl_c_while_waiting_exits_130_and_the_release_stays_submitted(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release_with_files(ada, media)

    def interrupt() -> None:
        raise KeyboardInterrupt

    _when_waiting(monkeypatch, interrupt)
    outcome = ada("release", "submit", release["id"], "--wait")
    assert outcome.exit_code == 130
    short = release["id"][:8]
    assert outcome.stderr.splitlines()[-1] == (
        f"interrupted: stopped waiting; release {short} stays submitted "
        f"(`vwaza release show {short}`)"
    )
    assert ada.ok("release", "show", release["id"])["status"] == "PROCESSING"


def test_a_negative_timeout_is_a_usage_error(ada: Cli, media: Media, store_url: str) -> None:
    from tests.conftest import store_snapshot

    release = _release_with_files(ada, media)
    before = store_snapshot(store_url)
    outcome = ada("release", "submit", release["id"], "--wait", "--timeout", "-1")
    assert outcome.exit_code == 2
    assert store_snapshot(store_url) == before


def test_waiting_looks_at_the_store_at_a_modest_interval() -> None:
    from vwaza_cli import watching

    assert watching.POLL_SECONDS >= 0.5


def test_the_wait_follows_only_a_release_the_caller_may_see(
    ada: Cli, people: dict, media: Media, env: Path
) -> None:
    release = _release_with_files(ada, media)
    bo = ada.as_user(people["bo"])
    outcome = bo("release", "submit", release["id"], "--wait", "--timeout", "0")
    assert outcome.exit_code == 3
