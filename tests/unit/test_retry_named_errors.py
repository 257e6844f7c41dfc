"""The named conditions the retry decision knows by name: a staged copy that changed is
never retried; storage refusing the daemon itself is retried with backoff and counted, until
the budget is spent. And the storage gate that names the refusal."""

from __future__ import annotations

from datetime import timedelta

from daemon.duties import StorageGate
from daemon.policy import RetryPolicy
from vwaza_cli import clock
from vwaza_cli.db.models import JobType, UploadJob
from vwaza_cli.errors import PermanentStorageError, StagedCopyChanged, StorageRefused

POLICY = RetryPolicy(base_seconds=2, cap_seconds=60, max_failures=3)


def _job(failures_since_queued: int = 0) -> UploadJob:
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
    )


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
