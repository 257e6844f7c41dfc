"""The daemon's retry decision, in one place: from the exception (transient or permanent)
and the job (its failures since it was last queued), when to try again or to give up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from daemon.duties import StorageGate
from daemon.policy import RetryPolicy, describe, is_transient
from vwaza_cli import clock
from vwaza_cli.db.models import JobType, UploadJob
from vwaza_cli.errors import (
    PermanentStorageError,
    StagedCopyChanged,
    StorageRefused,
    StoreUnavailable,
    TransientStorageError,
)

POLICY = RetryPolicy(base_seconds=2, cap_seconds=60, max_failures=3)


def _job(failures_since_queued: int = 0, retry_count: int = 0) -> UploadJob:
    return UploadJob(
        target_id="t",
        release_id="r",
        type=JobType.AUDIO,
        local_path="/spool/a.wav",
        sha256="0" * 64,
        size=1,
        content_type="audio/wav",
        object_key="audio/r/a.wav",
        machine_id="m",
        failures_since_queued=failures_since_queued,
        retry_count=retry_count,
    )


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (TransientStorageError("503 from storage"), True),
        (PermanentStorageError("mime type refused"), False),
        (StoreUnavailable("database unreachable"), True),
        (KeyError("a bug"), True),
    ],
)
def test_only_the_storage_calls_a_failure_permanent(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_a_transient_failure_within_the_budget_is_retried_after_a_backoff() -> None:
    now = clock.now()
    verdict = POLICY.decide(TransientStorageError("503"), _job(failures_since_queued=1), now)
    assert verdict.error == "503"
    assert verdict.retry_at is not None
    assert now <= verdict.retry_at <= now + timedelta(seconds=4)  # the second failure's ceiling


def test_the_failure_that_spends_the_budget_fails_the_job() -> None:
    verdict = POLICY.decide(
        TransientStorageError("503"), _job(failures_since_queued=2), clock.now()
    )
    assert verdict.retry_at is None


def test_the_budget_is_the_failures_since_queued_not_those_of_the_whole_life() -> None:
    job = _job(failures_since_queued=0, retry_count=50)  # `jobs retry` gave it a fresh budget
    assert POLICY.decide(TransientStorageError("503"), job, clock.now()).retry_at is not None


def test_a_permanent_failure_fails_the_job_at_once() -> None:
    verdict = POLICY.decide(PermanentStorageError("mime type refused"), _job(), clock.now())
    assert (verdict.error, verdict.retry_at) == ("mime type refused", None)


def test_a_bug_is_recorded_with_its_type_and_retried() -> None:
    assert describe(KeyError("track")) == "KeyError: 'track'"
    assert POLICY.decide(KeyError("track"), _job(), clock.now()).retry_at is not None


# --- the named conditions: a staged copy that changed is never retried; storage refusing
# the daemon itself is retried with backoff and counted until the budget is spent ---------


def test_a_staged_copy_that_changed_fails_the_job_at_once_with_its_message() -> None:
    changed = StagedCopyChanged("the staged copy /spool/a.wav changed after it was queued")

    verdict = POLICY.decide(changed, _job(), clock.now())

    assert (verdict.error, verdict.retry_at) == (changed.message, None)


def test_storage_refusing_the_daemon_is_retried_after_a_backoff_until_the_budget_ends() -> None:
    refusal = StorageRefused("storage refuses the daemon, nothing was sent: wrong key")
    now = clock.now()

    first = POLICY.decide(refusal, _job(failures_since_queued=0), now)
    last = POLICY.decide(refusal, _job(failures_since_queued=2), now)

    assert first.error == refusal.message
    assert first.retry_at is not None
    assert now <= first.retry_at <= now + timedelta(seconds=2)
    assert last.retry_at is None  # FAILED after the policy's attempts, as for any failure


class _Store:
    def __init__(self, failure: Exception | None) -> None:
        self.failure = failure

    def ensure_bucket(self) -> None:
        if self.failure is not None:
            raise self.failure


def test_the_closed_gate_names_the_refusal_and_forgets_it_once_open() -> None:
    store = _Store(PermanentStorageError("storage refused the key: set SUPABASE_KEY"))
    gate = StorageGate(store)  # a stand-in with only ensure_bucket

    gate.check()
    refusal = gate.refusal
    store.failure = None
    gate.recheck_if_closed()

    assert refusal is not None
    assert refusal.message == (
        "storage refuses the daemon, nothing was sent: storage refused the key: set SUPABASE_KEY"
    )
    assert (gate.is_open, gate.refusal) == (True, None)


def test_giving_up_says_so_before_the_cause() -> None:
    verdict = POLICY.decide(
        TransientStorageError("503 from storage"), _job(failures_since_queued=2), clock.now()
    )
    assert verdict.error == "gave up after 3 failed attempts: 503 from storage"


def test_a_retried_failure_keeps_its_cause_as_it_is() -> None:
    verdict = POLICY.decide(TransientStorageError("503 from storage"), _job(), clock.now())
    assert verdict.error == "503 from storage"
