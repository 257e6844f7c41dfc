"""5 failed logins in 15 minutes lock an account's logins for 15 minutes: unknown emails are
locked alike, and other accounts are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.server.conftest import PASSWORD, Api, Team
from vwaza_cli.server.errors import TooManyLogins
from vwaza_cli.server.ratelimit import LoginLimiter

WRONG = {"error": {"type": "permission", "message": "wrong email or password"}}
LOCKED = {"error": {"type": "permission", "message": "too many failed logins: retry in 15 minutes"}}


def _login(api: Api, email: str, password: str) -> httpx.Response:
    return api.post("/auth/login", json={"email": email, "password": password})


def _answers(api: Api, email: str) -> list[tuple[int, dict, str | None]]:
    """Five wrong passwords, then the right one (for an account that has it)."""
    tries = [_login(api, email, "wrong password") for _ in range(5)]
    tries.append(_login(api, email, PASSWORD))
    return [(r.status_code, r.json(), r.headers.get("Retry-After")) for r in tries]


def test_the_sixth_login_is_locked_even_with_the_right_password(team: Team) -> None:
    answers = _answers(team.anonymous, "ada@example.com")
    assert [a[:2] for a in answers[:5]] == [(401, WRONG)] * 5
    status, body, retry_after = answers[5]
    assert (status, body) == (429, LOCKED)
    assert retry_after is not None
    assert 14 * 60 < int(retry_after) <= 15 * 60


def test_an_unknown_email_is_answered_the_same_way(team: Team) -> None:
    known = _answers(team.anonymous, "ada@example.com")
    unknown = _answers(team.anonymous, "nobody@example.com")
    assert [a[:2] for a in known] == [a[:2] for a in unknown]


def test_other_accounts_are_unaffected(team: Team) -> None:
    _answers(team.anonymous, "ada@example.com")
    assert _login(team.anonymous, "bo@example.com", PASSWORD).status_code == 200
    assert _login(team.anonymous, "ADA@example.com", PASSWORD).status_code == 429  # one account


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


def _fail(limiter: LoginLimiter, email: str, times: int) -> None:
    for _ in range(times):
        limiter.begin(email)  # never succeeded: a failure


def test_the_lock_lifts_after_15_minutes() -> None:
    clock = Clock()
    limiter = LoginLimiter(now=clock)
    _fail(limiter, "ada@example.com", 5)
    clock.moment += timedelta(minutes=14, seconds=59)
    with pytest.raises(TooManyLogins, match="retry in 1 minutes"):
        limiter.begin("ada@example.com")
    clock.moment += timedelta(seconds=1)
    limiter.succeeded("ada@example.com", limiter.begin("ada@example.com"))


def test_failures_older_than_15_minutes_no_longer_count() -> None:
    clock = Clock()
    limiter = LoginLimiter(now=clock)
    _fail(limiter, "ada@example.com", 4)
    clock.moment += timedelta(minutes=15, seconds=1)
    _fail(limiter, "ada@example.com", 4)
    limiter.begin("ada@example.com")  # the 5th within the window is still allowed ...
    with pytest.raises(TooManyLogins):
        limiter.begin("ada@example.com")  # ... and locks


def test_attempts_in_flight_count_so_parallel_guesses_stop_at_five() -> None:
    limiter = LoginLimiter(now=Clock())
    marks = [limiter.begin("ada@example.com") for _ in range(5)]  # none answered yet
    with pytest.raises(TooManyLogins):
        limiter.begin("ada@example.com")
    assert len(marks) == 5


def test_a_success_forgives_only_itself() -> None:
    limiter = LoginLimiter(now=Clock())
    _fail(limiter, "ada@example.com", 3)
    limiter.succeeded("ada@example.com", limiter.begin("ada@example.com"))
    _fail(limiter, "ada@example.com", 2)
    with pytest.raises(TooManyLogins):
        limiter.begin("ada@example.com")


def test_every_spelling_of_an_email_counts_against_its_one_account() -> None:
    """Non-ASCII capitals, full-width letters and decomposed accents are the same account
    (vwaza_cli/emails.py): they must not buy more guesses."""
    limiter = LoginLimiter(now=Clock())
    for spelling in ("Émile@example.com", "émile@example.com", "ÉMILE@example.com"):
        _fail(limiter, spelling, 1)
    _fail(limiter, "\uff25\u0301mile@\uff45xample.com", 1)  # full-width E + accent, e
    _fail(limiter, "E\u0301mile@example.com", 1)
    with pytest.raises(TooManyLogins):
        limiter.begin("émile@EXAMPLE.com")
