"""Processing on the daemon: N processor threads, each claiming one task at a time and
running it in a worker process of its own, apart from the upload threads.

Worker processes fork from a lean FFmpeg-and-NumPy server process (multiprocessing's
forkserver, preloaded with the renderer only), so a worker starts in milliseconds and
carries no store, ORM or storage client. A worker ends with its daemon (it watches the
daemon's pidfd): a killed daemon leaves no worker writing files. What a worker writes goes to this
daemon's own folder under ``spool/.processing``; the folder is locked while the daemon
lives, and removed by the next daemon once it is not (daemon/duties.py).

The order that makes a crash harmless: the worker writes and fsyncs temp files; the thread
writes down (fsynced, in the daemon's folder) the spool paths it is about to fill, renames
the files there under their jobs' IDs and fsyncs the spool; then one fenced transaction
records everything (services/processing.py). A crash before the rename leaves temp files;
after it, files no row may name yet. The next daemon removes the first and settles the
second: it fences the dead owner out of the task, then removes those that no job names.
"""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from vwaza_cli.db.models import new_id
from vwaza_cli.errors import PermanentStorageError, VwazaError
from vwaza_cli.processing import entry
from vwaza_cli.processing.work import Outcome, Rendition, Request
from vwaza_cli.services import processing, spool
from vwaza_cli.services.context import Context
from vwaza_cli.services.processing import Made, Task
from vwaza_cli.storage import ObjectStore
from vwaza_cli.storage.base import read_checked

log = logging.getLogger("vwaza.daemon")
FOLDER = ".processing"
LOCK = "lock"
INTENT = ".intent"  # a recording under way: the spool files it puts down (settle_intents)
# What the forkserver imports once, so that each worker starts with it loaded: the renderer
# (PyAV, NumPy) and the light module the workers start in.
PRELOADED = ("vwaza_cli.processing.render", "vwaza_cli.processing.entry")
_SPAWNER: Any = None  # the forkserver context, made once per process
_SPAWNER_LOCK = threading.Lock()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


# --- the worker processes ----------------------------------------------------------------


def _spawner() -> Any:
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOADED))
            _SPAWNER = context
        return _SPAWNER


def _warm_up() -> None:
    """Start the forkserver (and its preloads) ahead of the first worker: a second or so
    that the first track's processing then does not wait for."""
    _spawner()
    multiprocessing.forkserver.ensure_running()


# --- the daemon's side ------------------------------------------------------------------


class Undecodable(Exception):
    """The master cannot be decoded: its release goes back to the artist."""


class WorkerFailed(Exception):
    """The worker failed or died: tried again after a backoff."""


class Abandoned(Exception):
    """The daemon is stopping, or the task is not ours any more: nothing is recorded."""


@dataclass
class ProcessorConfig:
    workers: int
    lease: timedelta


