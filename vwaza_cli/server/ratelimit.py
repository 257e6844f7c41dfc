"""Failed logins per account: 5 within 15 minutes lock the account's logins for 15 minutes.

Kept in the server's memory, not in the store: the lock guards the one door into the store
that the server keeps, so only the server needs it; `vwaza serve` runs one process, so one
counter sees every attempt; and the store's schema is not widened for a counter whose loss
at a restart (which an attacker cannot cause) gives back at most 5 more guesses. Keyed by the
email as typed, lower-cased, whether or not an account has it: an unknown email is counted
and locked alike, so the lock says nothing about who has an account.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vwaza_cli import clock
from vwaza_cli.emails import email_key
from vwaza_cli.server.errors import TooManyLogins

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass
class _Account:
    failures: list[datetime] = field(default_factory=list)  # recent, and attempts in flight
    locked_until: datetime | None = None


class LoginLimiter:
    """Thread-safe: an attempt is counted as a failure from its start (``begin``) and
    forgiven only when it succeeds, so parallel guesses cannot slip past the limit."""

    def __init__(self, now: Callable[[], datetime] = clock.now) -> None:
        self._now = now
        self._accounts: dict[str, _Account] = {}
        self._mutex = threading.Lock()

    def begin(self, email: str) -> datetime:
        """Refuse a locked account (TooManyLogins); otherwise count the attempt as failed
        until ``succeeded``. Returns the attempt's mark, to hand back."""
        moment = self._now()
        with self._mutex:
            self._forget_stale(moment)
            account = self._accounts.setdefault(_key(email), _Account())
            self._refuse_if_locked(account, moment)
            account.failures.append(moment)
            if len(account.failures) >= MAX_FAILURES:
                account.locked_until = moment + LOCK  # this attempt is the last one allowed
            return moment

    def succeeded(self, email: str, mark: datetime) -> None:
        with self._mutex:
            account = self._accounts.get(_key(email))
            if account is not None and mark in account.failures:
                account.failures.remove(mark)
                if len(account.failures) < MAX_FAILURES:
                    account.locked_until = None

    def _refuse_if_locked(self, account: _Account, moment: datetime) -> None:
        if account.locked_until is not None and moment < account.locked_until:
            seconds = (account.locked_until - moment).total_seconds()
            minutes = max(1, math.ceil(seconds / 60))
            raise TooManyLogins(
                f"too many failed logins: retry in {minutes} minutes", math.ceil(seconds)
            )
        if account.locked_until is not None:  # the lock is over: a fresh start
            account.failures.clear()
            account.locked_until = None

    def _forget_stale(self, moment: datetime) -> None:
        """Drop failures older than the window, and accounts with nothing left to remember
        (memory stays proportional to the attempts of the last 15 minutes)."""
        since = moment - WINDOW
        for key, account in list(self._accounts.items()):
            account.failures = [f for f in account.failures if f > since]
            locked = account.locked_until is not None and moment < account.locked_until
            if not account.failures and not locked:
                del self._accounts[key]


def _key(email: str) -> str:
    return email_key(email)  # every spelling of one account's email counts against it
