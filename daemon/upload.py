"""One claimed job taken to storage: upload, verify, record, delete the local copy.

The order is what makes a file impossible to lose: the local copy is deleted only after
the transaction that records the cloud URL and marks the job COMPLETED has committed. A
crash anywhere before that leaves the file and a job that will be tried again; a crash
after it leaves a file the sweep removes.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from daemon.policy import RetryPolicy, Verdict
from vwaza_cli import clock
from vwaza_cli.db.models import UploadJob
from vwaza_cli.errors import (
    PermanentStorageError,
    StagedCopyChanged,
    StorageRefused,
    TransientStorageError,
    VwazaError,
)
from vwaza_cli.services import queue, spool
from vwaza_cli.services.context import Context
from vwaza_cli.storage import ObjectStore
from vwaza_cli.storage.base import file_md5

log = logging.getLogger("vwaza.daemon")


class LeaseLost(Exception):
    """Another daemon owns the job now: stop touching it."""


class Stopping(Exception):
    """The grace period is over: give the job back."""


class Uploader:
    """Carries claimed jobs to the store for ``owner``; the upload threads share one."""

    def __init__(
        self,
        ctx: Context,
        store: ObjectStore,
        owner: str,
        lease: timedelta,
        policy: RetryPolicy,
        abort: threading.Event,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.owner = owner
        self.lease = lease
        self.policy = policy
        self.abort = abort  # set when the grace period is over

    def process(self, job: UploadJob) -> None:
        """Take ``job`` as far as it goes; every outcome is recorded, none is raised."""
        _log_claimed(job)
        try:
            self._store_object(job)
            self._finish(job)
        except Stopping:
            queue.give_back(self.ctx, job.id, self.owner)
            log.info("gave back %s: shutting down", job.id)
        except LeaseLost:
            log.warning("lease on %s lost: another daemon took it over", job.id)
        except VwazaError as exc:
            self._failed(job, exc)
        except Exception as exc:  # a bug must not kill the thread nor lose the file
            log.exception("unexpected error on %s", job.id)
            self._failed(job, exc)

    def refuse(self, job: UploadJob, refusal: StorageRefused) -> None:
        """Storage refuses the daemon itself: count the attempt on ``job``, with the cause,
        without sending anything."""
        self._failed(job, refusal)

    # --- storing ------------------------------------------------------------------------

    def _store_object(self, job: UploadJob) -> None:
        path = Path(job.local_path)
        if path.exists():
            self._upload(job, path)
        elif not self._already_stored(job):
            raise _missing(job)

    def _upload(self, job: UploadJob, path: Path) -> None:
        keeper = LeaseKeeper(self, job)
        try:
            sent_md5 = self.store.put_file(
                job.object_key,
                path,
                content_type=job.content_type,
                size=job.size,
                sha256=job.sha256,
                on_progress=keeper,
            )
        except StagedCopyChanged:
            self._discard_object(job)
            raise
        keeper.check()
        self._verify(job, path, sent_md5)

    def _discard_object(self, job: UploadJob) -> None:
        """The staged copy changed: whatever its key holds is not known to be the file that
        was accepted, and no job will ever record it."""
        try:
            self.store.remove(job.object_key)
        except VwazaError as exc:
            log.warning("cannot remove %s: %s", job.object_key, exc.message)

    def _verify(self, job: UploadJob, path: Path, sent_md5: str | None) -> None:
        info = self.store.info(job.object_key)
        if info is None or info.size != job.size:
            got = "nothing" if info is None else f"{info.size} bytes"
            raise TransientStorageError(
                f"verification failed: stored object holds {got}, expected {job.size}"
            )
        if info.md5 and info.md5 != (sent_md5 or file_md5(path)):
            raise TransientStorageError(
                "verification failed: stored object's MD5 differs from the file's"
            )

    def _already_stored(self, job: UploadJob) -> bool:
        """The local copy is gone: fine if the object is there (a crash after upload)."""
        info = self.store.info(job.object_key)
        return info is not None and info.size == job.size

    # --- recording ----------------------------------------------------------------------

    def _finish(self, job: UploadJob) -> None:
        path = Path(job.local_path)
        url = self.store.url_for(job.object_key)
        if queue.complete(self.ctx, job, self.owner, url):
            if not queue.keeps_local_copy(self.ctx, job) and spool.discard([path]):
                spool.fsync_dir(path.parent)
            log.info("completed %s -> %s", job.id, url)
        elif queue.job_exists(self.ctx, job.id):
            raise LeaseLost(job.id)
        else:
            self._forget_deleted(job, path)

    def _forget_deleted(self, job: UploadJob, path: Path) -> None:
        """Its track or release was deleted during the upload: nothing may keep the object."""
        self.store.remove(job.object_key)
        spool.discard([path])
        log.info("%s was deleted while uploading: removed %s", job.id, job.object_key)

    def _failed(self, job: UploadJob, exc: BaseException) -> None:
        now = clock.now()
        verdict = self.policy.decide(exc, job, now)
        try:
            recorded = queue.fail(self.ctx, job, self.owner, verdict.error, verdict.retry_at)
        except VwazaError as unrecorded:
            log.error(
                "cannot record the failure of %s (%s): its lease will expire",
                job.id,
                unrecorded.message,
            )
            return
        _log_failure(job, verdict, recorded, now)


def _log_claimed(job: UploadJob) -> None:
    attempt = job.failures_since_queued + 1
    log.info("claimed %s %s (%d bytes, attempt %d)", job.type, job.id, job.size, attempt)


def _log_failure(job: UploadJob, verdict: Verdict, recorded: bool, decided: datetime) -> None:
    failures = job.retry_count + 1  # in the job's whole life, this one included
    if not recorded:
        log.warning("lease on %s lost before its failure was recorded", job.id)
    elif verdict.retry_at is None:
        log.error("FAILED %s (failure %d): %s (file kept)", job.id, failures, verdict.error)
    else:
        wait = (verdict.retry_at - decided).total_seconds()  # the delay drawn, never < 0
        log.warning("retry %s in %.1fs (failure %d): %s", job.id, wait, failures, verdict.error)


def _missing(job: UploadJob) -> PermanentStorageError:
    return PermanentStorageError(
        f"the staged file {job.local_path} is missing and the object {job.object_key} "
        "is not in storage: add the file again"
    )


PROGRESS_FROM = 8 * 1024 * 1024  # a smaller file goes up in a moment: no progress said
PROGRESS_STEPS = 10  # a larger one says how far it got at each tenth


class LeaseKeeper:
    """Called with upload progress (the bytes sent so far): extends the lease now and
    then, aborts when told to. A large upload also says how far it got at each tenth: a
    log line, and ``bytes_sent`` written with a lease extension (a few writes a file, never
    one a piece)."""

    def __init__(self, uploader: Uploader, job: UploadJob) -> None:
        self.uploader = uploader
        self.job_id = job.id
        self.size = job.size
        self.interval = uploader.lease.total_seconds() / 3
        self.last = time.monotonic()
        self.step = job.size // PROGRESS_STEPS if job.size >= PROGRESS_FROM else 0
        self.next_mark = self.step  # bytes sent at which the next tenth is said

    def __call__(self, sent: int) -> None:
        self.check()
        if self.step and self.next_mark <= sent < self.size:
            self._extend(sent)
            log.info("uploading %s %s", self.job_id, progress_text(sent, self.size))
            self.next_mark = (sent // self.step + 1) * self.step
        elif time.monotonic() - self.last >= self.interval:
            self._extend(sent if self.step else None)

    def _extend(self, sent: int | None) -> None:
        up = self.uploader
        if not queue.extend(up.ctx, self.job_id, up.owner, up.lease, sent):
            raise LeaseLost(self.job_id)
        self.last = time.monotonic()

    def check(self) -> None:
        if self.uploader.abort.is_set():
            raise Stopping(self.job_id)


def progress_text(sent: int, size: int) -> str:
    """`30% (300 MB of 1.0 GB)`."""
    return f"{sent * 100 // size}% ({size_text(sent)} of {size_text(size)})"


def size_text(n: int) -> str:
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} GB"
    if n >= 100_000_000:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e6:.1f} MB"
