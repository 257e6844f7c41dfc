"""The upload daemon as one object: N upload threads claiming jobs under a lease, and on
the calling thread the side duties (daemon/duties.py), until stopped.

Stopping (a signal, or --once with nothing left) only sets a flag; then the worker shuts
down: no new claim, in-flight uploads get the grace period to finish, what still runs
after it is given back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from daemon import duties
from daemon.duties import StorageGate, Task
from daemon.policy import RetryPolicy
from daemon.processing import Processor, ProcessorConfig, default_workers, sweep_abandoned
from daemon.upload import Uploader
from daemon.watcher import watch_spool
from vwaza_cli import clock
from vwaza_cli.db.models import UploadJob
from vwaza_cli.errors import VwazaError
from vwaza_cli.services import processing, queue
from vwaza_cli.services.context import Context
from vwaza_cli.services.daemon_status import HEARTBEAT_SECONDS
from vwaza_cli.storage import ObjectStore

log = logging.getLogger("vwaza.daemon")
SWEEP_EVERY_SECONDS = 600.0
STORAGE_RECHECK_SECONDS = 30.0
DRAINED_CHECK_SECONDS = 0.2  # --once: how soon after the last job the daemon exits
ABORTED_JOIN_SECONDS = 30.0  # after the grace period: time to give the jobs back


@dataclass
class WorkerConfig:
    concurrency: int = 2
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 5.0
    grace_seconds: float = 20.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    once: bool = False  # stop when no job is PENDING or UPLOADING and nothing to process
    processing_workers: int = field(default_factory=default_workers)

    @property
    def abandoned_after(self) -> timedelta:
        """How long what an upload left in storage (a temp file, a resumable upload) may sit
        untouched before the sweep takes it for abandoned: past a lease and the longest
        retry delay, no attempt is coming back to it."""
        return self.lease + timedelta(seconds=self.policy.cap_seconds)


def new_owner_id() -> str:
    """Names this daemon on its leases and heartbeat: host, process, and a random part."""
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Owns the upload threads and the side duties: ``prepare``, ``run``, ``stop``,
    ``shutdown``."""

    def __init__(self, ctx: Context, store: ObjectStore, config: WorkerConfig) -> None:
        self.ctx = ctx
        self.store = store
        self.config = config
        self.owner = new_owner_id()
        self.storage = StorageGate(store)
        self._stopping = threading.Event()
        self._wake = threading.Event()  # a file landed, or stop
        self._abort = threading.Event()  # grace period over: give jobs back
        self._uploader = Uploader(ctx, store, self.owner, config.lease, config.policy, self._abort)
        processing = ProcessorConfig(config.processing_workers, config.lease)
        self._processor = Processor(ctx, store, self.owner, processing, self._abort)
        self._threads: list[threading.Thread] = []
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # --- the life of the daemon ---------------------------------------------------------

    def prepare(self) -> None:
        """Repairs, then the storage check that decides whether uploads may start."""
        duties.sweep_storage(self.store, self.config.abandoned_after)
        removed = sweep_abandoned(self.ctx)
        if removed:
            log.info("removed %d file(s) a stopped daemon's processing left", removed)
        duties.sweep_spool(self.ctx)
        self.storage.check()

    def run(self) -> None:
        """Upload until stopped, then shut down; closes the object store."""
        observer = watch_spool(self.ctx.settings.spool_dir, self._wake)
        try:
            self._processor.open()
            self._start_upload_threads()
            self._start_processing_threads()
            duties.run_tasks(self._duties(), self._stopping)
        finally:
            self.shutdown()
            self._processor.close(idle=not any(t.is_alive() for t in self._threads))
            if observer is not None:
                observer.stop()
            self.store.close()

    def stop(self) -> None:
        """Ask the daemon to stop (safe from a signal handler): no new claim from now on."""
        self._stopping.set()
        self._wake.set()

    def shutdown(self) -> None:
        """Let in-flight uploads finish within the grace period, then give them back."""
        self.stop()
        deadline = time.monotonic() + self.config.grace_seconds
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        if any(thread.is_alive() for thread in self._threads):
            log.warning("grace period over: giving back in-flight uploads")
            self._abort.set()
            for thread in self._threads:
                thread.join(ABORTED_JOIN_SECONDS)
        duties.beat(self.ctx, self.owner, self.in_flight, stopped=True)

    # --- the side duties ----------------------------------------------------------------

    def _duties(self) -> list[Task]:
        tasks = [
            Task("heartbeat", HEARTBEAT_SECONDS, self._beat, first_after=0.0),
            Task("deletions", HEARTBEAT_SECONDS, self._remove_deleted_objects),
            Task("storage check", STORAGE_RECHECK_SECONDS, self.storage.recheck_if_closed),
            Task("sweep", SWEEP_EVERY_SECONDS, self._sweep),
        ]
        if self.config.once:
            tasks.append(Task("drained", DRAINED_CHECK_SECONDS, self._stop_if_drained, 0.0))
        return tasks

    def _beat(self) -> None:
        duties.beat(self.ctx, self.owner, self.in_flight)

    def _remove_deleted_objects(self) -> None:
        if self.storage.is_open:
            duties.remove_deleted_objects(self.ctx, self.store)

    def _sweep(self) -> None:
        try:
            self.prepare()
        except VwazaError as exc:
            log.warning("sweep not done: %s", exc.message)

    def _stop_if_drained(self) -> None:
        """--once: stop when idle and nothing is left (objects to remove go first)."""
        if self.in_flight:
            return
        self._remove_deleted_objects()
        if duties.drained(self.ctx):
            self.stop()

    # --- the upload threads -------------------------------------------------------------

    def _start_upload_threads(self) -> None:
        self._threads = [
            threading.Thread(target=self._upload_loop, name=f"upload-{n}", daemon=True)
            for n in range(self.config.concurrency)
        ]
        log.info(
            "vwaza-daemon %s on %s: %d upload thread(s), storage %s",
            self.owner,
            self.ctx.settings.machine_id,
            self.config.concurrency,
            self.store.name,
        )
        for thread in self._threads:
            thread.start()

    def _start_processing_threads(self) -> None:
        workers = [
            threading.Thread(
                target=self._processing_loop, args=(n,), name=f"process-{n}", daemon=True
            )
            for n in range(self.config.processing_workers)
        ]
        log.info("%d processing worker(s)", len(workers))
        self._threads += workers
        for thread in workers:
            thread.start()

    def _processing_loop(self, number: int) -> None:
        # Each thread leases in a name of its own: the lease fences one attempt, so two
        # threads of this daemon never both record the same track.
        processor = self._processor.for_thread(f"{self.owner}/p{number}")
        while not self._stopping.is_set():
            task = processor.claim()
            if task is None:
                self._wait_for_work()
                continue
            with self._counted():
                processor.process(task)
            self._wake.set()  # its renditions are new upload jobs

    def _upload_loop(self) -> None:
        while not self._stopping.is_set():
            job = self._claim()
            if job is None:
                self._wait_for_work()
                continue
            with self._counted():
                self._work_on(job)

    def _work_on(self, job: UploadJob) -> None:
        """Upload it; while storage refuses us, record that on the job instead (it waits
        its backoff like after any failure, so this is no busy loop)."""
        refusal = self.storage.refusal
        if refusal is None:
            self._uploader.process(job)
        else:
            self._uploader.refuse(job, refusal)

    def _claim(self) -> UploadJob | None:
        try:
            return queue.claim(self.ctx, self.owner, self.config.lease)
        except VwazaError as exc:  # store unreachable: wait and try again
            log.warning("cannot claim jobs: %s", exc.message)
            return None

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _wait_for_work(self) -> None:
        """Sleep until a file lands, the next job is due, the poll interval ends, or stop."""
        if self._stopping.is_set():
            return
        self._wake.wait(self._seconds_to_wait())
        if not self._stopping.is_set():  # never swallow the wake-up that announces the stop
            self._wake.clear()

    def _seconds_to_wait(self) -> float:
        try:
            dues = [queue.next_due(self.ctx), processing.next_due(self.ctx)]
        except VwazaError:
            dues = []
        due = min((d for d in dues if d is not None), default=None)
        if due is None:
            return self.config.poll_seconds
        return min(self.config.poll_seconds, max((due - clock.now()).total_seconds(), 0.05))
