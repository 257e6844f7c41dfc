"""The upload worker: claim a job under a lease, upload, verify, record, delete the local copy.

The order is what makes a file impossible to lose: the local copy is deleted only after
the transaction that records the cloud URL and marks the job COMPLETED has committed. A
crash anywhere before that leaves the file and a job that will be tried again; a crash
after it leaves a file the sweep removes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from daemon.policy import RetryPolicy
from vwaza_cli import clock
from vwaza_cli.errors import StorageError, VwazaError
from vwaza_cli.services import queue, spool
from vwaza_cli.services.context import Context
from vwaza_cli.storage import ObjectStore

log = logging.getLogger("vwaza.daemon")


class LeaseLost(Exception):
    """Another daemon owns the job now: stop touching it."""


class Stopping(Exception):
    """The grace period is over: give the job back."""


@dataclass
class WorkerConfig:
    concurrency: int = 2
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 5.0
    grace_seconds: float = 20.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class Daemon:
    """N upload threads sharing one store, one object store and one stop flag."""

    ctx: Context
    store: ObjectStore
    config: WorkerConfig
    owner: str = field(
        default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    )
    wake: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    abort: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)  # storage accepts us
    ready_checked: bool = False
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the loop of one thread ---------------------------------------------------------

    def run_thread(self) -> None:
        while not self.stop.is_set():
            if not self.ready.is_set():
                self.ready.wait(self.config.poll_seconds)
                continue
            try:
                ticket = queue.claim(self.ctx, self.owner, self.config.lease)
            except VwazaError as exc:  # store unreachable: wait and try again
                log.warning("cannot claim jobs: %s", exc.message)
                self._wait()
                continue
            if ticket is None:
                self._wait()
                continue
            self._count(+1)
            try:
                self.process(ticket)
            finally:
                self._count(-1)

    def _count(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta

    def _wait(self) -> None:
        """Sleep until a file lands, the next job is due, the poll interval ends, or stop."""
        if self.stop.is_set():
            return
        timeout = self.config.poll_seconds
        try:
            due = queue.next_due(self.ctx)
        except VwazaError:
            due = None
        if due is not None:
            timeout = min(timeout, max((due - clock.now()).total_seconds(), 0.05))
        self.wake.wait(timeout)
        if not self.stop.is_set():  # never swallow the wake-up that announces the stop
            self.wake.clear()

    # --- one job ------------------------------------------------------------------------

    def process(self, ticket: queue.Ticket) -> None:
        path = Path(ticket.local_path)
        log.info(
            "claimed %s %s (%d bytes, attempt %d)",
            ticket.type,
            ticket.id,
            ticket.size,
            ticket.attempts,
        )
        try:
            if path.exists():
                self._upload(ticket, path)
            elif not self._already_stored(ticket):
                raise_missing(ticket)
            self._finish(ticket, path)
        except Stopping:
            queue.give_back(self.ctx, ticket.id, self.owner)
            log.info("gave back %s: shutting down", ticket.id)
        except LeaseLost:
            log.warning("lease on %s lost: another daemon took it over", ticket.id)
        except StorageError as exc:
            self._failed(ticket, exc.message, transient=exc.transient)
        except VwazaError as exc:
            self._failed(ticket, exc.message, transient=True)
        except Exception as exc:  # a bug must not kill the thread nor lose the file
            log.exception("unexpected error on %s", ticket.id)
            self._failed(ticket, f"{type(exc).__name__}: {exc}", transient=True)

    def _upload(self, ticket: queue.Ticket, path: Path) -> None:
        keeper = _LeaseKeeper(self, ticket.id)
        sent_md5 = self.store.put_file(
            ticket.object_key,
            path,
            content_type=ticket.content_type,
            size=ticket.size,
            on_progress=keeper,
        )
        keeper.check()
        self._verify(ticket, path, sent_md5)

    def _verify(self, ticket: queue.Ticket, path: Path, sent_md5: str | None) -> None:
        from vwaza_cli.storage.base import file_md5

        info = self.store.info(ticket.object_key)
        if info is None or info.size != ticket.size:
            got = "nothing" if info is None else f"{info.size} bytes"
            raise _transient(
                f"verification failed: stored object holds {got}, expected {ticket.size}"
            )
        if info.md5 and info.md5 != (sent_md5 or file_md5(path)):
            raise _transient("verification failed: stored object's MD5 differs from the file's")

    def _already_stored(self, ticket: queue.Ticket) -> bool:
        """The local copy is gone: fine if the object is there (a crash after upload)."""
        info = self.store.info(ticket.object_key)
        return info is not None and info.size == ticket.size

    def _finish(self, ticket: queue.Ticket, path: Path) -> None:
        url = self.store.url_for(ticket.object_key)
        if not queue.complete(self.ctx, ticket, self.owner, url):
            if not queue.job_exists(self.ctx, ticket.id):
                # its track or release was deleted during the upload: nothing may keep it
                self.store.remove(ticket.object_key)
                spool.discard([path])
                log.info("%s was deleted while uploading: removed %s", ticket.id, ticket.object_key)
                return
            raise LeaseLost(ticket.id)
        if spool.discard([path]):
            spool.fsync_dir(path.parent)
        log.info("completed %s -> %s", ticket.id, url)

    def _failed(self, ticket: queue.Ticket, error: str, *, transient: bool) -> None:
        failures = ticket.retry_count + 1
        # the budget counts attempts since the job was last queued (`jobs retry` resets it)
        budget_used = ticket.attempts
        retry_at = self.config.policy.next_attempt(budget_used, clock.now()) if transient else None
        try:
            recorded = queue.fail(self.ctx, ticket, self.owner, error, retry_at)
        except VwazaError as exc:
            log.error(
                "cannot record the failure of %s (%s): its lease will expire",
                ticket.id,
                exc.message,
            )
            return
        if not recorded:
            log.warning("lease on %s lost before its failure was recorded", ticket.id)
        elif retry_at is None:
            log.error("FAILED %s after %d attempt(s): %s (file kept)", ticket.id, failures, error)
        else:
            wait = (retry_at - clock.now()).total_seconds()
            log.warning("retry %s in %.1fs (failure %d): %s", ticket.id, wait, failures, error)


class _LeaseKeeper:
    """Called with upload progress: extends the lease now and then, aborts when told to."""

    def __init__(self, daemon: Daemon, job_id: str) -> None:
        self.daemon = daemon
        self.job_id = job_id
        self.interval = daemon.config.lease.total_seconds() / 3
        self.last = time.monotonic()

    def __call__(self, _sent: int) -> None:
        self.check()
        if time.monotonic() - self.last >= self.interval:
            if not queue.extend(
                self.daemon.ctx, self.job_id, self.daemon.owner, self.daemon.config.lease
            ):
                raise LeaseLost(self.job_id)
            self.last = time.monotonic()

    def check(self) -> None:
        if self.daemon.abort.is_set():
            raise Stopping(self.job_id)


def _transient(message: str) -> StorageError:
    from vwaza_cli.errors import TransientStorageError

    return TransientStorageError(message)


def raise_missing(ticket: queue.Ticket) -> None:
    from vwaza_cli.errors import PermanentStorageError

    raise PermanentStorageError(
        f"the staged file {ticket.local_path} is missing and the object {ticket.object_key} "
        "is not in storage: add the file again"
    )
