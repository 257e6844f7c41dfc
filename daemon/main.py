"""`vwaza-daemon`: upload staged files until stopped (or, with --once, until none is left).

The options, the logging and the exit code; the daemon itself is daemon.worker.Worker.
A signal only asks the worker to stop. Exit codes follow cli.md: 0 done (or stopped), 7
when --once ended with FAILED jobs or the store cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NoReturn

from daemon.policy import RetryPolicy
from daemon.processing import default_workers
from daemon.worker import Worker, WorkerConfig
from vwaza_cli import __version__
from vwaza_cli.client import refuse_on_a_client
from vwaza_cli.errors import VwazaError
from vwaza_cli.services import processing, queue
from vwaza_cli.services.context import Context
from vwaza_cli.storage import Timeouts, open_store

log = logging.getLogger("vwaza.daemon")
MAX_CONCURRENCY = 64  # threads; more would only contend for the disk, the network and the store


# option, its type, the environment variable that sets its default, that default, help
_NUMBERS: tuple[tuple[str, type[int] | type[float], str, str, str], ...] = (
    ("--concurrency", int, "VWAZA_CONCURRENCY", "2", "uploads in parallel (default 2)"),
    (
        "--processing-workers",
        int,
        "VWAZA_PROCESSING_WORKERS",
        str(default_workers()),
        "worker processes measuring and encoding tracks (default: the number of cores)",
    ),
    (
        "--poll",
        float,
        "VWAZA_POLL_SECONDS",
        "5",
        "seconds between store polls when idle (default 5)",
    ),
    (
        "--lease",
        float,
        "VWAZA_LEASE_SECONDS",
        "60",
        "seconds a claim lasts without a heartbeat (default 60)",
    ),
    (
        "--grace",
        float,
        "VWAZA_GRACE_SECONDS",
        "20",
        "seconds in-flight uploads get to finish on shutdown (default 20)",
    ),
    (
        "--retry-base",
        float,
        "VWAZA_RETRY_BASE_SECONDS",
        "2",
        "first retry delay ceiling in seconds (default 2)",
    ),
    (
        "--retry-cap",
        float,
        "VWAZA_RETRY_CAP_SECONDS",
        "300",
        "longest retry delay in seconds (default 300)",
    ),
    (
        "--max-attempts",
        int,
        "VWAZA_MAX_ATTEMPTS",
        "20",
        "failed attempts before a job is FAILED (file kept; default 20)",
    ),
    (
        "--timeout",
        float,
        "VWAZA_STORAGE_TIMEOUT_SECONDS",
        "60",
        "network read/write timeout per request in seconds (default 60)",
    ),
)


class _Parser(argparse.ArgumentParser):
    """argparse in the style of `vwaza`: `Usage: vwaza-daemon [OPTIONS]`, values named by
    their kind (`--concurrency INTEGER`, `--poll SECONDS`), and a usage error as one
    `error:` line, the usage and where to get help (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n{self.format_usage()}Try '{self.prog} -h' for help.\n")


class _Format(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)  # `--max-attempts INTEGER` on its line

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "Usage: " if prefix is None else prefix)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vwaza-daemon",
        usage="%(prog)s [OPTIONS]",
        formatter_class=_Format,
        description="Upload staged files to object storage; never lose one.",
        epilog="Example: vwaza-daemon --concurrency 4   |   vwaza-daemon --once (for scripts)",
        add_help=False,
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="work until no job is PENDING or UPLOADING, then exit "
        "(0: all completed, 7: some FAILED)",
    )
    for option, kind, variable, default, text in _NUMBERS:
        parser.add_argument(
            option,
            type=kind,
            default=os.environ.get(variable, default),
            metavar="INTEGER" if kind is int else "SECONDS",  # every float option is seconds
            help=text,
        )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    parser.add_argument(
        "--version",
        action="version",
        version=f"vwaza-daemon {__version__}",
        help="show the version and exit",
    )
    parser.add_argument("-h", "--help", action="help", help="show this message and exit")
    return parser


def _out_of_range(args: argparse.Namespace) -> str | None:
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        return f"--concurrency must be between 1 and {MAX_CONCURRENCY}"
    if not 1 <= args.processing_workers <= MAX_CONCURRENCY:
        return f"--processing-workers must be between 1 and {MAX_CONCURRENCY}"
    if args.lease <= 0 or args.max_attempts < 1 or args.poll <= 0 or args.timeout <= 0:
        return "--lease, --max-attempts, --poll and --timeout must be positive"
    if args.grace < 0 or args.retry_base < 0 or args.retry_cap < 0:
        return "--grace, --retry-base and --retry-cap must not be negative"
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    problem = _out_of_range(args)
    if problem:
        parser.error(problem)
    return args


def _config(args: argparse.Namespace) -> WorkerConfig:
    return WorkerConfig(
        concurrency=args.concurrency,
        lease=timedelta(seconds=args.lease),
        poll_seconds=args.poll,
        grace_seconds=args.grace,
        policy=RetryPolicy(args.retry_base, args.retry_cap, args.max_attempts),
        once=args.once,
        processing_workers=args.processing_workers,
    )


def _timeouts(args: argparse.Namespace) -> Timeouts:
    return Timeouts(connect=min(10.0, args.timeout), read=args.timeout, write=args.timeout)


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        stream=sys.stderr,
    )
    # one line per event of ours, not one per HTTP request of the storage client
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _prepared_worker(args: argparse.Namespace) -> Worker:
    """The worker, its spool swept and its storage checked (VwazaError if impossible)."""
    ctx = Context.from_environment()
    worker = Worker(ctx, open_store(ctx.settings, timeouts=_timeouts(args)), _config(args))
    worker.prepare()
    if args.once:  # a script waits for the end: an unusable store ends it now (exit 7)
        queue.outstanding(ctx)
    return worker


def _stop_on_signals(worker: Worker) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())


def _exit_code(worker: Worker, once: bool) -> int:
    if once and queue.failed_count(worker.ctx):
        log.error("some jobs FAILED: see `vwaza jobs list --status FAILED`")
        return 7
    if once and processing.failed_count(worker.ctx):
        log.error("some tracks could not be processed: see `vwaza release show` for why")
        return 7
    if once and not worker.storage.is_open:
        return 7  # nothing could go up, even if nothing was waiting
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _setup_logging(args.quiet)
    try:
        refuse_on_a_client("vwaza-daemon")  # a client's files are staged on the server
        worker = _prepared_worker(args)
    except VwazaError as exc:
        log.error("%s", exc.message)
        return exc.exit_code
    _stop_on_signals(worker)
    worker.run()
    return _exit_code(worker, args.once)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