class Processor:
    """Runs claimed processing tasks; the processor threads share one."""

    def __init__(
        self,
        ctx: Context,
        store: ObjectStore,
        owner: str,
        config: ProcessorConfig,
        abort: threading.Event,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.owner = owner
        self.config = config
        self.abort = abort
        self.folder = own_folder(ctx, owner)
        self._lock_fd: int | None = None

    def for_thread(self, owner: str) -> Processor:
        """The same processor leasing as ``owner`` (one per processing thread), sharing
        this daemon's folder and its lock."""
        twin = copy.copy(self)
        twin.owner = owner
        return twin

    def open(self) -> None:
        """This daemon's temp folder, locked for as long as it lives."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        if self._work_waiting():  # start the forkserver now, beside the first claims
            threading.Thread(target=_warm_up, name="forkserver", daemon=True).start()

    def _work_waiting(self) -> bool:
        try:
            return processing.outstanding(self.ctx) > 0
        except VwazaError:
            return False

    def close(self, *, idle: bool = True) -> None:
        """Clear this daemon's folder once its processing threads have stopped (``idle``);
        a thread still running keeps it as it is, for the next daemon's sweep."""
        if idle:
            _clear_folder(self.ctx, self.folder)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def claim(self) -> Task | None:
        try:
            return processing.claim(self.ctx, self.owner, self.config.lease)
        except VwazaError as exc:
            log.warning("cannot claim processing: %s", exc.message)
            return None

    def process(self, task: Task) -> None:
        """Take ``task`` as far as it goes; every outcome is recorded, none is raised."""
        log.info("processing track %s (%s)", task.track_id, ",".join(k for k in task.make))
        started = time.monotonic()
        try:
            self._record(task, self._run(task))
            log.info("processed track %s in %.1fs", task.track_id, time.monotonic() - started)
        except Abandoned as exc:
            processing.give_back(self.ctx, task, self.owner)
            log.info("gave back processing of %s: %s", task.track_id, exc)
        except Undecodable as exc:
            self._fail(task, str(exc), permanent=True)
        except (WorkerFailed, VwazaError, OSError) as exc:
            self._fail(task, _message(exc), permanent=False)
        except Exception as exc:  # a bug must not kill the thread
            log.exception("unexpected error processing %s", task.track_id)
            self._fail(task, f"{type(exc).__name__}: {exc}", permanent=False)

    # --- running -------------------------------------------------------------------------

    def _run(self, task: Task) -> Outcome:
        master, fetched = self._master(task)
        try:
            request = Request(
                master=str(master),
                temp_dir=str(self.folder),
                token=f"{task.track_id}.{new_id()[:8]}",  # this attempt's files only
                measure=task.measure,
                make=task.make,
                preview_start=task.preview_start,
                sha256=task.master_sha256,
                size=task.master_size,
            )
            return self._in_worker(task, request)
        finally:
            if fetched:
                master.unlink(missing_ok=True)

    def _master(self, task: Task) -> tuple[Path, bool]:
        """The staged master, or (once uploaded and gone from the spool) a copy fetched
        from storage and checked against the hash recorded when it was staged."""
        staged = Path(task.master_path)
        if staged.exists():
            return staged, False
        if not task.master_key:
            raise Undecodable("the master is neither staged nor uploaded: add the track again")
        fetched = self.folder / f"{task.track_id}.{new_id()[:8]}.master"
        try:
            self.store.fetch(task.master_key, fetched)
            read_checked(fetched, task.master_size, task.master_sha256)  # raises if it differs
        except PermanentStorageError as exc:
            fetched.unlink(missing_ok=True)
            if not task.master_uploaded:  # its upload may still land it: try again later
                raise WorkerFailed(
                    f"the master is not staged nor stored yet: {exc.message}"
                ) from None
            raise Undecodable(f"the uploaded master cannot be read back: {exc.message}") from None
        except BaseException:
            fetched.unlink(missing_ok=True)
            raise
        return fetched, True

    def _in_worker(self, task: Task, request: Request) -> Outcome:
        receive, send = multiprocessing.Pipe(duplex=False)
        arguments = (request, send, os.getpid())
        worker = _spawner().Process(target=entry.work, args=arguments, daemon=True)
        worker.start()  # the first one waits for the forkserver to start (a second or so)
        send.close()
        try:
            if not processing.extend(self.ctx, task, self.owner, self.config.lease):
                raise Abandoned("the lease ran out while the worker started")
            return self._wait(task, worker, receive)
        finally:
            if worker.is_alive():
                worker.kill()
            worker.join()
            receive.close()

    def _wait(
        self, task: Task, worker: Any, receive: multiprocessing.connection.Connection
    ) -> Outcome:
        """The worker's answer, keeping the lease alive meanwhile."""
        every = self.config.lease.total_seconds() / 3
        extended = time.monotonic()
        while not receive.poll(min(every, 1.0)):
            if self.abort.is_set():
                raise Abandoned("shutting down")
            if not worker.is_alive() and not receive.poll(0):
                raise WorkerFailed(f"the worker process ended (exit {worker.exitcode})")
            if time.monotonic() - extended >= every:
                if not processing.extend(self.ctx, task, self.owner, self.config.lease):
                    raise Abandoned("another daemon took the task over")
                extended = time.monotonic()
        try:
            kind, value = receive.recv()
        except EOFError:
            raise WorkerFailed(f"the worker process died (exit {worker.exitcode})") from None
        if kind == "undecodable":
            raise Undecodable(value)
        if kind == "failed":
            raise WorkerFailed(value)
        return value

    # --- recording ---------------------------------------------------------------------

    def _record(self, task: Task, outcome: Outcome) -> None:
        if not record_outcome(self.ctx, task, self.owner, outcome, self.folder):
            raise Abandoned("the track, its master or the lease changed meanwhile")

    def _fail(self, task: Task, error: str, *, permanent: bool) -> None:
        try:
            recorded = processing.fail(self.ctx, task, self.owner, error, permanent=permanent)
        except VwazaError as exc:
            log.error("cannot record the failure of %s (%s)", task.track_id, exc.message)
            return
        if not recorded:
            log.warning("lease on processing of %s lost before its failure", task.track_id)
        elif permanent:
            log.error("processing of track %s FAILED: %s", task.track_id, error)
        else:
            log.warning("processing of track %s failed, will retry: %s", task.track_id, error)


def record_outcome(ctx: Context, task: Task, owner: str, outcome: Outcome, folder: Path) -> bool:
    """Rename the renditions into the spool (fsynced), then record them with the analysis
    in one fenced transaction; False, and the files gone, when that was refused.

    Before the first rename, what is about to land is written down in ``folder`` (the
    daemon's own, see settle_intents): if the daemon dies before the record commits, or
    the record raises (its commit may have happened or not), the files stay until that
    is settled against the store, instead of being guessed at here."""
    planned = _planned(ctx, outcome.renditions)
    intent = _write_intent(folder, task.track_id, owner, [str(target) for _, _, target in planned])
    made = _into_spool(ctx, planned)
    recorded = processing.record(ctx, task, owner, outcome.analysis, made)  # raises: kept
    if not recorded:
        spool.discard([m.staged.path for m in made])
    intent.unlink()
    return recorded


def _planned(ctx: Context, renditions: tuple[Rendition, ...]) -> list[tuple[str, Rendition, Path]]:
    """Each rendition's job ID and the spool path it lands at."""
    planned = []
    for rendition in renditions:
        job_id = new_id()
        planned.append(
            (job_id, rendition, ctx.settings.spool_dir / f"{job_id}.{rendition.extension}")
        )
    return planned


def _into_spool(ctx: Context, planned: list[tuple[str, Rendition, Path]]) -> list[Made]:
    made: list[Made] = []
    try:
        for job_id, rendition, target in planned:
            temp = spool.StagedFile(Path(rendition.path), rendition.sha256, rendition.size)
            staged = spool.commit(ctx.settings, temp, target.name, sync_folder=False)
            made.append(
                Made(job_id, rendition.kind, staged, rendition.content_type, rendition.extension)
            )
        spool.fsync_dir(ctx.settings.spool_dir)
    except BaseException:
        spool.discard([m.staged.path for m in made] + [r.path for _, r, _ in planned])
        raise
    return made


# --- what a recording leaves when it does not finish -----------------------------------------


def _write_intent(folder: Path, track_id: str, owner: str, paths: list[str]) -> Path:
    """The spool files a recording is about to put down, durable before the first rename."""
    intent = folder / f"{new_id()}{INTENT}"
    temp = intent.with_suffix(".tmp")
    with open(temp, "w", encoding="utf-8") as out:
        json.dump({"track_id": track_id, "owner": owner, "paths": paths}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, intent)
    spool.fsync_dir(folder)
    return intent


def settle_intents(ctx: Context, folder: Path) -> tuple[int, bool]:
    """For each recording ``folder`` holds that did not finish: fence its owner out, then
    remove the spool files it put down that no job names (services.processing
    .settle_unrecorded). Returns how many files went, and whether every one was settled
    (False while the store cannot be reached: they stay for the next try). Only for
    folders no thread is recording in: a dead daemon's, or one's own once its threads
    have stopped."""
    removed, settled = 0, True
    for intent in sorted(folder.glob(f"*{INTENT}")):
        try:
            written = json.loads(intent.read_text(encoding="utf-8"))
            track_id, owner, paths = written["track_id"], written["owner"], written["paths"]
        except (OSError, ValueError, KeyError, TypeError):
            intent.unlink(missing_ok=True)  # torn while written: nothing was renamed yet
            continue
        try:
            removed += spool.discard(processing.settle_unrecorded(ctx, track_id, owner, paths))
        except VwazaError as exc:
            log.warning(
                "cannot settle an unfinished recording of %s yet: %s", track_id, exc.message
            )
            settled = False
            continue
        intent.unlink(missing_ok=True)
    return removed, settled


def _clear_folder(ctx: Context, folder: Path) -> int:
    """Settle what ``folder`` holds, then remove it (or, when something could not be
    settled, everything but the intents and the lock); returns how many files went."""
    removed, settled = settle_intents(ctx, folder)
    if settled:
        removed += sum(1 for p in folder.iterdir() if p.name != LOCK)
        shutil.rmtree(folder, ignore_errors=True)
        return removed
    for path in folder.iterdir():
        if path.name != LOCK and not path.name.endswith(INTENT):
            removed += spool.discard([path]) if path.is_file() else 0
    return removed


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, VwazaError) else str(exc) or type(exc).__name__


# --- the folder ------------------------------------------------------------------------------


def processing_root(ctx: Context) -> Path:
    return ctx.settings.spool_dir / FOLDER


def own_folder(ctx: Context, owner: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in owner)
    return processing_root(ctx) / safe


def sweep_abandoned(ctx: Context) -> int:
    """Clear the folders of daemons that are gone (their lock is free): temp files, and
    renditions whose recording they did not finish; returns how many files went. A live
    daemon's folder stays, whatever its age."""
    root = processing_root(ctx)
    if not root.is_dir():
        return 0
    return sum(
        _clear_folder(ctx, folder)
        for folder in root.iterdir()
        if folder.is_dir() and _unlocked(folder / LOCK)
    )


def _unlocked(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
