"""`vwaza daemon status` lists the daemons alive now (or the last one seen), counts the
earlier ones, and shows the last errors with what they upload."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import Cli, Media

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

CAUSE = "gave up after 3 failed attempts: storage answered 503"


def _context():
    from vwaza_cli.services.context import Context

    return Context.from_environment()


def _once_runs(n: int) -> None:
    """``n`` `vwaza-daemon --once` runs that came and went."""
    from vwaza_cli.services import daemon_status

    for run in range(n):
        daemon_status.beat(_context(), f"once-{run}", 100 + run, 0, stopped=True)


def _running(daemon_id: str, pid: int) -> None:
    from vwaza_cli.services import daemon_status

    daemon_status.beat(_context(), daemon_id, pid, 0)


def _fail_the_upload_of(cli: Cli, media: Media) -> dict:
    from vwaza_cli.services import queue

    release = cli.ok("release", "create", "Night Drive", "--genre", "Electronic")
    cli.ok("track", "add", release["id"], str(media.wav()), "--title", "Intro")
    ticket = queue.claim(_context(), "test-worker", timedelta(minutes=5))
    assert ticket is not None
    assert queue.fail(_context(), ticket, "test-worker", CAUSE, None)
    return release


def test_seven_once_runs_show_as_the_last_one_and_six_earlier(ada: Cli) -> None:
    _once_runs(7)
    status = ada.ok("daemon", "status")
    assert status["alive"] is False
    assert [d["pid"] for d in status["daemons"]] == [106]  # the last one seen
    assert status["earlier_daemons"] == 6
    human = ada("daemon", "status").stdout
    assert "6 more daemon(s) in the last day" in human
    assert "│ 105 " not in human


def test_only_running_daemons_are_listed_beside_them(ada: Cli) -> None:
    _once_runs(3)
    _running("worker-a", 4242)
    _running("worker-b", 4343)
    status = ada.ok("daemon", "status")
    assert status["alive"] is True
    assert sorted(d["pid"] for d in status["daemons"]) == [4242, 4343]
    assert all(d["alive"] for d in status["daemons"])
    assert status["earlier_daemons"] == 3


def test_a_daemon_whose_heartbeat_went_stale_is_no_longer_listed_as_running(
    ada: Cli, mocker
) -> None:
    from vwaza_cli import clock
    from vwaza_cli.services.daemon_status import ALIVE_WITHIN

    _running("worker-a", 4242)
    later = clock.now() + ALIVE_WITHIN + timedelta(seconds=1)
    _once_runs(1)
    mocker.patch("vwaza_cli.clock.now", return_value=later)
    status = ada.ok("daemon", "status")
    assert status["alive"] is False
    assert [d["pid"] for d in status["daemons"]] == [100]  # the last seen: the --once run
    assert status["earlier_daemons"] == 1


def test_daemons_gone_for_more_than_a_day_are_not_counted(ada: Cli, mocker) -> None:
    from vwaza_cli import clock

    _once_runs(2)
    mocker.patch("vwaza_cli.clock.now", return_value=clock.now() + timedelta(days=1, seconds=1))
    status = ada.ok("daemon", "status")
    assert (status["daemons"], status["earlier_daemons"]) == ([], 0)


def test_the_table_shows_the_last_errors_with_their_titles(ada: Cli, media: Media) -> None:
    _fail_the_upload_of(ada, media)
    (error,) = ada.ok("daemon", "status")["last_errors"]
    assert (error["error_log"], error["target_title"], error["release_title"]) == (
        CAUSE,
        "Intro",
        "Night Drive",
    )
    human = ada("daemon", "status").stdout
    assert "last errors   1, newest first (below)" in human
    assert "Intro" in human
    assert "Night Drive" in human
    assert "gave up after 3" in human


def test_no_errors_says_none(ada: Cli) -> None:
    assert "last errors   none" in ada("daemon", "status").stdout
