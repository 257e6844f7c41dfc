"""`vwaza-daemon`: upload staged files until stopped (or, with --once, until none is left).

The signal handler only sets the stop flag; the main thread writes heartbeats, sweeps, and
shuts down: stop claiming, let in-flight uploads finish within the grace period, then give
back what is still running. Exit codes follow cli.md: 0 done (or stopped), 7 when --once
ended with FAILED jobs or the store cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from datetime import timedelta

from daemon.policy import RetryPolicy
from daemon.worker import Daemon, WorkerConfig
from vwaza_cli.errors import VwazaError

log = logging.getLogger("vwaza.daemon")
SWEEP_EVERY_SECONDS = 600.0
STORAGE_RECHECK_SECONDS = 30.0
MAX_CONCURRENCY = 64  # threads; more would only contend for the disk, the network and the store


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="vwaza-daemon",
        description="Upload staged files to object storage; never lose one.",
        epilog="Example: vwaza-daemon --concurrency 4   |   vwaza-daemon --once (for scripts)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="work until no job is PENDING or UPLOADING, then exit "
        "(0: all completed, 7: some FAILED)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=env("VWAZA_CONCURRENCY", "2"),
        help="uploads in parallel (default 2)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=env("VWAZA_POLL_SECONDS", "5"),
        help="seconds between store polls when idle (default 5)",
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=env("VWAZA_LEASE_SECONDS", "60"),
        help="seconds a claim lasts without a heartbeat (default 60)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=env("VWAZA_GRACE_SECONDS", "20"),
        help="seconds in-flight uploads get to finish on shutdown (default 20)",
    )
    parser.add_argument(
        "--retry-base",
        type=float,
        default=env("VWAZA_RETRY_BASE_SECONDS", "2"),
        help="first retry delay ceiling in seconds (default 2)",
    )
    parser.add_argument(
        "--retry-cap",
        type=float,
        default=env("VWAZA_RETRY_CAP_SECONDS", "300"),
        help="longest retry delay in seconds (default 300)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=env("VWAZA_MAX_ATTEMPTS", "20"),
        help="failed attempts before a job is FAILED (file kept; default 20)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=env("VWAZA_STORAGE_TIMEOUT_SECONDS", "60"),
        help="network read/write timeout per request in seconds (default 60)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if args.lease <= 0 or args.max_attempts < 1 or args.poll <= 0 or args.timeout <= 0:
        parser.error("--lease, --max-attempts, --poll and --timeout must be positive")
    if args.grace < 0 or args.retry_base < 0 or args.retry_cap < 0:
        parser.error("--grace, --retry-base and --retry-cap must not be negative")
    return args


def _config(args: argparse.Namespace) -> WorkerConfig:
    return WorkerConfig(
        concurrency=args.concurrency,
        lease=timedelta(seconds=args.lease),
        poll_seconds=args.poll,
        grace_seconds=args.grace,
        policy=RetryPolicy(args.retry_base, args.retry_cap, args.max_attempts),
    )


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        stream=sys.stderr,
    )
    # one line per event of ours, not one per HTTP request of the storage client
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _prepare(daemon: Daemon) -> None:
    """Repairs, then the storage check that decides whether uploads may start."""
    from vwaza_cli.services.sweep import sweep

    report = sweep(daemon.ctx)
    if report.total:
        log.info(
            "sweep removed %d stale temp, %d orphan and %d uploaded leftover file(s)",
            report.stale_temp_files,
            report.orphan_files,
            report.uploaded_leftovers,
        )
    check_storage(daemon)


def check_storage(daemon: Daemon) -> bool:
    """A wrong key, URL or bucket would fail every job: claim none until storage accepts us.
    A transient failure does not hold uploads back (each job retries with backoff)."""
    from vwaza_cli.errors import StorageError

    try:
        daemon.store.ensure_bucket()
    except StorageError as exc:
        if not exc.transient:
            if daemon.ready.is_set() or daemon.ready_checked is False:
                log.error("storage refuses us, no upload starts until fixed: %s", exc.message)
            daemon.ready.clear()
            daemon.ready_checked = True
            return False
        log.warning("storage not reachable yet: %s", exc.message)
    daemon.ready_checked = True
    daemon.ready.set()
    return True


def _heartbeat(daemon: Daemon, stopped: bool = False) -> None:
    from vwaza_cli.services import daemon_status

    try:
        daemon_status.beat(daemon.ctx, daemon.owner, os.getpid(), daemon.in_flight, stopped)
    except VwazaError as exc:
        log.warning("heartbeat not written: %s", exc.message)


def _remove_deleted_objects(daemon: Daemon) -> None:
    from vwaza_cli.services import queue

    try:
        removed = queue.remove_deleted_objects(daemon.ctx, daemon.store.remove)
    except VwazaError as exc:
        log.warning("cannot remove deleted objects yet: %s", exc.message)
        return
    if removed:
        log.info("removed %d object(s) whose release, track or cover was deleted", removed)


def _drained(daemon: Daemon) -> bool:
    from vwaza_cli.services import queue

    try:
        return queue.outstanding(daemon.ctx) == 0
    except VwazaError:
        return False


def supervise(daemon: Daemon, once: bool) -> None:
    """The main thread: heartbeats, periodic sweeps, and the end of --once."""
    from vwaza_cli.services.daemon_status import HEARTBEAT_SECONDS

    last_sweep = last_check = last_beat = time.monotonic()
    _heartbeat(daemon)
    while not daemon.stop.is_set():
        idle = daemon.in_flight == 0
        if time.monotonic() - last_beat >= HEARTBEAT_SECONDS or (once and idle):
            if daemon.ready.is_set():
                _remove_deleted_objects(daemon)
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                _heartbeat(daemon)
                last_beat = time.monotonic()
        if not daemon.ready.is_set() and time.monotonic() - last_check > STORAGE_RECHECK_SECONDS:
            check_storage(daemon)
            last_check = time.monotonic()
        if once and idle and _drained(daemon):
            daemon.stop.set()
            break
        if time.monotonic() - last_sweep > SWEEP_EVERY_SECONDS:
            _prepare(daemon)
            last_sweep = time.monotonic()
        daemon.stop.wait(0.2 if once else 1.0)


def shut_down(daemon: Daemon, threads: list[threading.Thread]) -> None:
    daemon.stop.set()
    daemon.wake.set()
    deadline = time.monotonic() + daemon.config.grace_seconds
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    if any(t.is_alive() for t in threads):
        log.warning("grace period over: giving back in-flight uploads")
        daemon.abort.set()
        for thread in threads:
            thread.join(30)
    _heartbeat(daemon, stopped=True)


def _failed_count(daemon: Daemon) -> int:
    from vwaza_cli.db import jobs

    with daemon.ctx.tx() as session:
        return jobs.count_by_status(session, daemon.ctx.settings.machine_id)["FAILED"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _setup_logging(args.quiet)
    from vwaza_cli.services.context import Context
    from vwaza_cli.storage import Timeouts, open_store

    timeouts = Timeouts(connect=min(10.0, args.timeout), read=args.timeout, write=args.timeout)
    try:
        ctx = Context.from_environment()
        daemon = Daemon(ctx, open_store(ctx.settings, timeouts=timeouts), _config(args))
        _prepare(daemon)
    except VwazaError as exc:
        log.error("%s", exc.message)
        return exc.exit_code
    if args.once and not daemon.ready.is_set():
        daemon.store.close()
        return 7  # nothing was claimed: every file is still queued
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: (daemon.stop.set(), daemon.wake.set()))
    from daemon.watcher import watch_spool

    observer = watch_spool(ctx.settings.spool_dir, daemon.wake)
    threads = [
        threading.Thread(target=daemon.run_thread, name=f"upload-{n}", daemon=True)
        for n in range(args.concurrency)
    ]
    log.info(
        "vwaza-daemon %s on %s: %d upload thread(s), storage %s",
        daemon.owner,
        ctx.settings.machine_id,
        args.concurrency,
        daemon.store.name,
    )
    for thread in threads:
        thread.start()
    try:
        supervise(daemon, args.once)
    finally:
        shut_down(daemon, threads)
        if observer is not None:
            observer.stop()
        daemon.store.close()
    if args.once and _failed_count(daemon):
        log.error("some jobs FAILED: see `vwaza jobs list --status FAILED`")
        return 7
    log.info("stopped")
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
