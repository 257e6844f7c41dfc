"""After a failed upload: try again (and when) or give up. One decision, made here only,
from the exception and the job; a value, not a loop (the state lives in the store)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from vwaza_cli.db.models import UploadJob
from vwaza_cli.errors import StagedCopyChanged, StorageError, StorageRefused, VwazaError

# Named conditions whose verdict does not depend on where they were raised.
_NAMED: tuple[tuple[type[VwazaError], bool], ...] = (
    (StagedCopyChanged, False),  # the accepted bytes are gone: no retry brings them back
    (StorageRefused, True),  # a setting to fix, not this file: each job waits and counts
)


@dataclass(frozen=True)
class Verdict:
    """What to record about a failed attempt."""

    error: str
    retry_at: datetime | None  # None: FAILED for good, the staged file kept


def is_transient(exc: BaseException) -> bool:
    """Whether trying again may help. Permanent are a staged copy that changed, and what the
    storage refuses for this one file (its type, its size; the file is gone); transient is
    storage refusing the daemon itself (fixing the setting lets every job through), and
    anything else (the store unreachable, a bug of ours)."""
    for kind, transient in _NAMED:
        if isinstance(exc, kind):
            return transient
    return exc.transient if isinstance(exc, StorageError) else True


def describe(exc: BaseException) -> str:
    """The error_log line: our own errors are worded for people, others are bugs."""
    return exc.message if isinstance(exc, VwazaError) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, with a maximum number of failures."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    max_failures: int = 20

    def decide(self, exc: BaseException, job: UploadJob, now: datetime) -> Verdict:
        """The verdict on ``job``'s attempt that failed with ``exc``; the budget is the
        failures since the job was last queued, this one included."""
        failures = job.failures_since_queued + 1
        cause = describe(exc)
        if not is_transient(exc):
            return Verdict(cause, None)
        retry_at = self.next_attempt(failures, now)
        if retry_at is None:  # first, so that cutting a long cause to the column keeps it
            return Verdict(f"gave up after {failures} failed attempts: {cause}", None)
        return Verdict(cause, retry_at)

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (1 = first)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(failures - 1, 0))
        return (rng or random).uniform(0.0, ceiling)

    def next_attempt(
        self, failures: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after ``failures`` failures, or None to give up (FAILED)."""
        if failures >= self.max_failures:
            return None
        return now + timedelta(seconds=self.delay(failures, rng))
