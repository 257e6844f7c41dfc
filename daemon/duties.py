"""The daemon's side duties, each a small task on its own period, run one after the other
on the main thread while the upload threads work: the heartbeat, removing deleted objects,
the storage check, the sweep, and (with --once) the check that the queue is drained.

Every duty notes its own failure in the log and is tried again on its next round: a store
or storage outage never ends the daemon.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from vwaza_cli.errors import StorageError, StorageRefused, VwazaError
from vwaza_cli.services import daemon_status, queue
from vwaza_cli.services.context import Context
from vwaza_cli.services.sweep import sweep
from vwaza_cli.storage import ObjectStore

log = logging.getLogger("vwaza.daemon")


@dataclass
class Task:
    """``action`` every ``every`` seconds, the first time ``first_after`` seconds from start."""

    name: str
    every: float
    action: Callable[[], None]
    first_after: float | None = None  # None: one period from start
    due: float = 0.0  # time.monotonic() of the next run

    def start(self, at: float) -> None:
        self.due = at + (self.every if self.first_after is None else self.first_after)

    def run(self) -> None:
        self.action()
        self.due = time.monotonic() + self.every


def run_tasks(tasks: Sequence[Task], stop: threading.Event) -> None:
    """Run each task when it is due, until ``stop`` is set."""
    started = time.monotonic()
    for task in tasks:
        task.start(started)
    while not stop.is_set():
        task = min(tasks, key=lambda t: t.due)
        if stop.wait(max(task.due - time.monotonic(), 0.0)):
            return
        task.run()


class StorageGate:
    """A wrong key, URL or bucket would fail every job: uploads start only while storage
    accepts us; meanwhile each job due records the refusal as a failed attempt (the upload
    threads ask ``refusal``). A transient failure does not close the gate (each job retries
    with backoff)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._open = threading.Event()
        self._checked = False
        self._refusal: StorageRefused | None = None

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    @property
    def refusal(self) -> StorageRefused | None:
        """Why storage refuses us, while it does; None otherwise."""
        return self._refusal

    def check(self) -> bool:
        """Ask the storage (creating the bucket if missing); True when uploads may run."""
        try:
            self._store.ensure_bucket()
        except StorageError as exc:
            if not exc.transient:
                self._close(exc.message)
                return False
            log.warning("storage not reachable yet: %s", exc.message)
        self._checked = True
        self._refusal = None
        self._open.set()
        return True

    def recheck_if_closed(self) -> None:
        if not self.is_open:
            self.check()

    def _close(self, reason: str) -> None:
        if self.is_open or not self._checked:  # said once, not on every recheck
            log.error("storage refuses us, no upload starts until fixed: %s", reason)
        self._refusal = StorageRefused(f"storage refuses the daemon, nothing was sent: {reason}")
        self._open.clear()
        self._checked = True


def beat(ctx: Context, daemon_id: str, in_flight: int, stopped: bool = False) -> None:
    """The heartbeat `vwaza daemon status` reads."""
    try:
        daemon_status.beat(ctx, daemon_id, os.getpid(), in_flight, stopped)
    except VwazaError as exc:
        log.warning("heartbeat not written: %s", exc.message)


def remove_deleted_objects(ctx: Context, store: ObjectStore) -> None:
    try:
        removed = queue.remove_deleted_objects(ctx, store.remove)
    except VwazaError as exc:
        log.warning("cannot remove deleted objects yet: %s", exc.message)
        return
    if removed:
        log.info("removed %d object(s) whose release, track or cover was deleted", removed)


def sweep_spool(ctx: Context) -> None:
    """Repairs after a crash (raises VwazaError when the store cannot be reached)."""
    report = sweep(ctx)
    if report.total:
        log.info(
            "sweep removed %d stale temp, %d orphan and %d uploaded leftover file(s)",
            report.stale_temp_files,
            report.orphan_files,
            report.uploaded_leftovers,
        )


def sweep_storage(store: ObjectStore, older_than: timedelta) -> None:
    """What uploads cut short left in storage: temp files, unfinished resumable uploads."""
    try:
        removed = store.sweep_temp(older_than)
    except StorageError as exc:
        log.warning("storage leftovers not swept: %s", exc.message)
        return
    if removed:
        log.info("sweep removed %d leftover(s) of interrupted uploads from storage", removed)


def drained(ctx: Context) -> bool:
    """Nothing left for this machine: no job PENDING or UPLOADING, no object to remove."""
    try:
        return queue.outstanding(ctx) == 0
    except VwazaError:
        return False
